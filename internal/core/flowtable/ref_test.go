package flowtable

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	of "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// refTable is the flow-mod semantics written the plain way: every mod
// looks at every flow, matches are maps of byte slices, flows are copied.
// The indexed Table must plan exactly what it plans.
type refTable struct {
	nTables uint32
	flows   map[uint64]*refEntry
	meters  map[uint32]bool
}

type refEntry struct {
	flow  *of.Flow
	match refMatch
}

type refField struct{ value, mask []byte }

type refMatch map[of.MatchFieldType]refField

func refCanon(m *of.Match) refMatch {
	out := refMatch{}
	for _, f := range m.GetFields() {
		var value, mask []byte
		if len(f.GetBytesValue()) > 0 {
			value = bytes.Clone(f.GetBytesValue())
			if f.GetHasMask() && len(f.GetBytesMask()) == len(value) {
				mask = bytes.Clone(f.GetBytesMask())
			}
		} else {
			value = binary.BigEndian.AppendUint64(nil, f.GetValue())
			if f.GetHasMask() {
				mask = binary.BigEndian.AppendUint64(nil, f.GetMask())
			}
		}
		if mask == nil {
			mask = bytes.Repeat([]byte{0xff}, len(value))
		}
		for i := range value {
			value[i] &= mask[i]
		}
		out[f.GetType()] = refField{value, mask}
	}
	return out
}

func (m refMatch) equal(o refMatch) bool {
	if len(m) != len(o) {
		return false
	}
	for t, f := range m {
		g, ok := o[t]
		if !ok || !bytes.Equal(f.value, g.value) || !bytes.Equal(f.mask, g.mask) {
			return false
		}
	}
	return true
}

func (m refMatch) coveredBy(o refMatch) bool {
	for t, of := range o {
		mf, ok := m[t]
		if !ok || len(mf.value) != len(of.value) {
			return false
		}
		for i := range of.mask {
			if mf.mask[i]&of.mask[i] != of.mask[i] || mf.value[i]&of.mask[i] != of.value[i] {
				return false
			}
		}
	}
	return true
}

func (m refMatch) overlaps(o refMatch) bool {
	for t, mf := range m {
		of, ok := o[t]
		if !ok || len(mf.value) != len(of.value) {
			continue
		}
		for i := range mf.mask {
			both := mf.mask[i] & of.mask[i]
			if mf.value[i]&both != of.value[i]&both {
				return false
			}
		}
	}
	return true
}

func (r *refTable) plan(fm *of.FlowMod) (Changes, error) {
	cmd := fm.GetCommand()
	if cmd < add || cmd > delS {
		return Changes{}, refuse(ErrTypeFlowMod, CodeFlowBadCommand, coreerr.ErrInvalidArgument, "bad command")
	}
	if (cmd != del && cmd != delS) || fm.GetTableId() != TableAll {
		if fm.GetTableId() >= r.nTables {
			return Changes{}, refuse(ErrTypeFlowMod, CodeFlowBadTableID, coreerr.ErrInvalidArgument, "bad table")
		}
	}
	if cmd == add || cmd == modify || cmd == modifyS {
		for _, in := range fm.GetInstructions() {
			if m := in.GetMeter(); m != nil && !r.meters[m.GetMeterId()] {
				return Changes{}, refuse(ErrTypeMeterMod, CodeMeterUnknown, coreerr.ErrInvalidArgument, "bad meter")
			}
		}
	}
	m := refCanon(fm.GetMatch())
	if cmd == add {
		id := FlowID(fm.GetTableId(), fm.GetPriority(), fm.GetMatch())
		if fm.GetFlags()&FlagCheckOverlap != 0 {
			for _, e := range r.flows {
				f := e.flow
				if f.GetId() != id && f.GetTableId() == fm.GetTableId() && f.GetPriority() == fm.GetPriority() && e.match.overlaps(m) {
					return Changes{}, refuse(ErrTypeFlowMod, CodeFlowOverlap, coreerr.ErrAlreadyExists, "overlap")
				}
			}
		}
		flow := &of.Flow{Id: id, TableId: fm.GetTableId(), Priority: fm.GetPriority(), IdleTimeout: fm.GetIdleTimeout(),
			HardTimeout: fm.GetHardTimeout(), Flags: fm.GetFlags() &^ FlagCheckOverlap, Cookie: fm.GetCookie(),
			Match: proto.Clone(fm.GetMatch()).(*of.Match)}
		if flow.Match == nil {
			flow.Match = &of.Match{}
		}
		for _, in := range fm.GetInstructions() {
			flow.Instructions = append(flow.Instructions, proto.Clone(in).(*of.Instruction))
		}
		c := Changes{Added: []*of.Flow{flow}}
		if old, ok := r.flows[id]; ok {
			c.Removed = []*of.Flow{old.flow}
		}
		return c, nil
	}
	strict := cmd == modifyS || cmd == delS
	isDelete := cmd == del || cmd == delS
	var c Changes
	for _, e := range r.flows {
		f := e.flow
		if fm.GetTableId() != TableAll && f.GetTableId() != fm.GetTableId() {
			continue
		}
		if fm.GetCookieMask() != 0 && f.GetCookie()&fm.GetCookieMask() != fm.GetCookie()&fm.GetCookieMask() {
			continue
		}
		if strict {
			if f.GetPriority() != fm.GetPriority() || !e.match.equal(m) {
				continue
			}
		} else if !e.match.coveredBy(m) {
			continue
		}
		if isDelete {
			if p := fm.GetOutPort(); p != PortAny && p != 0 && !outputsTo(f, p) {
				continue
			}
			if g := fm.GetOutGroup(); g != GroupAny && g != 0 && !usesGroup(f, g) {
				continue
			}
			c.Removed = append(c.Removed, f)
			continue
		}
		next := proto.Clone(f).(*of.Flow)
		next.Instructions = nil
		for _, in := range fm.GetInstructions() {
			next.Instructions = append(next.Instructions, proto.Clone(in).(*of.Instruction))
		}
		if fm.GetFlags()&FlagResetCounts != 0 {
			next.PacketCount, next.ByteCount = 0, 0
		}
		c.Removed = append(c.Removed, f)
		c.Added = append(c.Added, next)
	}
	return c, nil
}

// overlapping returns every flow but fm's own in fm's table at fm's
// priority that overlaps fm.
func (r *refTable) overlapping(fm *of.FlowMod) []*of.Flow {
	id, m := FlowID(fm.GetTableId(), fm.GetPriority(), fm.GetMatch()), refCanon(fm.GetMatch())
	var out []*of.Flow
	for _, e := range r.flows {
		if f := e.flow; f.GetId() != id && f.GetTableId() == fm.GetTableId() && f.GetPriority() == fm.GetPriority() && e.match.overlaps(m) {
			out = append(out, f)
		}
	}
	return out
}

// allOverlapping is Table.overlapping, but returns every flow it finds.
func (t *Table) allOverlapping(fm *of.FlowMod) []*of.Flow {
	b := t.buckets[tablePrio{fm.GetTableId(), fm.GetPriority()}]
	if b == nil {
		return nil
	}
	id := FlowID(fm.GetTableId(), fm.GetPriority(), fm.GetMatch())
	q := canonInto(nil, fm.GetMatch())
	var out []*of.Flow
	b.candidates(q, false, func(e *entry) bool {
		if e.flow.GetId() != id && canonInto(nil, e.flow.GetMatch()).overlaps(q) {
			out = append(out, e.flow)
		}
		return true
	})
	return out
}

func (r *refTable) apply(c Changes) {
	for _, f := range c.Removed {
		delete(r.flows, f.GetId())
	}
	for _, f := range c.Added {
		r.flows[f.GetId()] = &refEntry{flow: f, match: refCanon(f.GetMatch())}
	}
}

// modGen makes random flow-mods from a small space, so that they often
// hit, overlap and cover each other, with the odd forms a match can take:
// masks, fields given as bytes (of 4, 8 and 16 bytes), a mask of the wrong
// length, a type given twice, no match at all.
type modGen struct {
	next  func(n int) int // a number in [0, n)
	width int             // values per field: wider makes longer lists
}

func (g *modGen) field() *of.MatchField {
	v := uint64(g.next(g.width))
	switch g.next(14) {
	case 0, 1, 2, 3:
		return f(inPort, v)
	case 4:
		return fm(inPort, v, uint64(g.next(4)))
	case 5:
		return &of.MatchField{Type: inPort, BytesValue: []byte{0, 0, 0, byte(v)}}
	case 6, 7:
		return f(vid, 0x1000|v)
	case 8:
		return fm(vid, 0x1000, 0x1000)
	case 9:
		return f(meta, v)
	case 10:
		return &of.MatchField{Type: meta, BytesValue: binary.BigEndian.AppendUint64(nil, v)}
	case 11:
		return &of.MatchField{Type: meta, BytesValue: binary.BigEndian.AppendUint64(nil, v), HasMask: true,
			BytesMask: binary.BigEndian.AppendUint64(nil, uint64(g.next(4)))}
	case 12:
		return &of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_SRC, BytesValue: bytes.Repeat([]byte{byte(v)}, 16),
			HasMask: g.next(2) == 0, BytesMask: bytes.Repeat([]byte{0xf0}, 16-g.next(2))}
	default:
		return f(ethType, 0x800+v%2)
	}
}

func (g *modGen) mod() *of.FlowMod {
	m := mod{
		cmd:   []of.FlowModCommand{add, add, add, add, add, add, add, add, add, add, modifyS, modifyS, delS, delS, modify, del}[g.next(16)],
		table: []uint32{0, 0, 0, 1, 1, 1, 2, TableAll}[g.next(8)],
		prio:  uint32(1 + g.next(3)),
	}
	if m.cmd == add && g.next(2) == 0 {
		m.flags = FlagCheckOverlap
	}
	if m.cmd == modify || m.cmd == modifyS {
		m.flags = uint32(g.next(2)) * FlagResetCounts
	}
	if g.next(4) == 0 {
		m.cookie, m.mask = uint64(g.next(4)), 3
	} else {
		m.cookie = uint64(g.next(4))
	}
	if g.next(6) == 0 {
		m.outPort = uint32(1 + g.next(3))
	}
	n := g.next(5)
	if (m.cmd == modify || m.cmd == del) && n == 0 && g.next(8) != 0 {
		n = 1 // an empty match takes the whole table
	}
	for range n {
		m.fields = append(m.fields, g.field())
	}
	m.ins = []*of.Instruction{output(uint32(1 + g.next(3)))}
	if g.next(8) == 0 {
		m.ins = append(m.ins, meter(uint32(1+g.next(2))))
	}
	fm := m.proto()
	if len(m.fields) == 0 && g.next(2) == 0 {
		fm.Match = nil
	}
	return fm
}

// sameFlows reports how two sets of flows differ, in any order.
func sameFlows(got, want []*of.Flow) error {
	byID := func(fs []*of.Flow) []*of.Flow {
		out := append([]*of.Flow(nil), fs...)
		sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
		return out
	}
	got, want = byID(got), byID(want)
	if len(got) != len(want) {
		return fmt.Errorf("%d flows, want %d", len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			return fmt.Errorf("flow %v, want %v", got[i], want[i])
		}
	}
	return nil
}

// checkIndex checks that every flow is in the indexes once, where it
// belongs, and that they hold nothing else.
func (t *Table) checkIndex() error {
	seen := map[*entry]bool{}
	for key, e := range t.byKey {
		for ; e != nil; e = e.sameKey {
			if e.key != key || seen[e] || t.flows[e.flow.GetId()] != e {
				return fmt.Errorf("byKey: flow %#x in the wrong place", e.flow.GetId())
			}
			seen[e] = true
		}
	}
	n := 0
	for at, b := range t.buckets {
		lists := []*entryList{&b.wild}
		for port, l := range b.ports {
			if l.port != port || l.n == 0 {
				return fmt.Errorf("bucket %v: list %d has port %d and %d entries", at, port, l.port, l.n)
			}
			lists = append(lists, l)
		}
		inBucket := 0
		for _, l := range lists {
			k, shapes := 0, map[uint64]int{}
			for e := l.head; e != nil; e = e.next {
				f := e.flow
				if e.l != l || f.GetTableId() != at.table || f.GetPriority() != at.priority || !seen[e] {
					return fmt.Errorf("bucket %v: flow %#x in the wrong place", at, f.GetId())
				}
				if port, ok := canonInto(nil, f.GetMatch()).exactPort(); ok != (l != &b.wild) || ok && port != l.port {
					return fmt.Errorf("bucket %v: flow %#x in the wrong list", at, f.GetId())
				}
				if l.bySig != nil {
					found := false
					for x := l.bySig[e.sig]; x != nil; x = x.sameSig {
						found = found || x == e
					}
					if !found {
						return fmt.Errorf("bucket %v: flow %#x not found by sig", at, f.GetId())
					}
				}
				shapes[e.shape]++
				k++
			}
			if k != l.n {
				return fmt.Errorf("bucket %v: list of %d counts %d", at, k, l.n)
			}
			for _, sc := range l.shapes {
				if shapes[sc.shape] != sc.n || sc.n == 0 {
					return fmt.Errorf("bucket %v: %d flows of shape %#x, counted %d", at, shapes[sc.shape], sc.shape, sc.n)
				}
			}
			if l.bySig != nil && len(l.shapes) != len(shapes) {
				return fmt.Errorf("bucket %v: %d shapes, counted %d", at, len(shapes), len(l.shapes))
			}
			inBucket += k
		}
		if inBucket != b.n || b.n == 0 {
			return fmt.Errorf("bucket %v: %d flows, counts %d", at, inBucket, b.n)
		}
		n += inBucket
	}
	if len(seen) != len(t.flows) || n != len(t.flows) {
		return fmt.Errorf("%d flows, %d by key, %d in buckets", len(t.flows), len(seen), n)
	}
	return nil
}

// checkAgainstRef runs mods on a Table and on the reference and fails on
// the first difference.
func checkAgainstRef(t *testing.T, mods []*of.FlowMod) {
	t.Helper()
	tb := New(2)
	ref := &refTable{nTables: 2, flows: map[uint64]*refEntry{}, meters: map[uint32]bool{1: true}}
	tb.Load(nil, nil, []*of.MeterConfig{{MeterId: 1}})
	for i, fm := range mods {
		if err := sameFlows(tb.allOverlapping(fm), ref.overlapping(fm)); err != nil {
			t.Fatalf("mod %d %v: overlapping: %v", i, fm, err)
		}
		c, err := tb.PlanFlowMod(fm)
		rc, rerr := ref.plan(fm)
		var e, re *Error
		switch {
		case (err == nil) != (rerr == nil):
			t.Fatalf("mod %d %v: err %v, want %v", i, fm, err, rerr)
		case err != nil && (!errors.As(err, &e) || !errors.As(rerr, &re) || e.Type != re.Type || e.Code != re.Code || !errors.Is(err, re.kind)):
			t.Fatalf("mod %d %v: err %v, want %v", i, fm, err, rerr)
		}
		if err := sameFlows(c.Removed, rc.Removed); err != nil {
			t.Fatalf("mod %d %v: removed: %v", i, fm, err)
		}
		if err := sameFlows(c.Added, rc.Added); err != nil {
			t.Fatalf("mod %d %v: added: %v", i, fm, err)
		}
		view, _, _ := tb.View(c)
		tb.Apply(c)
		ref.apply(rc)
		if err := tb.checkIndex(); err != nil {
			t.Fatalf("after mod %d %v: %v", i, fm, err)
		}
		if i%16 != 0 && i != len(mods)-1 {
			continue
		}
		var want []*of.Flow
		for _, e := range ref.flows {
			want = append(want, e.flow)
		}
		if err := sameFlows(tb.Flows(), want); err != nil {
			t.Fatalf("after mod %d %v: table: %v", i, fm, err)
		}
		if err := sameFlows(view, want); err != nil {
			t.Fatalf("after mod %d %v: view: %v", i, fm, err)
		}
	}
}

// TestMatchesReference checks the indexed table against the reference on
// random mods: narrow value ranges for many hits, wide ones for lists long
// enough to be indexed by sig.
func TestMatchesReference(t *testing.T) {
	for _, width := range []int{3, 8, 64} {
		for seed := range uint64(2) {
			t.Run(fmt.Sprintf("width%d/seed%d", width, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, uint64(width)))
				g := &modGen{next: r.IntN, width: width}
				mods := make([]*of.FlowMod, 1500)
				for i := range mods {
					mods[i] = g.mod()
				}
				checkAgainstRef(t, mods)
			})
		}
	}
}

// FuzzMatchesReference is TestMatchesReference with mods made from the
// fuzzer's bytes.
func FuzzMatchesReference(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(bytes.Repeat([]byte{0, 3, 1, 0, 4, 2, 7, 1, 9, 0, 0, 5}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func(n int) int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b) % n
		}
		g := &modGen{next: next, width: 1 + next(32)}
		var mods []*of.FlowMod
		for len(data) > 0 && len(mods) < 500 {
			mods = append(mods, g.mod())
		}
		checkAgainstRef(t, mods)
	})
}
