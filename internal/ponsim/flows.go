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
// immutable once built (but for its counters); UpdateFlowTable swaps in a
// new one.
type table struct {
	src     *ponsimv1.FlowTable // as given, without its device
	entries []*entry            // priority, then specificity, descending
	groups  map[uint32]*openflowv1.GroupDesc
	index   map[uint32]*tableIndex // by table id (index.go)
	// meters counts the packets of the flows that name each meter. Meters
	// do not police here: a meter is accepted and counted, and the frame
	// goes on.
	meters map[uint32]*atomic.Uint64
}

var emptyTable = &table{src: &ponsimv1.FlowTable{}}

// entry is one flow.
type entry struct {
	index     int // in src.Flows
	rank      int // in table.entries: lower wins
	tableID   uint32
	priority  uint32
	score     uint32
	conds     []cond               // one per match field, sorted by field type
	matchable bool                 // false: a field the dataplane cannot match, so never
	actions   []*openflowv1.Action // apply-actions, then write-actions
	gotoTable int64                // -1: none
	meter     *atomic.Uint64       // of the meter instruction, nil: none

	writeMeta, writeMetaMask uint64 // write_metadata; mask 0: none

	packets, bytes atomic.Uint64
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
	for i, fl := range ft.GetFlows() {
		if fl == nil {
			return nil, invalid("flow %d is empty", i)
		}
	}
	for i, g := range ft.GetGroups() {
		if g == nil {
			return nil, invalid("group %d is empty", i)
		}
	}
	for i, m := range ft.GetMeters() {
		if m == nil {
			return nil, invalid("meter %d is empty", i)
		}
	}
	src := ft
	if !owned {
		src = proto.CloneOf(ft)
	}
	if src == nil {
		src = &ponsimv1.FlowTable{}
	}
	src.Device = nil
	t := &table{src: src, groups: make(map[uint32]*openflowv1.GroupDesc), meters: make(map[uint32]*atomic.Uint64)}
	for _, g := range t.src.GetGroups() {
		if _, dup := t.groups[g.GetGroupId()]; dup {
			return nil, invalid("group id %d appears twice", g.GetGroupId())
		}
		t.groups[g.GetGroupId()] = g
	}
	for _, g := range t.src.GetGroups() {
		for _, b := range g.GetBuckets() {
			for _, a := range b.GetActions() {
				if _, ok := a.GetAction().(*openflowv1.Action_Group); ok {
					return nil, invalid("group %d: a bucket pointing at another group is not supported", g.GetGroupId())
				}
				if err := checkAction(a, t.groups); err != nil {
					return nil, fmt.Errorf("group %d: %w", g.GetGroupId(), err)
				}
			}
		}
	}
	for _, m := range t.src.GetMeters() {
		if t.meters[m.GetMeterId()] != nil {
			return nil, invalid("meter id %d appears twice", m.GetMeterId())
		}
		t.meters[m.GetMeterId()] = new(atomic.Uint64)
	}
	t.entries = make([]*entry, 0, len(t.src.GetFlows()))
	for i, fl := range t.src.GetFlows() {
		e, err := t.compileFlow(i, fl)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		t.entries = append(t.entries, e)
	}
	slices.SortStableFunc(t.entries, func(a, b *entry) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		return cmp.Compare(b.score, a.score)
	})
	for i, e := range t.entries {
		e.rank = i
	}
	t.index = buildIndex(t.entries)
	return t, nil
}

func (t *table) compileFlow(i int, fl *openflowv1.Flow) (*entry, error) {
	e := &entry{index: i, tableID: fl.GetTableId(), priority: fl.GetPriority(), matchable: true, gotoTable: -1}
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
			id := in.Meter.GetMeterId()
			if t.meters[id] == nil {
				// Not (yet) in the table: counted all the same.
				t.meters[id] = new(atomic.Uint64)
			}
			e.meter = t.meters[id]
		case *openflowv1.Instruction_ClearActions, *openflowv1.Instruction_Experimenter:
			// No effect on forwarding here.
		default:
			return nil, invalid("empty instruction")
		}
	}
	e.actions = append(e.actions, write...)
	for _, a := range e.actions {
		if err := checkAction(a, t.groups); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func checkAction(a *openflowv1.Action, groups map[uint32]*openflowv1.GroupDesc) error {
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
		if _, ok := groups[a.Group.GetGroupId()]; !ok {
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

// snapshot is the table as given, with each flow's packet and byte counts.
func (t *table) snapshot(ref string) *ponsimv1.FlowTable {
	ft := proto.CloneOf(t.src)
	ft.Device = &ponsimv1.DeviceRef{SerialNumber: ref}
	for _, e := range t.entries {
		fl := ft.Flows[e.index]
		fl.PacketCount = e.packets.Load()
		fl.ByteCount = e.bytes.Load()
	}
	return ft
}
