package ponsim

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// OpenFlow reserved ports the dataplane understands.
const (
	ofppInPort     = 0xfffffff8
	ofppController = 0xfffffffd
	ofpvidPresent  = 0x1000
)

// table is one device's flow table, compiled for the dataplane. It is
// immutable once built (but for its counters): UpdateFlowTable swaps in a
// new one, and UpdateFlows one made from it (apply). The dataplane reads
// whichever table it loaded with no lock, so apply never writes what t
// holds: its maps are persistent (pmap.go), and the new table shares with
// t every node, entry and index part the change leaves alone. A change
// costs what it changes, not what the table holds.
type table struct {
	flows pmap[[]*entry]         // by flow id (a whole table may repeat one)
	n     int                    // flows
	next  int                    // index of the next flow added
	seq   int                    // order given of the next group or meter added
	index map[uint32]*tableIndex // by table id (index.go)

	groups     pmap[given[*openflowv1.GroupDesc]]   // by group id
	meterConfs pmap[given[*openflowv1.MeterConfig]] // by meter id
	// meters counts the packets of the flows that name each meter, by
	// meter id: the table's meters and those its flows name. Meters do
	// not police here: a meter is accepted and counted, and the frame
	// goes on.
	meters    pmap[*meterCount]
	groupRefs pmap[int] // group id → actions of flows naming it
	meterRefs pmap[int] // meter id → flows naming it
}

// meterCount holds what the flows naming a meter counted before they left
// the table. The dataplane does not count meters (a meter shared by many
// flows would be one counter every core fights over): a meter's count is
// this plus what its flows in the table counted (meterTotals).
type meterCount struct {
	packets, bytes atomic.Uint64
}

// meterTotals returns each meter's counts: what its flows in t counted,
// and what those gone before counted.
func (t *table) meterTotals() map[uint32][2]uint64 {
	out := make(map[uint32][2]uint64, t.meters.len())
	for id, m := range t.meters.all() {
		out[uint32(id)] = [2]uint64{m.packets.Load(), m.bytes.Load()}
	}
	for _, es := range t.flows.all() {
		for _, e := range es {
			if c, ok := out[e.meterID]; ok && e.hasMeter {
				f, b := e.count.load()
				out[e.meterID] = [2]uint64{c[0] + f, c[1] + b}
			}
		}
	}
	return out
}

// given is a group or meter with its place in the order given: the table
// as given lists them by seq (one added again goes last).
type given[T any] struct {
	v   T
	seq int
}

var emptyTable = &table{}

// group returns group id, or nil.
func (t *table) group(id uint32) *openflowv1.GroupDesc {
	g, _ := t.groups.get(uint64(id))
	return g.v
}

// entry is one flow.
type entry struct {
	flow  *openflowv1.Flow // as given
	index int              // order given: lower wins ties
	key   uint64           // ^priority<<32 | ^score: lower wins
	// count is next to key, which every lookup reads, so that counting a
	// frame touches no other cache line of the entry.
	count tally

	tableID   uint32
	priority  uint32
	score     uint32
	conds     []cond               // one per match field, sorted by field type
	matchable bool                 // false: a field the dataplane cannot match, so never
	actions   []*openflowv1.Action // apply-actions, then write-actions
	gotoTable int64                // -1: none
	meter     *meterCount          // of the meter instruction, nil: none
	meterID   uint32               // of the meter instruction, if hasMeter
	hasMeter  bool
	groupIDs  []uint32 // the groups its actions name

	writeMeta, writeMetaMask uint64 // write_metadata; mask 0: none
}

// keepCounts starts e's counters where old's are: e replaces old.
func (e *entry) keepCounts(old *entry) {
	e.count.set(old.count.load())
}

// keepCounts carries the counters of old's flows and meters over to t,
// which replaces old whole: a flow or meter with the same id keeps
// counting, as a modified flow does in OpenFlow. Frames counted on old
// between the copy and the swap are lost.
func (t *table) keepCounts(old *table) {
	if old.n == 0 && old.meters.len() == 0 {
		return
	}
	for id, es := range t.flows.all() {
		olds, ok := old.flows.get(id)
		if !ok {
			continue
		}
		for i, e := range es {
			if i < len(olds) {
				e.keepCounts(olds[i])
			}
		}
	}
	// A meter keeps its count: what its flows here do not carry on is
	// kept as gone before.
	was, now := old.meterTotals(), t.meterTotals()
	for id, m := range t.meters.all() {
		w, n := was[uint32(id)], now[uint32(id)]
		if w[0] > n[0] {
			m.packets.Store(w[0] - n[0])
		}
		if w[1] > n[1] {
			m.bytes.Store(w[1] - n[1])
		}
	}
}

// before reports whether e wins over o: higher priority, then more
// specific, then given first.
func (e *entry) before(o *entry) bool {
	return e.key < o.key || e.key == o.key && e.index < o.index
}

// cond is one match field: the packet's value of field typ, masked,
// must equal want (already masked).
type cond struct {
	typ  openflowv1.MatchFieldType
	mask uint64
	want uint64
}

// Specificity weights: among flows of the same priority, the one matching
// the most telling fields wins (in_port first, as PONSIM always did, then
// the subscriber: tunnel_id and metadata). Fields not listed add nothing.
var specificity = map[openflowv1.MatchFieldType]uint32{
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:   1 << 15,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID: 1 << 14,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA:  1 << 13,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:  1 << 11,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:  1 << 10,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:  1 << 9,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:  1 << 8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST:  1 << 7,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:   1 << 6,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:   1 << 5,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:   1 << 4,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:   1 << 3,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC:  1 << 2,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:   1 << 1,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:   1 << 0,
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidArgument)
}

// compile checks a flow table and builds its dataplane form. It rejects what
// cannot be right (missing parts, a push of a TPID that is not a VLAN TPID,
// a group that is not in the table, duplicate group or meter ids); actions
// the dataplane does not perform (MPLS, TTL, queues…) are kept and skipped.
// owned says that ft is the table's to keep (a gRPC request); otherwise it
// is copied.
func compile(ft *ponsimv1.FlowTable, owned bool) (*table, error) {
	// Cloning would turn a nil entry (possible in-process, not over gRPC)
	// into an empty one, so look for them first.
	if err := noNils("flow", ft.GetFlows()); err != nil {
		return nil, err
	}
	if err := noNils("group", ft.GetGroups()); err != nil {
		return nil, err
	}
	if err := noNils("meter", ft.GetMeters()); err != nil {
		return nil, err
	}
	src := ft
	if !owned {
		src = proto.CloneOf(ft)
	}
	t, ed := &table{}, newEdit()
	for _, g := range src.GetGroups() {
		if t.group(g.GetGroupId()) != nil {
			return nil, invalid("group id %d appears twice", g.GetGroupId())
		}
		t.groups.set(ed, uint64(g.GetGroupId()), given[*openflowv1.GroupDesc]{g, t.seq})
		t.seq++
	}
	if err := checkGroups(src.GetGroups(), t); err != nil {
		return nil, err
	}
	for _, m := range src.GetMeters() {
		if _, dup := t.meterConfs.get(uint64(m.GetMeterId())); dup {
			return nil, invalid("meter id %d appears twice", m.GetMeterId())
		}
		t.meterConfs.set(ed, uint64(m.GetMeterId()), given[*openflowv1.MeterConfig]{m, t.seq})
		t.seq++
		t.meters.set(ed, uint64(m.GetMeterId()), new(meterCount))
	}
	entries := make([]*entry, 0, len(src.GetFlows()))
	for i, fl := range src.GetFlows() {
		e, err := compileFlow(i, fl, t)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		t.addRefs(ed, e, 1)
		if e.hasMeter {
			// One not (yet) in the table is counted all the same.
			t.syncMeter(ed, e.meterID)
			e.meter, _ = t.meters.get(uint64(e.meterID))
		}
		es, _ := t.flows.get(fl.GetId()) // made here: ours to append to
		t.flows.set(ed, fl.GetId(), append(es, e))
		entries = append(entries, e)
	}
	t.n, t.next = len(entries), len(entries)
	// Best first, so that each list of the index grows at its end.
	slices.SortStableFunc(entries, func(a, b *entry) int { return cmp.Compare(a.key, b.key) })
	t.index = updateIndex(ed, nil, nil, entries)
	return t, nil
}

func noNils[T any](what string, list []*T) error {
	for i, x := range list {
		if x == nil {
			return invalid("%s %d is empty", what, i)
		}
	}
	return nil
}

// checkGroups checks the buckets of groups, given the table's groups.
func checkGroups(list []*openflowv1.GroupDesc, t *table) error {
	for _, g := range list {
		for _, b := range g.GetBuckets() {
			for _, a := range b.GetActions() {
				if _, ok := a.GetAction().(*openflowv1.Action_Group); ok {
					return invalid("group %d: a bucket pointing at another group is not supported", g.GetGroupId())
				}
				if err := checkAction(a, t); err != nil {
					return fmt.Errorf("group %d: %w", g.GetGroupId(), err)
				}
			}
		}
	}
	return nil
}

// addRefs counts (n = 1) or uncounts (n = -1) the groups and meter e
// names, as part of ed.
func (t *table) addRefs(ed *edit, e *entry, n int) {
	for _, id := range e.groupIDs {
		addCount(ed, &t.groupRefs, uint64(id), n)
	}
	if e.hasMeter {
		addCount(ed, &t.meterRefs, uint64(e.meterID), n)
	}
}

func addCount(ed *edit, m *pmap[int], key uint64, n int) {
	c, _ := m.get(key)
	if c += n; c == 0 {
		m.delete(ed, key)
	} else {
		m.set(ed, key, c)
	}
}

// syncMeter gives meter id a counter if the table has it or a flow names
// it, and takes it away if neither; a counter that stays keeps counting.
func (t *table) syncMeter(ed *edit, id uint32) {
	_, listed := t.meterConfs.get(uint64(id))
	refs, _ := t.meterRefs.get(uint64(id))
	_, has := t.meters.get(uint64(id))
	switch want := listed || refs > 0; {
	case want && !has:
		t.meters.set(ed, uint64(id), new(meterCount))
	case !want && has:
		t.meters.delete(ed, uint64(id))
	}
}

// apply returns the table t with the changes fc made (removals first),
// sharing with t what they leave alone; t does not change. owned says
// that fc is the table's to keep; otherwise what it adds is copied. It
// costs what fc changes, whatever the size of t.
func (t *table) apply(fc *ponsimv1.FlowChanges, owned bool) (*table, error) {
	if err := noNils("flow", fc.GetAdd()); err != nil {
		return nil, err
	}
	if err := noNils("group", fc.GetAddGroups()); err != nil {
		return nil, err
	}
	if err := noNils("meter", fc.GetAddMeters()); err != nil {
		return nil, err
	}
	if !owned {
		fc = proto.CloneOf(fc)
	}
	nt, ed := *t, newEdit()
	if err := nt.changeGroups(ed, fc.GetAddGroups(), fc.GetRemoveGroups()); err != nil {
		return nil, err
	}
	if err := nt.changeMeters(ed, fc.GetAddMeters(), fc.GetRemoveMeters()); err != nil {
		return nil, err
	}
	gone, added, err := nt.changeFlows(ed, fc.GetRemove(), fc.GetAdd())
	if err != nil {
		return nil, err
	}
	// A group still named by a flow cannot go.
	for _, id := range fc.GetRemoveGroups() {
		if refs, _ := nt.groupRefs.get(uint64(id)); nt.group(id) == nil && refs > 0 {
			return nil, invalid("group %d is removed but a flow names it", id)
		}
	}
	// What the flows that went counted stays with their meters, but for
	// a flow replaced by one that carries its counts on the same meter.
	carried := make(map[uint64]*entry, len(added))
	for _, e := range added {
		carried[e.flow.GetId()] = e
	}
	for _, e := range gone {
		if !e.hasMeter {
			continue
		}
		if a := carried[e.flow.GetId()]; a != nil && a.hasMeter && a.meterID == e.meterID {
			continue
		}
		if m, ok := nt.meters.get(uint64(e.meterID)); ok {
			f, b := e.count.load()
			m.packets.Add(f)
			m.bytes.Add(b)
		}
	}
	// The meters whose counters may come or go.
	for _, m := range fc.GetAddMeters() {
		nt.syncMeter(ed, m.GetMeterId())
	}
	for _, id := range fc.GetRemoveMeters() {
		nt.syncMeter(ed, id)
	}
	for _, e := range gone {
		if e.hasMeter {
			nt.syncMeter(ed, e.meterID)
		}
	}
	for _, e := range added {
		if e.hasMeter {
			nt.syncMeter(ed, e.meterID) // the references are all counted
			e.meter, _ = nt.meters.get(uint64(e.meterID))
		}
	}
	if len(added)+len(gone) > 0 {
		nt.index = updateIndex(ed, t.index, gone, added)
	}
	return &nt, nil
}

// changeGroups removes the groups remove names, then adds (or replaces)
// add, as part of ed.
func (t *table) changeGroups(ed *edit, add []*openflowv1.GroupDesc, remove []uint32) error {
	if len(add)+len(remove) == 0 {
		return nil
	}
	seen := make(map[uint32]bool, len(add))
	for _, g := range add {
		if seen[g.GetGroupId()] {
			return invalid("group id %d appears twice", g.GetGroupId())
		}
		seen[g.GetGroupId()] = true
	}
	for _, id := range remove {
		t.groups.delete(ed, uint64(id))
	}
	for _, g := range add {
		t.groups.set(ed, uint64(g.GetGroupId()), given[*openflowv1.GroupDesc]{g, t.seq})
		t.seq++
	}
	return checkGroups(add, t)
}

// changeMeters removes the meters remove names, then adds (or replaces)
// add, as part of ed; their counters are the caller's (syncMeter).
func (t *table) changeMeters(ed *edit, add []*openflowv1.MeterConfig, remove []uint32) error {
	if len(add)+len(remove) == 0 {
		return nil
	}
	seen := make(map[uint32]bool, len(add))
	for _, m := range add {
		if seen[m.GetMeterId()] {
			return invalid("meter id %d appears twice", m.GetMeterId())
		}
		seen[m.GetMeterId()] = true
	}
	for _, id := range remove {
		t.meterConfs.delete(ed, uint64(id))
	}
	for _, m := range add {
		t.meterConfs.set(ed, uint64(m.GetMeterId()), given[*openflowv1.MeterConfig]{m, t.seq})
		t.seq++
	}
	return nil
}

// changeFlows removes the flows remove names, then adds (or replaces)
// add, as part of ed. It returns the entries that went and came.
func (t *table) changeFlows(ed *edit, remove []uint64, add []*openflowv1.Flow) (gone, added []*entry, err error) {
	var replaced map[uint64]*entry // by id: what an added flow replaces
	drop := func(id uint64) {
		es, ok := t.flows.get(id)
		if !ok {
			return
		}
		if replaced != nil {
			replaced[id] = es[0]
		}
		for _, e := range es {
			gone = append(gone, e)
			t.addRefs(ed, e, -1)
			t.n--
		}
		t.flows.delete(ed, id)
	}
	for _, id := range remove {
		drop(id)
	}
	replaced = make(map[uint64]*entry, len(add))
	seen := make(map[uint64]bool, len(add))
	for i, fl := range add {
		if seen[fl.GetId()] {
			return nil, nil, invalid("flow id %d appears twice", fl.GetId())
		}
		seen[fl.GetId()] = true
		drop(fl.GetId())
		e, err := compileFlow(t.next, fl, t)
		if err != nil {
			return nil, nil, fmt.Errorf("flow %d (id %d): %w", i, fl.GetId(), err)
		}
		if old := replaced[fl.GetId()]; old != nil {
			e.keepCounts(old) // a flow replaced (modified) keeps counting
		}
		t.next++
		t.n++
		t.addRefs(ed, e, 1)
		t.flows.set(ed, fl.GetId(), []*entry{e})
		added = append(added, e)
	}
	return gone, added, nil
}

// compileFlow compiles flow i, whose group actions must name groups of t (its
// meter counter is the caller's to set).
func compileFlow(i int, fl *openflowv1.Flow, t *table) (*entry, error) {
	e := &entry{flow: fl, index: i, tableID: fl.GetTableId(), priority: fl.GetPriority(), matchable: true, gotoTable: -1}
	e.conds = make([]cond, 0, len(fl.GetMatch().GetFields()))
	for _, m := range fl.GetMatch().GetFields() {
		if m == nil || m.GetType() == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UNSPECIFIED {
			return nil, invalid("match field without a type")
		}
		e.score += specificity[m.GetType()]
		c, ok := compileCond(m)
		if !ok {
			e.matchable = false
			continue
		}
		e.conds = append(e.conds, c)
	}
	e.key = uint64(^e.priority)<<32 | uint64(^e.score)
	slices.SortStableFunc(e.conds, func(a, b cond) int { return cmp.Compare(a.typ, b.typ) })
	var write []*openflowv1.Action
	for _, in := range fl.GetInstructions() {
		switch in := in.GetInstruction().(type) {
		case *openflowv1.Instruction_ApplyActions:
			e.actions = append(e.actions, in.ApplyActions.GetActions()...)
		case *openflowv1.Instruction_WriteActions:
			write = append(write, in.WriteActions.GetActions()...)
		case *openflowv1.Instruction_GotoTable:
			if in.GotoTable.GetTableId() <= fl.GetTableId() {
				return nil, invalid("goto table %d from table %d: must go forward", in.GotoTable.GetTableId(), fl.GetTableId())
			}
			e.gotoTable = int64(in.GotoTable.GetTableId())
		case *openflowv1.Instruction_WriteMetadata:
			e.writeMeta, e.writeMetaMask = in.WriteMetadata.GetMetadata(), in.WriteMetadata.GetMetadataMask()
			if e.writeMetaMask == 0 {
				e.writeMetaMask = ^uint64(0) // no mask: all of it
			}
		case *openflowv1.Instruction_Meter:
			e.meterID, e.hasMeter = in.Meter.GetMeterId(), true
		case *openflowv1.Instruction_ClearActions, *openflowv1.Instruction_Experimenter:
			// No effect on forwarding here.
		default:
			return nil, invalid("empty instruction")
		}
	}
	e.actions = append(e.actions, write...)
	for _, a := range e.actions {
		if err := checkAction(a, t); err != nil {
			return nil, err
		}
		if g, ok := a.GetAction().(*openflowv1.Action_Group); ok {
			e.groupIDs = append(e.groupIDs, g.Group.GetGroupId())
		}
	}
	return e, nil
}

func checkAction(a *openflowv1.Action, t *table) error {
	switch a := a.GetAction().(type) {
	case nil:
		return invalid("empty action")
	case *openflowv1.Action_PushVlan:
		if et := a.PushVlan.GetEthertype(); et != tpidCTag && et != tpidSTag {
			return invalid("push_vlan ethertype 0x%04x (want 0x8100 or 0x88a8)", et)
		}
	case *openflowv1.Action_SetField:
		if a.SetField.GetField() == nil {
			return invalid("set_field without a field")
		}
	case *openflowv1.Action_Group:
		if t.group(a.Group.GetGroupId()) == nil {
			return invalid("group %d is not in the table", a.Group.GetGroupId())
		}
	}
	return nil
}

// fieldWidth is the mask of every bit of each field the dataplane
// matches; a field not here makes its flow unmatchable.
var fieldWidth = map[openflowv1.MatchFieldType]uint64{
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:   0xffffffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA:  ^uint64(0),
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID: ^uint64(0),
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:   0xffffffffffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:   0xffffffffffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:  0xffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:  0x1fff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:  0x7,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:  0xff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC:  0xffffffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST:  0xffffffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:   0xffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:   0xffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:   0xffff,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:   0xffff,
}

// compileCond turns a match field into a cond; ok is false for a field
// the dataplane cannot match.
func compileCond(m *openflowv1.MatchField) (c cond, ok bool) {
	full, ok := fieldWidth[m.GetType()]
	if !ok {
		return cond{}, false
	}
	value, mask := m.GetValue(), full
	if m.GetHasMask() {
		mask = m.GetMask() & full
	}
	switch m.GetType() {
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:
		// A MAC address is given as 6 bytes (bytes_value, bytes_mask) or,
		// failing that, as the low 48 bits of value.
		if b := m.GetBytesValue(); len(b) != 0 {
			if len(b) != 6 {
				return cond{}, false
			}
			value = mac48(b)
			if m.GetHasMask() && len(m.GetBytesMask()) == 6 {
				mask = mac48(m.GetBytesMask())
			} else if m.GetHasMask() && len(m.GetBytesMask()) != 0 {
				return cond{}, false
			}
		}
	}
	return cond{typ: m.GetType(), mask: mask, want: value & mask}, true
}

func mac48(b []byte) uint64 {
	var v [8]byte
	copy(v[2:], b)
	return binary.BigEndian.Uint64(v[:])
}

// view is what a lookup reads of a packet.
type view struct {
	inPort uint32
	f      *fields
	tunnel uint64 // tunnel_id
	meta   uint64 // pipeline metadata (write_metadata)
}

// value returns the packet's value of field typ in table tableID; ok is
// false when the packet has no such field (vlan_pcp of an untagged frame,
// udp_src of a TCP segment), which no value matches.
func (v *view) value(typ openflowv1.MatchFieldType, tableID uint32) (uint64, bool) {
	f := v.f
	switch typ {
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:
		return uint64(v.inPort), true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA:
		if tableID == 0 {
			// flowdecomp's convention: in table 0 (an OLT flow from the
			// NNI), metadata is the VID of the inner tag.
			return uint64(f.innerVID), f.inner
		}
		return v.meta, true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID:
		return v.tunnel, true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:
		return mac48(f.dst[:]), true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:
		return mac48(f.src[:]), true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:
		return uint64(f.ethType), true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
		// OFPVID_PRESENT says whether the frame is tagged at all: 0x0000
		// matches untagged frames, 0x1000/0x1000 any tagged frame.
		if f.tagged {
			return ofpvidPresent | uint64(f.vid), true
		}
		return 0, true
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
		return uint64(f.pcp), f.tagged
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:
		return uint64(f.proto), f.ipv4 || f.ipv6
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC:
		return uint64(f.ipSrc), f.ipv4
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST:
		return uint64(f.ipDst), f.ipv4
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:
		return uint64(f.sport), f.l4 && f.proto == protoUDP
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:
		return uint64(f.dport), f.l4 && f.proto == protoUDP
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:
		return uint64(f.sport), f.l4 && f.proto == protoTCP
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:
		return uint64(f.dport), f.l4 && f.proto == protoTCP
	}
	return 0, false
}

// matches reports whether the packet v satisfies every field of e.
func (e *entry) matches(v *view) bool {
	for _, c := range e.conds {
		have, ok := v.value(c.typ, e.tableID)
		if !ok || have&c.mask != c.want {
			return false
		}
	}
	return true
}

// entries returns the flows in the order given.
func (t *table) entries() []*entry {
	out := make([]*entry, 0, t.n)
	for _, es := range t.flows.all() {
		out = append(out, es...)
	}
	slices.SortFunc(out, func(a, b *entry) int { return cmp.Compare(a.index, b.index) })
	return out
}

// inOrder returns the values of m in the order given.
func inOrder[T any](m *pmap[given[T]]) []T {
	list := make([]given[T], 0, m.len())
	for _, g := range m.all() {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b given[T]) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]T, len(list))
	for i, g := range list {
		out[i] = g.v
	}
	return out
}

// snapshot is the table as given, with each flow's packet and byte counts.
func (t *table) snapshot(ref string) *ponsimv1.FlowTable {
	ft := &ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{SerialNumber: ref}}
	for _, e := range t.entries() {
		fl := proto.CloneOf(e.flow)
		fl.PacketCount, fl.ByteCount = e.count.load()
		ft.Flows = append(ft.Flows, fl)
	}
	for _, g := range inOrder(&t.groups) {
		ft.Groups = append(ft.Groups, proto.CloneOf(g))
	}
	for _, m := range inOrder(&t.meterConfs) {
		ft.Meters = append(ft.Meters, proto.CloneOf(m))
	}
	return ft
}
