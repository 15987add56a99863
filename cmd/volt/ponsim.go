package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/logging"
)

func newPonsimCmd() *cobra.Command {
	var (
		cfg       ponsim.Config
		face      openolt.Config
		addr      string
		httpAddr  string
		nniIface  string
		uniIfaces string
	)
	cmd := logged(&cobra.Command{
		Use:   "ponsim",
		Short: "Run the PON simulator: one OLT with its PON ports and ONUs, on the PonSim and openolt gRPC APIs",
		Long: `Run the PON simulator: one OLT with --pon-ports PON ports and --onus-per-pon
ONUs on each. Serial numbers and MAC addresses derive from --name, so a
restart with the same name presents the same devices. The --grpc port
serves the PonSim API and the openolt API (the one real OLTs and BBSim
serve; every ONU answers OMCI) over the same OLT.`,
		Args: cobra.NoArgs,
	}, false, func(cmd *cobra.Command, reg *logging.Registry) error {
		if err := cfg.Validate(); err != nil {
			return err
		}
		cfg.Logger = reg.Logger("ponsim")
		tel, stopHTTP, err := serveTelemetry(cmd.Context(), httpAddr, reg, "ponsim/"+cfg.Name+"/serving")
		if err != nil {
			return err
		}
		defer stopHTTP()
		cfg.Telemetry = tel
		sim, err := ponsim.New(cfg)
		if err != nil {
			return err
		}
		defer sim.Close()
		face.Logger = reg.Logger("ponsim/openolt")
		if _, err := openolt.Attach(sim, face); err != nil {
			return err
		}
		ports, err := sim.BindInterfaces(nniIface, daemon.List(uniIfaces), reg.Logger("frameio"))
		if err != nil {
			return err
		}
		defer ports.Close()
		return sim.Serve(cmd.Context(), addr, reg, nil)
	})
	fs := cmd.Flags()
	fs.StringVar(&cfg.Name, "name", daemon.Env("VOLT_PONSIM_NAME", ponsim.DefaultName), "OLT name; serial numbers and MACs derive from it")
	fs.StringVar(&addr, "grpc", daemon.Env("VOLT_PONSIM_GRPC", "127.0.0.1:50060"), "gRPC listen address of the PonSim and openolt APIs")
	daemon.AddHTTPFlag(fs, &httpAddr, "")
	fs.IntVar(&cfg.PONPorts, "pon-ports", 1, fmt.Sprintf("number of OLT PON ports (1..%d)", ponsim.MaxPONPorts))
	fs.IntVar(&cfg.ONUsPerPON, "onus-per-pon", 4, fmt.Sprintf("number of ONUs on each PON port (1..%d)", ponsim.MaxONUsPerPON))
	fs.DurationVar(&cfg.RebootDelay, "reboot-delay", ponsim.DefaultRebootDelay, "how long a rebooted OLT or ONU stays away")
	fs.StringVar(&nniIface, "nni-iface", "", "bind the OLT's NNI to this network interface (AF_PACKET; needs root)")
	fs.StringVar(&uniIfaces, "uni-ifaces", "", "bind the ONUs' UNIs, in order, to these interfaces (comma-separated)")
	fs.Float64Var(&face.OMCIDropRate, "omci-drop-rate", 0, "share (0..1) of OMCI responses the openolt face drops, to test retries")
	fs.DurationVar(&face.DiscoveryInterval, "onu-discovery-interval", openolt.DefaultDiscoveryInterval, "how often the openolt face announces ONUs not activated again")
	fs.DurationVar(&face.StatsInterval, "stats-interval", openolt.DefaultStatsInterval, "how often the openolt face sends port and flow statistics indications; negative: never")
	fs.IntVar(&face.UNIsPerONU, "unis-per-onu", 1, "PPTP UNIs in each ONU's OMCI MIB (1..8; the dataplane forwards on the first)")
	return cmd
}
