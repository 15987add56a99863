package flows

import (
	"maps"
	"slices"
)

// TableSize is how many flows, groups and meters a logical device's
// tables hold.
type TableSize struct {
	LogicalDevice         string
	Flows, Groups, Meters int
}

// TableSizes returns the sizes of the tables loaded in memory (a logical
// device's tables load on first use: after a restart, once its devices
// are reconciled or a mod arrives), in no order.
func (m *Manager) TableSizes() []TableSize {
	m.mu.Lock()
	lds := slices.Collect(maps.Values(m.lds))
	m.mu.Unlock()
	out := make([]TableSize, 0, len(lds))
	for _, l := range lds {
		l.mu.Lock()
		if l.loaded && l.table != nil {
			s := TableSize{LogicalDevice: l.id}
			s.Flows, s.Groups, s.Meters = l.table.Sizes()
			out = append(out, s)
		}
		l.mu.Unlock()
	}
	return out
}
