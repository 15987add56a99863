package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// newOpenOLTCmd is `volt adapter openolt`: the adapter for OLTs that run
// the openolt agent. Beside Kafka it needs the core's etcd, where it
// persists resource ids, flows and tech-profile instances.
func newOpenOLTCmd() *cobra.Command {
	var (
		cfg     adapter.Config
		opts    openolt.Options
		brokers string
		etcd    string
		logs    daemon.LogFlags
	)
	cmd := &cobra.Command{
		Use:   "openolt",
		Short: "Run the openolt adapter: OLTs running the openolt agent (real OLTs, BBSim, ponsim's openolt face)",
		Long: `Run the openolt adapter: OLTs running the openolt agent (real OLTs, BBSim,
ponsim's openolt face), device type openolt, Kafka topic openolt.

It keeps resource ids (ONU, alloc, GEM port and flow ids per PON), flows and
tech-profile instances in the core's etcd under <prefix>/openolt/<olt id>/, so
they survive restarts of the adapter and of the core, and reads tech profiles
from <prefix>/techprofiles/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := logs.Registry()
			if err != nil {
				return err
			}
			cfg.Logs = reg
			cfg.Brokers = daemon.List(brokers)
			endpoints := daemon.List(etcd)
			for i, e := range endpoints {
				if !strings.Contains(e, "://") {
					endpoints[i] = "http://" + e
				}
			}
			kv, err := kvstore.NewEtcd(cmd.Context(), kvstore.Config{Endpoints: endpoints, Logger: reg.Logger("kvstore")})
			if err != nil {
				return fmt.Errorf("openolt adapter: %w", err)
			}
			defer kv.Close()
			opts.KV = kv
			return openolt.Run(cmd.Context(), cfg, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&brokers, "brokers", daemon.Env("VOLT_BROKERS", "127.0.0.1:9092"), "Kafka brokers (comma-separated)")
	fs.StringVar(&etcd, "etcd", daemon.Env("VOLT_ETCD", "127.0.0.1:2379"), "the core's etcd endpoints (comma-separated)")
	fs.StringVar(&opts.Prefix, "prefix", daemon.Env("VOLT_PREFIX", openolt.DefaultPrefix), "the core's key prefix in etcd")
	fs.DurationVar(&opts.HeartbeatInterval, "heartbeat", openolt.DefaultHeartbeatInterval, "how often the OLT's heartbeat is checked")
	fs.IntVar(&opts.HeartbeatMisses, "heartbeat-misses", openolt.DefaultHeartbeatMisses, "failed heartbeat checks in a row after which the OLT is unreachable")
	addAdapterFlags(fs, &cfg, true)
	logs.AddFlags(fs)
	return cmd
}
