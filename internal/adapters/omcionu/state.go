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
//	<prefix>/omci_onu/<device id>/vlan/<uni> the VLAN rows UNI <uni>'s flows ask for (vlanRecord)
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

// vlanRecord is the rows of one UNI, hex, sorted.
type vlanRecord struct {
	Rows []string `json:"rows"`
}

// restoreState is what loadState found in the store.
type restoreState struct {
	rec   *mibRecord                 // nil: no (readable) MIB
	plans map[int]*tpPlan            // UNI → tech profile
	rows  map[int]map[rowKey]vlanRow // UNI → wanted rows
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
	st := &restoreState{plans: make(map[int]*tpPlan), rows: make(map[int]map[rowKey]vlanRow)}
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
				return &restoreState{plans: st.plans, rows: st.rows}, nil
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
			rows, rerr := rowsFromHex(r.Rows)
			if err != nil || rerr != nil {
				u.log.Warn("stored VLAN rows unreadable: left out", "key", kv.Key, "err", errorsJoin(err, rerr))
				continue
			}
			st.rows[uni] = rows
		}
	}
	if st.rec != nil && sync != nil {
		st.rec.MibDataSync = sync.MibDataSync
	}
	return st, nil
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func rowsFromHex(in []string) (map[rowKey]vlanRow, error) {
	out := make(map[rowKey]vlanRow, len(in))
	for _, s := range in {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(vlanRow{}) {
			return nil, fmt.Errorf("VLAN row %q", s)
		}
		r := vlanRow(b)
		out[r.key()] = r
	}
	return out, nil
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

// vlanOps stores the rows of the UNIs whose rows differ between was and
// now (a UNI without rows: its record deleted).
func (u *onu) vlanOps(was, now map[int]map[rowKey]vlanRow) []kvstore.Op {
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
		r := vlanRecord{Rows: make([]string, 0, len(now[i]))}
		for _, row := range now[i] {
			r.Rows = append(r.Rows, hex.EncodeToString(row[:]))
		}
		sort.Strings(r.Rows)
		b, _ := json.Marshal(r)
		ops = append(ops, kvstore.Op{Key: u.vlanKey(i), Value: b})
	}
	return ops
}

func sameRows(a, b map[rowKey]vlanRow) bool {
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
