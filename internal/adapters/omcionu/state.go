package omcionu

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/openvolt/openvolt/internal/kvstore"
)

// The ONU's restore state, persisted incrementally next to its MIB so an
// adapter restart (even while the ONU reboots) still restores its
// service; each record is small and written only when it changes:
//
//	<prefix>/omci_onu/<device id>/sync      the MIB data sync counter after the last change
//	<prefix>/omci_onu/<device id>/tp/<uni>  the tech profile configured on UNI <uni> (planRecord)
//	<prefix>/omci_onu/<device id>/vlan/<uni> the VLAN row each flow of UNI <uni> asks for (vlanRecord)
//
// The MIB itself (…/mib) is written only when it is synchronised. A store
// written before these records existed (only …/mib, its counter inside)
// still loads: the counter comes from the MIB, nothing to restore.

// SyncKey is where the MIB data sync counter of device dev is kept.
func SyncKey(prefix, dev string) string { return keyOf(prefix, dev) + "sync" }

type syncRecord struct {
	MibDataSync uint8 `json:"mib_data_sync"`
}

// planRecord is a tpPlan's stored form.
type planRecord struct {
	UNI     int         `json:"uni"`
	TCont   uint16      `json:"tcont"`
	Alloc   uint16      `json:"alloc_id"`
	Mapper  uint16      `json:"mapper"`
	Bridge  uint16      `json:"bridge"`
	Gems    [][2]uint16 `json:"gem_ports"` // GEM port id, upstream priority queue
	PbitGem [8]uint16   `json:"pbit_gem"`
}

func recordOf(p *tpPlan) planRecord {
	r := planRecord{UNI: p.uni, TCont: p.tcont, Alloc: p.alloc, Mapper: p.mapper, Bridge: p.bridge, PbitGem: p.pbitGem}
	for _, g := range p.gems {
		r.Gems = append(r.Gems, [2]uint16{g.id, g.queue})
	}
	return r
}

func (r planRecord) plan() *tpPlan {
	p := &tpPlan{uni: r.UNI, tcont: r.TCont, alloc: r.Alloc, mapper: r.Mapper, bridge: r.Bridge, pbitGem: r.PbitGem}
	for _, g := range r.Gems {
		p.gems = append(p.gems, planGem{id: g[0], queue: g[1]})
	}
	return p
}

// vlanRecord is the rows the flows of one UNI ask for: flow id (hex) →
// row (hex). Keeping the flows, not only the rows, lets an incremental
// update after a restart remove a flow's row.
type vlanRecord struct {
	Flows map[string]string `json:"flows"`
}

// restoreState is what loadState found in the store.
type restoreState struct {
	rec   *mibRecord      // nil: no (readable) MIB
	plans map[int]*tpPlan // UNI → tech profile
	flows map[uint64]rule // the flows with a VLAN row
}

func (u *onu) tpKey(uni int) string   { return u.h.keyOf(u.id) + "tp/" + strconv.Itoa(uni) }
func (u *onu) vlanKey(uni int) string { return u.h.keyOf(u.id) + "vlan/" + strconv.Itoa(uni) }
func (u *onu) syncKey() string        { return SyncKey(u.h.opts.Prefix, u.id) }

// loadState reads the ONU's records in one range read: its MIB, with the
// counter of the last change, and its restore state. An unreadable
// record is logged and left out (the MIB: synchronised again).
func (u *onu) loadState(ctx context.Context) (*restoreState, error) {
	base := u.h.keyOf(u.id)
	kvs, err := u.h.opts.KV.List(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("ONU %s: loading its MIB: %w", u.id, err)
	}
	st := &restoreState{plans: make(map[int]*tpPlan), flows: make(map[uint64]rule)}
	var sync *syncRecord
	for _, kv := range kvs {
		name := strings.TrimPrefix(kv.Key, base)
		switch {
		case name == "mib":
			var rec mibRecord
			if err := json.Unmarshal(kv.Value, &rec); err != nil {
				u.log.Warn("stored MIB unreadable: synchronising again", "err", err)
				continue
			}
			st.rec = &rec
		case name == "sync":
			var s syncRecord
			if err := json.Unmarshal(kv.Value, &s); err != nil {
				u.log.Warn("stored MIB data sync counter unreadable: synchronising again", "err", err)
				return &restoreState{plans: st.plans, flows: st.flows}, nil
			}
			sync = &s
		case strings.HasPrefix(name, "tp/"):
			var r planRecord
			uni, err := strconv.Atoi(strings.TrimPrefix(name, "tp/"))
			if err == nil {
				err = json.Unmarshal(kv.Value, &r)
			}
			if err != nil || r.UNI != uni || len(r.Gems) == 0 {
				u.log.Warn("stored tech profile unreadable: left out", "key", kv.Key, "err", err)
				continue
			}
			st.plans[uni] = r.plan()
		case strings.HasPrefix(name, "vlan/"):
			var r vlanRecord
			uni, err := strconv.Atoi(strings.TrimPrefix(name, "vlan/"))
			if err == nil {
				err = json.Unmarshal(kv.Value, &r)
			}
			if err == nil {
				err = flowsFromHex(uni, r.Flows, st.flows)
			}
			if err != nil {
				u.log.Warn("stored VLAN rows unreadable: left out", "key", kv.Key, "err", err)
				continue
			}
		}
	}
	if st.rec != nil && sync != nil {
		st.rec.MibDataSync = sync.MibDataSync
	}
	return st, nil
}

// flowsFromHex adds the flows of UNI uni's record to out.
func flowsFromHex(uni int, in map[string]string, out map[uint64]rule) error {
	for id, s := range in {
		n, err := strconv.ParseUint(id, 16, 64)
		if err != nil {
			return fmt.Errorf("flow id %q", id)
		}
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(vlanRow{}) {
			return fmt.Errorf("VLAN row %q", s)
		}
		out[n] = rule{uni: uni, row: vlanRow(b), has: true}
	}
	return nil
}

// byUNI is the flows with a VLAN row, per UNI.
func byUNI(flows map[uint64]rule) map[int]map[uint64]vlanRow {
	out := make(map[int]map[uint64]vlanRow)
	for id, r := range flows {
		if !r.has {
			continue
		}
		if out[r.uni] == nil {
			out[r.uni] = make(map[uint64]vlanRow)
		}
		out[r.uni][id] = r.row
	}
	return out
}

// syncOp is the op storing the MIB data sync counter mds.
func (u *onu) syncOp(mds uint8) kvstore.Op {
	b, _ := json.Marshal(syncRecord{MibDataSync: mds})
	return kvstore.Op{Key: u.syncKey(), Value: b}
}

// planOp stores (p) or forgets (nil) the tech profile of UNI uni.
func (u *onu) planOp(uni int, p *tpPlan) kvstore.Op {
	if p == nil {
		return kvstore.Op{Key: u.tpKey(uni), Delete: true}
	}
	b, _ := json.Marshal(recordOf(p))
	return kvstore.Op{Key: u.tpKey(uni), Value: b}
}

// vlanOps stores the flows' rows of the UNIs whose flows' rows differ
// between was and now (a UNI without any: its record deleted).
func (u *onu) vlanOps(was, now map[int]map[uint64]vlanRow) []kvstore.Op {
	unis := make(map[int]bool)
	for i := range was {
		unis[i] = true
	}
	for i := range now {
		unis[i] = true
	}
	order := make([]int, 0, len(unis))
	for i := range unis {
		if !sameRows(was[i], now[i]) {
			order = append(order, i)
		}
	}
	sort.Ints(order)
	var ops []kvstore.Op
	for _, i := range order {
		if len(now[i]) == 0 {
			ops = append(ops, kvstore.Op{Key: u.vlanKey(i), Delete: true})
			continue
		}
		r := vlanRecord{Flows: make(map[string]string, len(now[i]))}
		for id, row := range now[i] {
			r.Flows[strconv.FormatUint(id, 16)] = hex.EncodeToString(row[:])
		}
		b, _ := json.Marshal(r) // map keys sorted
		ops = append(ops, kvstore.Op{Key: u.vlanKey(i), Value: b})
	}
	return ops
}

func sameRows(a, b map[uint64]vlanRow) bool {
	if len(a) != len(b) {
		return false
	}
	for k, r := range a {
		if have, ok := b[k]; !ok || have != r {
			return false
		}
	}
	return true
}

// persist applies ops, unless the ONU was deleted meanwhile (its records
// are gone and must stay gone).
func (u *onu) persist(ctx context.Context, ops []kvstore.Op) error {
	if len(ops) == 0 || u.h.lookup(u.id) != u {
		return nil
	}
	if err := u.h.opts.KV.Batch(ctx, ops); err != nil {
		return fmt.Errorf("ONU %s: storing its restore state: %w", u.id, err)
	}
	return nil
}
