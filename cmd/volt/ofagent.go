package main

import (
	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/ofagent"
	"github.com/openvolt/openvolt/logging"
)

// newOfagentCmd returns `volt ofagent`: flags into an ofagent.Config, then
// run until the command's context ends (SIGINT, SIGTERM).
func newOfagentCmd() *cobra.Command {
	var (
		cfg         ofagent.Config
		controllers string
		httpAddr    string
	)
	cmd := logged(&cobra.Command{
		Use:   "ofagent",
		Short: "Run the OpenFlow agent: one OpenFlow 1.3 switch per logical device",
		Long: `Run the OpenFlow agent: every logical device of the core appears to SDN
controllers as one OpenFlow 1.3 switch, with the logical device's datapath id.

The agent dials every --controller for every logical device (redialing with
backoff, quietly while nothing listens). With --listen it also listens, so
that ovs-ofctl can connect: PORT serves the first logical device in id order,
PORT+1 the second, and so on (the log says which port serves which device).

Flow-, group- and meter-mods, port-mods and packet-outs go to the core's NBI
(--server); packet-ins, port-status and flow-removed come from it. Bad
messages get an OpenFlow error reply and a log line; the connection stays.`,
		Example: `  volt ofagent --server 127.0.0.1:50057 --controller 127.0.0.1:6653
  volt ofagent --controller 10.0.0.5:6653,10.0.0.6:6653 --listen 127.0.0.1:6634
  ovs-ofctl -O OpenFlow13 dump-ports-desc tcp:127.0.0.1:6634`,
		Args: cobra.NoArgs,
	}, false, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		cfg.Controllers = daemon.List(controllers)
		tel, stopHTTP, err := serveTelemetry(cmd.Context(), httpAddr, reg, "ofagent/synced")
		if err != nil {
			return err
		}
		defer stopHTTP()
		cfg.Telemetry = tel
		return ofagent.Run(cmd.Context(), cfg)
	})
	fs := cmd.Flags()
	fs.StringVar(&cfg.Server, "server", daemon.Env(cli.ServerEnv, cli.DefaultServer), "HOST:PORT of the core's NBI (env "+cli.ServerEnv+")")
	fs.StringVar(&controllers, "controller", daemon.Env("VOLT_OFAGENT_CONTROLLERS", ofagent.DefaultController),
		"controllers to dial, HOST:PORT[,HOST:PORT…]; empty to only listen (env VOLT_OFAGENT_CONTROLLERS)")
	fs.StringVar(&cfg.Listen, "listen", daemon.Env("VOLT_OFAGENT_LISTEN", ""),
		"HOST:PORT to listen on for controllers and ovs-ofctl (PORT+i serves the i-th logical device); empty: none (env VOLT_OFAGENT_LISTEN)")
	fs.StringVar(&cfg.GRPC, "grpc", daemon.Env("VOLT_OFAGENT_GRPC", "127.0.0.1:0"), "gRPC listen address for health, reflection and the LogService")
	daemon.AddHTTPFlag(fs, &httpAddr, "")
	fs.DurationVar(&cfg.EchoInterval, "echo-interval", ofagent.DefaultEchoInterval, "probe an idle controller this often; close after three silent intervals")
	fs.DurationVar(&cfg.MaxBackoff, "max-backoff", ofagent.DefaultMaxBackoff, "longest wait between redials of a controller or the NBI")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", ofagent.DefaultMaxInFlight, "flow-mods one connection may have queued or in the core at once")
	return cmd
}
