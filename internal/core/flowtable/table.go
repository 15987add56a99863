package flowtable

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// OpenFlow constants the semantics need.
const (
	TableAll = 0xff       // OFPTT_ALL
	PortAny  = 0xffffffff // OFPP_ANY
	GroupAny = 0xffffffff // OFPG_ANY
	GroupAll = 0xfffffffc // OFPG_ALL
	MeterAll = 0xffffffff // OFPM_ALL

	FlagSendFlowRem  = 1 << 0 // OFPFF_SEND_FLOW_REM
	FlagCheckOverlap = 1 << 1
	FlagResetCounts  = 1 << 2
)

// OpenFlow error types and codes the tables answer with.
const (
	ErrTypeBadAction   = 2
	ErrTypeFlowMod     = 5
	ErrTypeGroupMod    = 6
	ErrTypeMeterMod    = 12
	CodeBadOutGroup    = 9 // OFPBAC_BAD_OUT_GROUP
	CodeFlowOverlap    = 3
	CodeFlowBadTableID = 2
	CodeFlowBadCommand = 6
	CodeGroupExists    = 0
	CodeGroupInvalid   = 1
	CodeGroupUnknown   = 8
	CodeGroupBadType   = 10
	CodeGroupBadCmd    = 11
	CodeGroupBadBucket = 12
	CodeMeterExists    = 1
	CodeMeterInvalid   = 2
	CodeMeterUnknown   = 3
	CodeMeterBadCmd    = 4
	CodeMeterBadBand   = 8
)

// Error is a refused mod: the OpenFlow error to send back, and a kind for
// the NBI (InvalidArgument, AlreadyExists, NotFound…).
type Error struct {
	Type, Code uint16
	kind       error
	msg        string
}

func (e *Error) Error() string        { return e.msg }
func (e *Error) Is(target error) bool { return target == e.kind }

// OpenFlowError is the OpenFlow error type and code to answer with.
func (e *Error) OpenFlowError() (typ, code uint16) { return e.Type, e.Code }

func refuse(typ, code uint16, kind error, format string, args ...any) error {
	return &Error{Type: typ, Code: code, kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Table is one logical device's tables. It is not safe for concurrent use:
// the caller serialises mods per logical device.
//
// Ownership: nothing in a Table is ever changed once it is there, so the
// table shares instead of copying, and so may everyone who reads it.
//
//   - A mod given to PlanFlowMod, PlanGroupMod or PlanMeterMod becomes part
//     of the flows, groups or meters planned from it (a flow keeps the
//     mod's match and instructions, a group its buckets, a meter its
//     bands): the caller must not change the mod, nor anything it points
//     to, afterwards. The NBI decodes a new mod for each request, which no
//     one changes once it is handed over.
//   - Flows, groups and meters in Changes, in the table, and those given
//     to Load are read-only for everyone: the table makes new ones instead
//     of changing them (a modified flow is a new Flow sharing the old one's
//     match), and the table's indexes rely on their ids, tables,
//     priorities and matches staying as they are.
type Table struct {
	nTables uint32
	flows   map[uint64]*entry     // by id
	byKey   map[uint64]*entry     // by match.key, chained through entry.sameKey
	buckets map[tablePrio]*bucket // by table and priority
	groups  map[uint32]*openflowv1.GroupDesc
	meters  map[uint32]*openflowv1.MeterConfig
}

// New returns empty tables with nTables flow tables (ids 0..nTables-1).
func New(nTables uint32) *Table {
	return &Table{
		nTables: nTables,
		flows:   make(map[uint64]*entry),
		byKey:   make(map[uint64]*entry),
		buckets: make(map[tablePrio]*bucket),
		groups:  make(map[uint32]*openflowv1.GroupDesc),
		meters:  make(map[uint32]*openflowv1.MeterConfig),
	}
}

// Load puts stored entries back (after a restart); it trusts them.
func (t *Table) Load(flows []*openflowv1.Flow, groups []*openflowv1.GroupDesc, meters []*openflowv1.MeterConfig) {
	for _, f := range flows {
		t.insert(f)
	}
	for _, g := range groups {
		t.groups[g.GetGroupId()] = g
	}
	for _, m := range meters {
		t.meters[m.GetMeterId()] = m
	}
}

// Flow returns the flow with id, or nil.
func (t *Table) Flow(id uint64) *openflowv1.Flow {
	if e := t.flows[id]; e != nil {
		return e.flow
	}
	return nil
}

// Flows returns every flow sorted by table, then priority (high first),
// then id.
func (t *Table) Flows() []*openflowv1.Flow {
	out := make([]*openflowv1.Flow, 0, len(t.flows))
	for _, e := range t.flows {
		out = append(out, e.flow)
	}
	sortFlows(out)
	return out
}

func sortFlows(fs []*openflowv1.Flow) {
	slices.SortFunc(fs, func(a, b *openflowv1.Flow) int {
		if c := cmp.Compare(a.GetTableId(), b.GetTableId()); c != 0 {
			return c
		}
		if c := cmp.Compare(b.GetPriority(), a.GetPriority()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetId(), b.GetId())
	})
}

// Groups returns the groups sorted by id.
func (t *Table) Groups() []*openflowv1.GroupDesc {
	out := make([]*openflowv1.GroupDesc, 0, len(t.groups))
	for _, g := range t.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetGroupId() < out[j].GetGroupId() })
	return out
}

// Meters returns the meters sorted by id.
func (t *Table) Meters() []*openflowv1.MeterConfig {
	out := make([]*openflowv1.MeterConfig, 0, len(t.meters))
	for _, m := range t.meters {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetMeterId() < out[j].GetMeterId() })
	return out
}

// Changes is what a mod does to the tables. Flows in Removed are as they
// were; flows in Added replace any flow with the same id.
type Changes struct {
	Added         []*openflowv1.Flow
	Removed       []*openflowv1.Flow
	GroupsAdded   []*openflowv1.GroupDesc // added or modified
	GroupsRemoved []*openflowv1.GroupDesc
	MetersAdded   []*openflowv1.MeterConfig // added or modified
	MetersRemoved []*openflowv1.MeterConfig
}

// Empty reports whether the mod changes nothing.
func (c Changes) Empty() bool {
	return len(c.Added)+len(c.Removed)+len(c.GroupsAdded)+len(c.GroupsRemoved)+len(c.MetersAdded)+len(c.MetersRemoved) == 0
}

// Apply makes planned changes take effect.
func (t *Table) Apply(c Changes) {
	for _, f := range c.Removed {
		t.remove(f.GetId())
	}
	for _, f := range c.Added {
		t.insert(f)
	}
	for _, g := range c.GroupsRemoved {
		delete(t.groups, g.GetGroupId())
	}
	for _, g := range c.GroupsAdded {
		t.groups[g.GetGroupId()] = g
	}
	for _, m := range c.MetersRemoved {
		delete(t.meters, m.GetMeterId())
	}
	for _, m := range c.MetersAdded {
		t.meters[m.GetMeterId()] = m
	}
}

// View is the tables as they would be after c, for decomposing a planned
// change before it is applied.
func (t *Table) View(c Changes) (flows []*openflowv1.Flow, groups []*openflowv1.GroupDesc, meters []*openflowv1.MeterConfig) {
	next := make(map[uint64]*openflowv1.Flow, len(t.flows)+len(c.Added))
	for id, e := range t.flows {
		next[id] = e.flow
	}
	for _, f := range c.Removed {
		delete(next, f.GetId())
	}
	for _, f := range c.Added {
		next[f.GetId()] = f
	}
	flows = make([]*openflowv1.Flow, 0, len(next))
	for _, f := range next {
		flows = append(flows, f)
	}
	sortFlows(flows)
	gs, ms := t.GroupsAfter(c), t.MetersAfter(c)
	groups = make([]*openflowv1.GroupDesc, 0, len(gs))
	for _, g := range gs {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].GetGroupId() < groups[j].GetGroupId() })
	meters = make([]*openflowv1.MeterConfig, 0, len(ms))
	for _, m := range ms {
		meters = append(meters, m)
	}
	sort.Slice(meters, func(i, j int) bool { return meters[i].GetMeterId() < meters[j].GetMeterId() })
	return flows, groups, meters
}

// GroupsAfter returns the groups by id as they would be after c. Without
// group changes it is the table's own map: read it, never write it.
func (t *Table) GroupsAfter(c Changes) map[uint32]*openflowv1.GroupDesc {
	if len(c.GroupsAdded)+len(c.GroupsRemoved) == 0 {
		return t.groups
	}
	out := make(map[uint32]*openflowv1.GroupDesc, len(t.groups)+len(c.GroupsAdded))
	for k, v := range t.groups {
		out[k] = v
	}
	for _, g := range c.GroupsRemoved {
		delete(out, g.GetGroupId())
	}
	for _, g := range c.GroupsAdded {
		out[g.GetGroupId()] = g
	}
	return out
}

// MetersAfter is GroupsAfter for meters.
func (t *Table) MetersAfter(c Changes) map[uint32]*openflowv1.MeterConfig {
	if len(c.MetersAdded)+len(c.MetersRemoved) == 0 {
		return t.meters
	}
	out := make(map[uint32]*openflowv1.MeterConfig, len(t.meters)+len(c.MetersAdded))
	for k, v := range t.meters {
		out[k] = v
	}
	for _, m := range c.MetersRemoved {
		delete(out, m.GetMeterId())
	}
	for _, m := range c.MetersAdded {
		out[m.GetMeterId()] = m
	}
	return out
}

// PlanUndo plans taking c back, as far as the table is still as c left
// it: a flow c added goes if it is still the one c added, a flow c
// removed comes back if its id is free or holds what c put there; the same
// for groups and meters.
func (t *Table) PlanUndo(c Changes) Changes {
	var u Changes
	added := make(map[uint64]bool, len(c.Added))
	for _, f := range c.Added {
		if e := t.flows[f.GetId()]; e != nil && e.flow == f {
			u.Removed = append(u.Removed, f)
			added[f.GetId()] = true
		}
	}
	for _, f := range c.Removed {
		if e := t.flows[f.GetId()]; e == nil || added[f.GetId()] {
			u.Added = append(u.Added, f)
		}
	}
	undoKeyed(c.GroupsAdded, c.GroupsRemoved, t.groups, (*openflowv1.GroupDesc).GetGroupId, &u.GroupsAdded, &u.GroupsRemoved)
	undoKeyed(c.MetersAdded, c.MetersRemoved, t.meters, (*openflowv1.MeterConfig).GetMeterId, &u.MetersAdded, &u.MetersRemoved)
	return u
}

// undoKeyed is PlanUndo for groups or meters: what was added and is still
// there goes (or gets back what it replaced), what was removed and is
// still absent comes back.
func undoKeyed[T comparable](added, removed []T, cur map[uint32]T, id func(T) uint32, reAdd, reRemove *[]T) {
	var zero T
	prior := make(map[uint32]T, len(removed))
	for _, v := range removed {
		prior[id(v)] = v
	}
	for _, v := range added {
		if cur[id(v)] != v {
			continue
		}
		if old, ok := prior[id(v)]; ok {
			*reAdd = append(*reAdd, old) // a modify: the old one back
			delete(prior, id(v))
			continue
		}
		*reRemove = append(*reRemove, v)
	}
	for k, v := range prior {
		if c, ok := cur[k]; !ok || c == zero {
			*reAdd = append(*reAdd, v)
		}
	}
}

// DeviceRefused is the error of a mod a device's adapter refused (the
// device cannot do it; the mod was taken back): an OpenFlow error of the
// mod's type typ, out of room when the adapter ran out of resources.
func DeviceRefused(typ uint16, deviceID string, err error) *Error {
	code := uint16(0) // OFPFMFC_UNKNOWN, OFPMMFC_UNKNOWN
	if status.Code(err) == codes.ResourceExhausted {
		switch typ {
		case ErrTypeFlowMod:
			code = 1 // OFPFMFC_TABLE_FULL
		case ErrTypeGroupMod:
			code = 2 // OFPGMFC_OUT_OF_GROUPS
		case ErrTypeMeterMod:
			code = 10 // OFPMMFC_OUT_OF_METERS
		}
	} else if typ == ErrTypeGroupMod {
		code = CodeGroupInvalid // groups have no "unknown" (0 is OFPGMFC_GROUP_EXISTS)
	}
	return &Error{Type: typ, Code: code, kind: coreerr.ErrFailedPrecondition,
		msg: fmt.Sprintf("device %s refused it, taken back: %s", deviceID, status.Convert(err).Message())}
}
