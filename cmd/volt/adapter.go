package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/adapters/ponsimonu"
	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// newAdapterCmd returns `volt adapter`: the client's `list` (from
// cli.NewAdapterCommand) and the adapter daemons. It replaces
// cli.NewAdapterCommand() on the root command.
func newAdapterCmd() *cobra.Command {
	cmd := cli.NewAdapterCommand()
	cmd.Short = "Run an adapter, or list the adapters registered with the core"
	cmd.Long = "Run an adapter (ponsim-olt, ponsim-onu), or list the adapters registered with the core\nand the device types they serve."
	addAdapterDaemons(cmd)
	return cmd
}

// addAdapterDaemons adds `ponsim-olt` and `ponsim-onu` to an `adapter`
// command.
func addAdapterDaemons(cmd *cobra.Command) {
	cmd.AddCommand(
		newAdapterDaemonCmd("ponsim-olt", "Run the ponsim_olt adapter: simulated OLTs, reached over the PonSim API",
			ponsimolt.Topic, ponsimolt.Run),
		newAdapterDaemonCmd("ponsim-onu", "Run the ponsim_onu adapter: the ONUs behind simulated OLTs",
			ponsimonu.Topic, ponsimonu.Run),
		newOpenOLTCmd(),
		newOMCIONUCmd(),
	)
}

// newAdapterDaemonCmd is one adapter daemon: flags into an adapter.Config,
// then run until the command's context ends (SIGINT, SIGTERM).
func newAdapterDaemonCmd(use, short, topic string, run func(context.Context, adapter.Config) error) *cobra.Command {
	var (
		cfg     adapter.Config
		brokers string
	)
	cmd := logged(&cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

The adapter serves the core's calls on its Kafka topic (` + topic + `), registers
with the core (retrying until the core answers, then every 10s as a
heartbeat), and serves gRPC health, reflection and the LogService on --grpc.`,
		Args: cobra.NoArgs,
	}, false, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		cfg.Brokers = daemon.List(brokers)
		return run(cmd.Context(), cfg)
	})
	fs := cmd.Flags()
	addBrokersFlag(fs, &brokers, "127.0.0.1:9092", "")
	addAdapterFlags(fs, &cfg, true)
	return cmd
}

// addAdapterFlags adds the flags every adapter command shares; stats adds
// --stats-interval (adapters that report dataplane counters).
func addAdapterFlags(fs *pflag.FlagSet, cfg *adapter.Config, stats bool) {
	fs.StringVar(&cfg.GRPC, "grpc", daemon.Env("VOLT_ADAPTER_GRPC", adapter.DefaultGRPC), "gRPC listen address for health, reflection and the LogService")
	daemon.AddHTTPFlag(fs, &cfg.HTTP, "")
	fs.StringVar(&cfg.CoreTopic, "core-topic", daemon.Env("VOLT_CORE_TOPIC", adapter.DefaultCoreTopic), "Kafka topic of the core")
	fs.StringVar(&cfg.InstanceID, "instance-id", daemon.Env("VOLT_INSTANCE_ID", ""), instanceIDUsage)
	if stats {
		fs.DurationVar(&cfg.StatsInterval, "stats-interval", adapter.DefaultStatsInterval, "how often dataplane counters (flows, ports, meters) are reported to the core; negative: never")
	}
}

// instanceIDUsage explains --instance-id for the core and the adapters.
const instanceIDUsage = "this replica's static member id in its request topic's consumer group: a restart with the same id takes its partitions back at once instead of waiting out the dead member (unique per live replica, kept across restarts, e.g. the pod name)"
