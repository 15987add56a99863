package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/logging"
)

func newCoreCmd() *cobra.Command {
	var (
		cfg       core.Config
		etcd      string
		brokers   string
		perDevice bool
	)
	cmd := logged(&cobra.Command{
		Use:   "core",
		Short: "Run the core: devices, logical devices, the NBI, state in etcd",
		Args:  cobra.NoArgs,
	}, false, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		cfg.Etcd = daemon.List(etcd)
		cfg.Brokers = daemon.List(brokers)
		cfg.Telemetry = daemon.NewTelemetry()
		cfg.Telemetry.PerDevice = perDevice
		return core.Run(cmd.Context(), cfg)
	})
	fs := cmd.Flags()
	fs.StringVar(&cfg.NBI, "nbi", daemon.Env("VOLT_NBI", "127.0.0.1:50057"), "gRPC listen address of the NBI")
	fs.StringVar(&etcd, "etcd", daemon.Env("VOLT_ETCD", "127.0.0.1:2379"), `etcd endpoints (comma-separated), or "embedded" to run etcd in-process`)
	fs.StringVar(&cfg.EtcdListen, "etcd-listen", daemon.Env("VOLT_ETCD_LISTEN", "http://127.0.0.1:2379"), "client URL of the embedded etcd")
	fs.IntVar(&cfg.EtcdMaxTxnOps, "etcd-max-txn-ops", kvstore.DefaultMaxTxnOps, "the etcd cluster's --max-txn-ops: the most writes the core puts in one transaction (ignored with an embedded etcd)")
	fs.StringVar(&cfg.DataDir, "data-dir", daemon.Env("VOLT_DATA_DIR", ".volt"), "data directory of the embedded etcd")
	fs.StringVar(&cfg.Prefix, "prefix", daemon.Env("VOLT_PREFIX", "volt"), "key prefix in etcd")
	addBrokersFlag(fs, &brokers, "127.0.0.1:9092", "")
	fs.StringVar(&cfg.Topic, "topic", daemon.Env("VOLT_CORE_TOPIC", core.DefaultTopic), "Kafka topic the core serves adapters on")
	fs.StringVar(&cfg.EventsTopic, "events-topic", core.DefaultEventsTopic, "Kafka topic for change events")
	fs.StringVar(&cfg.InstanceID, "instance-id", daemon.Env("VOLT_INSTANCE_ID", ""), instanceIDUsage+" (default core-<host>-<NBI port>)")
	fs.DurationVar(&cfg.AdapterTimeout, "adapter-timeout", 10*time.Second, "how long a call to an adapter may take")
	daemon.AddHTTPFlag(fs, &cfg.HTTP, daemon.DefaultHTTP)
	addPerDeviceFlag(fs, &perDevice)
	return cmd
}
