package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

func newBrokerCmd() *cobra.Command {
	var (
		cfg      broker.Config
		grpc     string
		httpAddr string
	)
	cmd := logged(&cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-protocol broker (for development, tests and volt up)",
		Long: `Run an embedded Kafka-protocol broker (kfake from franz-go) that speaks the
real wire protocol and creates topics on first use. Topics live in memory:
they are gone when the broker stops. Any Kafka client, kcat included, can use
it; production points OpenVOLT at a Kafka cluster instead.`,
		Args: cobra.NoArgs,
	}, false, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logger = reg.Logger("broker")
		ctx := cmd.Context()
		tel, stopHTTP, err := serveTelemetry(ctx, httpAddr, reg, "broker/serving")
		if err != nil {
			return err
		}
		defer stopHTTP()
		srv, err := daemon.ListenGRPC(grpc, reg)
		if err != nil {
			return err
		}
		srv.ReportTo(tel.Readiness, "broker")
		b, err := broker.Start(ctx, cfg)
		if err != nil {
			return err
		}
		defer b.Close()
		cfg.Logger.Info("broker listening", "addrs", strings.Join(b.Addrs(), ","), "partitions", cfg.Partitions, "grpc", srv.Addr())
		return srv.Serve(ctx)
	})
	fs := cmd.Flags()
	fs.StringVar(&cfg.Listen, "listen", daemon.Env("VOLT_BROKER_LISTEN", broker.DefaultListen), "Kafka listen address (port 0 picks a free port)")
	fs.StringVar(&cfg.Advertise, "advertise", daemon.Env("VOLT_BROKER_ADVERTISE", ""), "host clients are told to connect to (default: the listen host, or 127.0.0.1)")
	fs.IntVar(&cfg.Partitions, "partitions", broker.DefaultPartitions, "partitions of auto-created topics")
	daemon.AddHTTPFlag(fs, &httpAddr, "")
	fs.StringVar(&grpc, "grpc", daemon.Env("VOLT_GRPC", "127.0.0.1:0"), "gRPC address for health, reflection and the LogService")
	return cmd
}
