package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/frameio"
	"github.com/openvolt/openvolt/internal/ponsim"
)

func newPonsimCmd() *cobra.Command {
	var (
		cfg       ponsim.Config
		addr      string
		nniIface  string
		uniIfaces string
		logs      daemon.LogFlags
	)
	cmd := &cobra.Command{
		Use:   "ponsim",
		Short: "Run the PON simulator: one OLT with its PON ports and ONUs, on the PonSim gRPC API",
		Long: `Run the PON simulator: one OLT with --pon-ports PON ports and --onus-per-pon
ONUs on each. Serial numbers and MAC addresses derive from --name, so a
restart with the same name presents the same devices.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			reg, err := logs.Registry()
			if err != nil {
				return err
			}
			cfg.Logger = reg.Logger("ponsim")
			sim, err := ponsim.New(cfg)
			if err != nil {
				return err
			}
			defer sim.Close()
			ports, err := bindInterfaces(sim, nniIface, daemon.List(uniIfaces), reg.Logger("frameio"))
			if err != nil {
				return err
			}
			defer ports.close()
			return sim.Serve(cmd.Context(), addr, reg, nil)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Name, "name", daemon.Env("VOLT_PONSIM_NAME", ponsim.DefaultName), "OLT name; serial numbers and MACs derive from it")
	fs.StringVar(&addr, "grpc", daemon.Env("VOLT_PONSIM_GRPC", "127.0.0.1:50060"), "gRPC listen address of the PonSim API")
	fs.IntVar(&cfg.PONPorts, "pon-ports", 1, fmt.Sprintf("number of OLT PON ports (1..%d)", ponsim.MaxPONPorts))
	fs.IntVar(&cfg.ONUsPerPON, "onus-per-pon", 4, fmt.Sprintf("number of ONUs on each PON port (1..%d)", ponsim.MaxONUsPerPON))
	fs.DurationVar(&cfg.RebootDelay, "reboot-delay", ponsim.DefaultRebootDelay, "how long a rebooted OLT or ONU stays away")
	fs.StringVar(&nniIface, "nni-iface", "", "bind the OLT's NNI to this network interface (AF_PACKET; needs root)")
	fs.StringVar(&uniIfaces, "uni-ifaces", "", "bind the ONUs' UNIs, in order, to these interfaces (comma-separated)")
	logs.AddFlags(fs)
	return cmd
}

// boundPorts are the raw interfaces a simulator is bound to.
type boundPorts struct {
	bind *ponsim.Ports
	raw  []*frameio.RawPort
}

func (b *boundPorts) close() {
	if b.bind != nil {
		b.bind.Close()
	}
	for _, r := range b.raw {
		r.Close()
	}
}

// bindInterfaces opens the named interfaces and binds the simulator's NNI
// and UNIs to them.
func bindInterfaces(sim *ponsim.Sim, nni string, unis []string, log *slog.Logger) (*boundPorts, error) {
	b := &boundPorts{}
	open := func(name string) (frameio.Port, error) {
		p, err := frameio.Open(name, frameio.Options{Logger: log})
		if err != nil {
			b.close()
			return nil, fmt.Errorf("ponsim: open interface %s: %w", name, err)
		}
		b.raw = append(b.raw, p)
		return p, nil
	}
	var nniPort frameio.Port
	if nni != "" {
		var err error
		if nniPort, err = open(nni); err != nil {
			return nil, err
		}
	}
	uniPorts := make([]frameio.Port, 0, len(unis))
	for _, name := range unis {
		p, err := open(name)
		if err != nil {
			return nil, err
		}
		uniPorts = append(uniPorts, p)
	}
	if nniPort == nil && len(uniPorts) == 0 {
		return b, nil
	}
	bind, err := sim.Bind(nniPort, uniPorts)
	if err != nil {
		b.close()
		return nil, err
	}
	b.bind = bind
	return b, nil
}
