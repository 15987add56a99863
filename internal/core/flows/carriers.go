package flows

import (
	"context"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
	"github.com/openvolt/openvolt/internal/core/flowtable"
)

// Carrier is the device flow that carries a logical flow: its counters are
// the logical flow's.
type Carrier struct {
	DeviceID string
	FlowID   uint64
}

// Carriers returns, for each logical flow of logical device ldID that has
// device flows, the one whose counters are the logical flow's: the first
// flow (lowest table) on the OLT, the logical device's root device; for a
// flow with no flow on the OLT, the first on the first device by id.
func (m *Manager) Carriers(ctx context.Context, ldID string) (map[uint64]Carrier, error) {
	l, err := m.lock(ctx, ldID)
	if err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	root := map[string]bool{}
	out := make(map[uint64]Carrier, len(l.rules))
	for id, rules := range l.rules {
		if c, ok := m.carrierOf(rules, root); ok {
			out[id] = c
		}
	}
	return out, nil
}

// carrierOf picks the carrier among a logical flow's device flows (see
// Carriers); root caches which devices are roots.
func (m *Manager) carrierOf(rules flowdecomp.Rules, root map[string]bool) (Carrier, bool) {
	var pick string
	for _, dev := range slices.Sorted(maps.Keys(rules)) {
		if len(rules[dev].Flows) == 0 {
			continue
		}
		isRoot, seen := root[dev]
		if !seen {
			d, err := m.cfg.Devices.Device(dev)
			isRoot = err == nil && d.GetRoot()
			root[dev] = isRoot
		}
		if pick == "" || isRoot {
			pick = dev
		}
		if isRoot {
			break
		}
	}
	if pick == "" {
		return Carrier{}, false
	}
	fs := rules[pick].Flows
	best := fs[0]
	for _, f := range fs[1:] {
		if f.GetTableId() < best.GetTableId() {
			best = f
		}
	}
	return Carrier{DeviceID: pick, FlowID: best.GetId()}, true
}

// finalCounts returns, for each flow c removes for good, a copy with the
// counts of its carrier and its duration, for the flow-removed event:
// taken before its device flows (and their counters) go.
func (m *Manager) finalCountsLocked(l *ld, c flowtable.Changes) map[uint64]*openflowv1.Flow {
	if m.cfg.FlowCounts == nil || len(c.Removed) == 0 || m.cfg.Devices == nil {
		return nil
	}
	added := make(map[uint64]bool, len(c.Added))
	for _, f := range c.Added {
		added[f.GetId()] = true
	}
	root := map[string]bool{}
	out := map[uint64]*openflowv1.Flow{}
	now := m.now()
	for _, f := range c.Removed {
		if added[f.GetId()] {
			continue
		}
		final := proto.CloneOf(f) // the table's own
		if t := f.GetInstallTimeUnixNano(); t != 0 {
			d := max(now.Sub(time.Unix(0, t)), 0)
			final.DurationSec, final.DurationNsec = uint32(d/time.Second), uint32(d%time.Second)
		}
		if cr, ok := m.carrierOf(l.rules[f.GetId()], root); ok {
			final.PacketCount, final.ByteCount, _ = m.cfg.FlowCounts(cr.DeviceID, cr.FlowID)
		}
		out[f.GetId()] = final
	}
	return out
}
