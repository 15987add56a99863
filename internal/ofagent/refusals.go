package ofagent

import (
	"sync"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// maxRemembered bounds the flow-mods a datapath remembers for refusals
// that come after their answer; beyond it the oldest are forgotten (their
// refusal still shows as the flow going: flow-removed, a dump).
const maxRemembered = 1 << 16

// refusals remembers, by flow key, the last flow-mod that added or
// changed each flow and the connection it came on. The core answers a
// flow-mod once stored; when a device's adapter then refuses it, the core
// takes it back and its flow change event carries the refusal, which is
// answered here with an OpenFlow error carrying that flow-mod's xid.
type refusals struct {
	mu    sync.Mutex // guards by and order
	by    map[uint64]remembered
	order []uint64 // keys in the order remembered (a key may repeat), for eviction
}

type remembered struct {
	c   *conn
	raw []byte // the flow-mod's first bytes: its header (xid) and what an error carries
}

// remember notes that c sent the flow-mod raw for the flow key.
func (r *refusals) remember(key uint64, c *conn, raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = make(map[uint64]remembered)
	}
	r.by[key] = remembered{c: c, raw: append([]byte(nil), raw[:min(len(raw), ofp13.MaxErrorData)]...)}
	r.order = append(r.order, key)
	for len(r.by) > maxRemembered && len(r.order) > 0 {
		delete(r.by, r.order[0])
		r.order = r.order[1:]
	}
	if len(r.order) > 2*maxRemembered { // keys remembered again pile up: compact
		r.order = append([]uint64(nil), r.order[len(r.order)-len(r.by):]...)
	}
}

// take returns and forgets what was remembered for key.
func (r *refusals) take(key uint64) (remembered, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.by[key]
	delete(r.by, key)
	return m, ok
}

// flowRefused answers the flow-mod that made a flow a device refused
// with the refusal, on the connection it came on, if that is still open.
func (dp *datapath) flowRefused(fc *voltv1.FlowChange) {
	f, rf := fc.GetFlow(), fc.GetRefusal()
	match, err := ofp13.MatchFromProto(f.GetMatch())
	if err != nil || f.GetTableId() > 0xff || f.GetPriority() > 0xffff {
		return // not from a flow-mod
	}
	mod, ok := dp.refusals.take(flowKey(&ofp13.FlowMod{TableID: uint8(f.GetTableId()), Priority: uint16(f.GetPriority()), Match: match}))
	if !ok {
		return
	}
	dp.mu.Lock()
	_, open := dp.conns[mod.c]
	dp.mu.Unlock()
	if !open {
		return
	}
	mod.c.refuse(mod.raw, ofp13.Errorf(ofp13.ErrorType(rf.GetErrorType()), uint16(rf.GetErrorCode()), "%s", rf.GetMessage()))
}
