package adapter

import (
	"context"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
)

// StatsInterval is how often the adapter should report dataplane counters
// (Config.StatsInterval); 0: never.
func (a *Adapter) StatsInterval() time.Duration {
	return max(a.cfg.StatsInterval, 0)
}

// ReportStats sends the core a batch of dataplane counters read from
// parent device r.device_id and the devices behind it (flows by the ids
// the core gave them, ports, meters). The core keeps those of devices,
// flows, ports and meters it knows and answers how many it kept and
// dropped.
func (a *Adapter) ReportStats(ctx context.Context, r *adapterv1.StatsReport) (*adapterv1.StatsReportResult, error) {
	return a.Core().ReportStats(ctx, r)
}
