package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/omci"
)

// newOMCIONUCmd is `volt adapter omci-onu`: the adapter for ONUs managed
// with OMCI (the children of openolt OLTs).
func newOMCIONUCmd() *cobra.Command {
	var (
		cfg     adapter.Config
		opts    omcionu.Options
		brokers string
		etcd    string
		logs    daemon.LogFlags
	)
	cmd := &cobra.Command{
		Use:   "omci-onu",
		Short: "Run the OMCI ONU adapter: ONUs managed with OMCI (G.988), the children of openolt OLTs",
		Long: `Run the OMCI ONU adapter: device type omci_onu, Kafka topic omci_onu.

Its OMCI frames go through the OLT's adapter (inter-adapter messages). Per ONU
it synchronises the MIB (MIB reset and upload), reads the ONU's identity,
downloads the base configuration, reports the UNIs and makes the ONU ACTIVE;
tech-profile instances from the OLT's adapter become T-CONT, GEM port and
bridge configuration. Each ONU's MIB is kept in the core's etcd under
<prefix>/omci_onu/<device id>/mib, so a restart audits the MIB data sync
counter instead of uploading the MIB again; next to it, small records
(sync, tp/<uni>, vlan/<uni>) keep the counter of the last change and the
tech profiles and VLAN rules that restore service after an ONU reboot, even
across an adapter restart.`,
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
				return fmt.Errorf("omci-onu adapter: %w", err)
			}
			defer kv.Close()
			opts.KV = kv
			return omcionu.Run(cmd.Context(), cfg, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&brokers, "brokers", daemon.Env("VOLT_BROKERS", "127.0.0.1:9092"), "Kafka brokers (comma-separated)")
	fs.StringVar(&etcd, "etcd", daemon.Env("VOLT_ETCD", "127.0.0.1:2379"), "the core's etcd endpoints (comma-separated)")
	fs.StringVar(&opts.Prefix, "prefix", daemon.Env("VOLT_PREFIX", omcionu.DefaultPrefix), "the core's key prefix in etcd")
	fs.DurationVar(&opts.Timeout, "omci-timeout", omci.DefaultTimeout, "how long an OMCI response may take")
	fs.IntVar(&opts.Retries, "omci-retries", omci.DefaultRetries, "how often an unanswered OMCI request is sent again")
	addAdapterFlags(fs, &cfg, false)
	logs.AddFlags(fs)
	return cmd
}
