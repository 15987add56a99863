package omcionu

import (
	"context"
	"encoding/json"
	"time"

	"github.com/openvolt/openvolt/internal/omci"
)

// The ONU's records in the core's store, which the core's NBI reads
// (volt device mib, volt device omci):
//
//	<prefix>/omci_onu/<device id>/mib   the MIB as uploaded (mibRecord)
//	<prefix>/omci_onu/<device id>/sync  its MIB data sync counter now (state.go)
//	<prefix>/omci_onu/<device id>/omci  the engine's counters (Stats)

// Stats is the stored form of an ONU's OMCI counters.
type Stats struct {
	omci.Counters
	Updated time.Time `json:"updated"`
}

// MIBKey and StatsKey are where the records of device dev are kept.
func MIBKey(prefix, dev string) string   { return keyOf(prefix, dev) + "mib" }
func StatsKey(prefix, dev string) string { return keyOf(prefix, dev) + "omci" }

// saveStats records the engine's counters; a failure is only logged (the
// counters are a view, the ONU works without them).
func (u *onu) saveStats(ctx context.Context) {
	b, err := json.Marshal(Stats{Counters: u.eng.Counters(), Updated: time.Now().UTC()})
	if err == nil {
		_, err = u.h.opts.KV.Put(context.WithoutCancel(ctx), StatsKey(u.h.opts.Prefix, u.id), b)
	}
	if err != nil {
		u.log.Warn("storing the OMCI counters", "err", err)
	}
}
