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
// immutable once built; UpdateFlowTable swaps in a new one.
type table struct {
	src     *ponsimv1.FlowTable // as given, without its device
	entries []*entry            // priority, then specificity, descending
	groups  map[uint32]*openflowv1.GroupDesc
}

var emptyTable = &table{src: &ponsimv1.FlowTable{}}

// entry is one flow.
type entry struct {
	index     int // in src.Flows
	tableID   uint32
	priority  uint32
	score     uint32
	match     []*openflowv1.MatchField
	matchable bool                 // false: a field the dataplane cannot match, so never
	actions   []*openflowv1.Action // apply-actions, then write-actions
	gotoTable int64                // -1: none

	packets, bytes atomic.Uint64
}

// Specificity weights: among flows of the same priority, the one matching
// the most telling fields wins (in_port first, as PONSIM always did).
// Fields not listed (and metadata, which is ignored) add nothing.
var specificity = map[openflowv1.MatchFieldType]uint32{
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:  1 << 12,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE: 1 << 11,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO: 1 << 10,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID: 1 << 9,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP: 1 << 8,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST: 1 << 7,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:  1 << 6,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:  1 << 5,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:  1 << 4,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:  1 << 3,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC: 1 << 2,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:  1 << 1,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:  1 << 0,
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidArgument)
}

// compile checks a flow table and builds its dataplane form. It rejects what
// cannot be right (missing parts, a push of a TPID that is not a VLAN TPID,
// a group that is not in the table, duplicate group or meter ids); actions
// the dataplane does not perform (MPLS, TTL, queues…) are kept and skipped.
func compile(ft *ponsimv1.FlowTable) (*table, error) {
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
	t := &table{src: proto.CloneOf(ft), groups: make(map[uint32]*openflowv1.GroupDesc)}
	t.src.Device = nil
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
	meters := make(map[uint32]bool)
	for _, m := range t.src.GetMeters() {
		if meters[m.GetMeterId()] {
			return nil, invalid("meter id %d appears twice", m.GetMeterId())
		}
		meters[m.GetMeterId()] = true
	}
	for i, fl := range t.src.GetFlows() {
		e, err := compileFlow(i, fl, t.groups)
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
	return t, nil
}

func compileFlow(i int, fl *openflowv1.Flow, groups map[uint32]*openflowv1.GroupDesc) (*entry, error) {
	e := &entry{index: i, tableID: fl.GetTableId(), priority: fl.GetPriority(), matchable: true, gotoTable: -1}
	for _, m := range fl.GetMatch().GetFields() {
		if m == nil || m.GetType() == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UNSPECIFIED {
			return nil, invalid("match field without a type")
		}
		e.score += specificity[m.GetType()]
		if !canMatch(m.GetType()) {
			e.matchable = false
		}
		if m.GetType() != openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA {
			e.match = append(e.match, m)
		}
	}
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
		case *openflowv1.Instruction_WriteMetadata, *openflowv1.Instruction_Meter,
			*openflowv1.Instruction_ClearActions, *openflowv1.Instruction_Experimenter:
			// No effect on forwarding here.
		default:
			return nil, invalid("empty instruction")
		}
	}
	e.actions = append(e.actions, write...)
	for _, a := range e.actions {
		if err := checkAction(a, groups); err != nil {
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

func canMatch(t openflowv1.MatchFieldType) bool {
	_, ok := specificity[t]
	return ok || t == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA
}

// lookup returns the flow of table tableID that a frame with f arriving on
// inPort hits, or nil.
func (t *table) lookup(tableID, inPort uint32, f *fields) *entry {
	for _, e := range t.entries {
		if e.tableID == tableID && e.matchable && matchAll(e.match, inPort, f) {
			return e
		}
	}
	return nil
}

func matchAll(ms []*openflowv1.MatchField, inPort uint32, f *fields) bool {
	for _, m := range ms {
		if !matchOne(m, inPort, f) {
			return false
		}
	}
	return true
}

func masked(m *openflowv1.MatchField, have uint64, full uint64) bool {
	mask := full
	if m.GetHasMask() {
		mask = m.GetMask()
	}
	return have&mask == m.GetValue()&mask
}

func matchOne(m *openflowv1.MatchField, inPort uint32, f *fields) bool {
	switch m.GetType() {
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:
		return uint64(inPort) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:
		return matchMAC(m, f.dst)
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:
		return matchMAC(m, f.src)
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:
		return uint64(f.ethType) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
		// OFPVID_PRESENT says whether the frame is tagged at all: 0x0000
		// matches untagged frames, 0x1000/0x1000 any tagged frame.
		var have uint64
		if f.tagged {
			have = ofpvidPresent | uint64(f.vid)
		}
		return masked(m, have, 0x1fff)
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
		return f.tagged && uint64(f.pcp) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:
		return f.ipv4 && uint64(f.proto) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC:
		return f.ipv4 && masked(m, uint64(f.ipSrc), 0xffffffff)
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST:
		return f.ipv4 && masked(m, uint64(f.ipDst), 0xffffffff)
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:
		return f.l4 && f.proto == protoUDP && uint64(f.sport) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:
		return f.l4 && f.proto == protoUDP && uint64(f.dport) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:
		return f.l4 && f.proto == protoTCP && uint64(f.sport) == m.GetValue()
	case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:
		return f.l4 && f.proto == protoTCP && uint64(f.dport) == m.GetValue()
	}
	return false
}

// matchMAC compares a MAC match given as 6 bytes (bytes_value, bytes_mask)
// or, failing that, as the low 48 bits of value.
func matchMAC(m *openflowv1.MatchField, have [6]byte) bool {
	want := m.GetBytesValue()
	if len(want) == 0 {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], m.GetValue())
		want = b[2:]
	}
	if len(want) != 6 {
		return false
	}
	mask := m.GetBytesMask()
	if !m.GetHasMask() || len(mask) != 6 {
		mask = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	for i := range 6 {
		if have[i]&mask[i] != want[i]&mask[i] {
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
