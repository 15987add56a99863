package flows

import (
	"context"
	"maps"
	"slices"
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
			continue
		}
		fs := rules[pick].Flows
		best := fs[0]
		for _, f := range fs[1:] {
			if f.GetTableId() < best.GetTableId() {
				best = f
			}
		}
		out[id] = Carrier{DeviceID: pick, FlowID: best.GetId()}
	}
	return out, nil
}
