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
	mu   sync.Mutex // guards by, ring and next
	by   map[uint64]remembered
	ring []uint64 // the keys in the order remembered, maxRemembered at most
	next int      // the ring slot the next key takes once the ring is full
}

type remembered struct {
	c   *conn
	raw []byte // the flow-mod's first bytes: its header (xid) and what an error carries
}

// remember notes that c sent the flow-mod raw for the flow key; once
// maxRemembered keys are noted, each new one forgets the oldest.
func (r *refusals) remember(key uint64, c *conn, raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = make(map[uint64]remembered)
	}
	if _, again := r.by[key]; !again {
		if len(r.ring) < maxRemembered {
			r.ring = append(r.ring, key)
		} else {
			delete(r.by, r.ring[r.next])
			r.ring[r.next] = key
			r.next = (r.next + 1) % maxRemembered
		}
	}
	r.by[key] = remembered{c: c, raw: append([]byte(nil), raw[:min(len(raw), ofp13.MaxErrorData)]...)}
}

// take returns and forgets what was remembered for key. Its ring slot
// stays: a key taken and remembered again holds two slots, and goes when
// the older comes round (early, never late: memory stays bounded).
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
