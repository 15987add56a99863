package device

import voltv1 "github.com/openvolt/openvolt/api/volt/v1"

// Each calls fn with every device's snapshot (not to be modified), in no
// order, under the index's read lock: fn must be quick and must not call
// the index. It copies nothing, for readers of every device at once (the
// metrics' device counts).
func (x *Index) Each(fn func(*voltv1.Device)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, a := range x.agents {
		fn(a.device())
	}
}
