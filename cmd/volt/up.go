package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/ofagent"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
)

func newUpCmd() *cobra.Command {
	var (
		cfg       stack.Config
		sim       stack.PonSim
		uniIfaces string
		ctrls     string
		ofListen  string
		provision bool
		perDevice bool
		memMiB    int
	)
	cmd := logged(&cobra.Command{
		Use:   "up",
		Short: "Run the whole stack in one process: etcd, broker, core, ponsim, adapters",
		Long: `Run the whole stack on one machine: an embedded etcd (data in --data-dir), an
embedded Kafka-protocol broker, the core, a simulated OLT (ponsim) and both ponsim
adapters, each talking over its real transport. Run again on the same data
directory, it resumes the same devices.

With --olt-type openolt the simulated OLT is driven over its openolt face by the
openolt adapter (the adapter real OLTs and BBSim take), and --provision creates
an OLT of type openolt.`,
		Args: cobra.NoArgs,
	}, false, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		if err := setStackMemoryLimit(memMiB, sim.PONPorts*sim.ONUsPerPON); err != nil {
			return err
		}
		sim.UNIIfaces = daemon.List(uniIfaces)
		controllers := daemon.List(ctrls)
		cfg.Telemetry = daemon.NewTelemetry()
		cfg.Telemetry.PerDevice = perDevice
		cfg.OFAgent = func(ctx context.Context, nbi string, ready func(string)) error {
			return ofagent.Run(ctx, ofagent.Config{Server: nbi, Controllers: controllers, Listen: ofListen, Logs: reg, Ready: ready, Telemetry: cfg.Telemetry})
		}
		cfg.PonSims = []stack.PonSim{sim}
		out := cmd.OutOrStdout()
		return stack.Run(cmd.Context(), cfg, func(a stack.Addrs) {
			fmt.Fprintf(out, "OpenVOLT is up: NBI %s, Kafka %s, ponsim %s, data in %s\n", a.NBI, a.Brokers[0], a.PonSims[0], cfg.DataDir)
			fmt.Fprintf(out, "OpenFlow agent: dialing %s, listening on %s (ovs-ofctl -O OpenFlow13 show tcp:%s)\n",
				ctrls, a.OFListen, a.OFListen)
			if a.HTTP != "" {
				fmt.Fprintf(out, "Prometheus metrics: http://%s/metrics (probes /healthz, /readyz)\n", a.HTTP)
			}
			ld := ""
			if provision {
				ld = provisionOLT(cmd.Context(), out, a, cfg.OLTType)
			}
			fmt.Fprint(out, tryHints(selfCommand(os.Args[0]), a, ld))
		})
	})
	fs := cmd.Flags()
	fs.StringVar(&cfg.DataDir, "data-dir", daemon.Env("VOLT_DATA_DIR", ".volt"), "data directory of the embedded etcd")
	addMemoryLimitFlag(fs, &memMiB)
	fs.StringVar(&cfg.NBI, "nbi", daemon.Env("VOLT_NBI", "127.0.0.1:50057"), "gRPC listen address of the NBI")
	fs.StringVar(&cfg.EtcdListen, "etcd-listen", "http://127.0.0.1:2379", "client URL of the embedded etcd")
	fs.StringVar(&cfg.BrokerListen, "broker-listen", "127.0.0.1:9092", "listen address of the embedded Kafka-protocol broker")
	fs.StringVar(&sim.Name, "ponsim-name", "ponsim", "name of the simulated OLT (its serials and MACs derive from it)")
	fs.StringVar(&sim.GRPC, "ponsim", "127.0.0.1:50060", "listen address of the simulated OLT")
	fs.IntVar(&sim.PONPorts, "pon-ports", 1, fmt.Sprintf("PON ports of the simulated OLT (1..%d)", ponsim.MaxPONPorts))
	fs.IntVar(&sim.ONUsPerPON, "onus-per-pon", 4, fmt.Sprintf("ONUs on each PON port (1..%d)", ponsim.MaxONUsPerPON))
	fs.StringVar(&sim.NNIIface, "nni-iface", "", "bind the simulated OLT's NNI to this network interface (needs root)")
	fs.StringVar(&uniIfaces, "uni-ifaces", "", "bind the simulated ONUs' UNIs, in order, to these interfaces (comma-separated)")
	fs.StringVar(&ctrls, "controller", "127.0.0.1:6653", "OpenFlow controllers the agent dials (comma-separated; retried quietly)")
	fs.StringVar(&ofListen, "ofagent-listen", "127.0.0.1:6634", "passive OpenFlow listener of the agent (empty: none)")
	daemon.AddHTTPFlag(fs, &cfg.HTTP, daemon.DefaultHTTP)
	addPerDeviceFlag(fs, &perDevice)
	fs.BoolVar(&provision, "provision", false, "create and enable the OLT of the bundled ponsim")
	fs.StringVar(&cfg.OLTType, "olt-type", daemon.Env("VOLT_OLT_TYPE", stack.OLTType),
		"how the bundled ponsim is driven: ponsim_olt (PonSim API, ponsim adapters) or openolt (its openolt face, the openolt adapter)")
	return cmd
}

// selfCommand is how the user ran this binary, to repeat in hints: "volt"
// when found on the PATH, "go run ./cmd/volt" from go run, else the path as
// typed (bin/volt).
func selfCommand(arg0 string) string {
	if strings.Contains(arg0, "go-build") || strings.HasPrefix(arg0, os.TempDir()+string(filepath.Separator)+"go-") {
		return "go run ./cmd/volt"
	}
	return arg0
}

// tryHints are the commands `volt up` suggests: each works as printed, with
// --server when the NBI is not the default, and the logical device's id
// when the OLT was provisioned.
func tryHints(volt string, a stack.Addrs, ld string) string {
	server := ""
	if a.NBI != cli.DefaultServer {
		server = " --server " + a.NBI
	}
	var b strings.Builder
	b.WriteString("Try, in another terminal:\n")
	line := func(format string, args ...any) { fmt.Fprintf(&b, "  "+format+"\n", args...) }
	line("%s device list%s", volt, server)
	line("%s logicaldevice list%s", volt, server)
	if ld != "" {
		line("%s logicaldevice ports %s%s", volt, ld, server)
	} else {
		line("%s device create --type ponsim_olt --address %s%s", volt, a.PonSims[0], server)
	}
	line("%s events%s", volt, server)
	if a.OFListen != "" {
		line("ovs-ofctl -O OpenFlow13 show tcp:%s", a.OFListen)
	}
	b.WriteString("Stop with Ctrl-C.\n")
	return b.String()
}

// provisionOLT creates and enables the bundled OLT, reports when its ONUs
// are active and returns its logical device's id; it prints what went
// wrong instead of stopping the stack.
func provisionOLT(ctx context.Context, out io.Writer, a stack.Addrs, oltType string) string {
	cc, err := grpc.NewClient(a.NBI, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(out, "provision: %v\n", err)
		return ""
	}
	defer cc.Close()
	nbi := voltv1.NewVoltServiceClient(cc)
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if oltType == "" {
		oltType = stack.OLTType
	}
	id, err := stack.ProvisionType(pctx, nbi, oltType, a.PonSims[0])
	if err != nil {
		fmt.Fprintf(out, "provision: %v\n", err)
		return ""
	}
	fmt.Fprintf(out, "OLT %s at %s enabled\n", id, a.PonSims[0])
	s, err := stack.WaitFor(pctx, nbi, 100*time.Millisecond, func(s stack.Status) bool {
		return s.ONUs > 0 && s.ActiveONUs == s.ONUs && s.UNIPorts == s.ONUs
	})
	if err != nil {
		fmt.Fprintf(out, "provision: waiting for the ONUs: %v\n", err)
		return ""
	}
	fmt.Fprintf(out, "%s\n", s)
	lds, err := nbi.ListLogicalDevices(pctx, &emptypb.Empty{})
	if err != nil {
		return ""
	}
	for _, ld := range lds.GetItems() {
		if ld.GetRootDeviceId() == id {
			return ld.GetId()
		}
	}
	return ""
}
