package flowdecomp

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// The causes an *Error wraps. Every *Error is also a
// coreerr.ErrInvalidArgument.
var (
	// ErrNoRoute: the flow's ports are not joined by a route.
	ErrNoRoute = route.ErrNoRoute
	// ErrUnsupported: a match field, action or instruction the devices
	// cannot be given.
	ErrUnsupported = errors.New("unsupported")
	// ErrUnknownGroup: a group action names a group that does not exist.
	ErrUnknownGroup = errors.New("unknown group")
	// ErrUnknownMeter: a meter instruction names a meter that does not exist.
	ErrUnknownMeter = errors.New("unknown meter")
	// ErrConflict: two logical flows become one device flow with different
	// actions.
	ErrConflict = errors.New("conflict")
)

// Error says why a logical flow cannot be decomposed.
type Error struct {
	Flow *openflowv1.Flow // the logical flow
	Err  error            // the cause; wraps one of the Err* kinds above
}

func (e *Error) Error() string {
	return fmt.Sprintf("flow table=%d priority=%d cookie=%#x: %v",
		e.Flow.GetTableId(), e.Flow.GetPriority(), e.Flow.GetCookie(), e.Err)
}

// Unwrap gives the cause and coreerr.ErrInvalidArgument, so that the NBI
// answers InvalidArgument.
func (e *Error) Unwrap() []error { return []error{e.Err, coreerr.ErrInvalidArgument} }

// cause is a cause with a message of its own and a kind for errors.Is.
type cause struct {
	kind error
	msg  string
}

func (c *cause) Error() string { return c.msg }
func (c *cause) Unwrap() error { return c.kind }

func unsupported(format string, args ...any) error {
	return &cause{ErrUnsupported, "unsupported " + fmt.Sprintf(format, args...)}
}

func noRoute(format string, args ...any) error {
	return &cause{ErrNoRoute, "no route: " + fmt.Sprintf(format, args...)}
}

// Rules are what a decomposition gives each device, by device id.
type Rules map[string]*DeviceRules

// DeviceRules are one device's flows, and the groups and meters they use,
// in the order the logical flows asked for them. Flows share match fields
// and actions with the logical flows they come from: treat both as
// read-only.
type DeviceRules struct {
	Flows  []*openflowv1.Flow
	Groups []*openflowv1.GroupDesc
	Meters []*openflowv1.MeterConfig

	flowAt  map[uint64]int // index in Flows by id, once Flows is long (shortList)
	groupAt map[uint32]int
	meterAt map[uint32]int
}

// Decomposer turns logical flows into device flows over one set of routes.
// It holds no other state, so one Decomposer serves any number of
// goroutines; make a new one when the routes change.
type Decomposer struct {
	routes *route.Routes
}

// New returns a Decomposer over routes.
func New(routes *route.Routes) *Decomposer { return &Decomposer{routes: routes} }

// Decompose turns a logical flow table into device rules, given the
// logical groups and meters by id. It fails on the first flow that cannot
// be decomposed, with an *Error naming the flow and why; then it returns no
// rules, and nothing it was given is changed. Device flows that two logical
// flows both ask for are given once.
func (d *Decomposer) Decompose(flows []*openflowv1.Flow, groups map[uint32]*openflowv1.GroupDesc,
	meters map[uint32]*openflowv1.MeterConfig) (Rules, error) {
	out := Rules{}
	for _, f := range flows {
		if err := d.decompose(f, groups, meters, out); err != nil {
			return nil, &Error{Flow: f, Err: err}
		}
	}
	return out, nil
}

// DecomposeFlow decomposes one logical flow; see Decompose. Each logical
// flow decomposes on its own, so the core can add one flow at a time, and
// delete one by decomposing it again: the device flow ids come out the
// same.
func (d *Decomposer) DecomposeFlow(f *openflowv1.Flow, groups map[uint32]*openflowv1.GroupDesc,
	meters map[uint32]*openflowv1.MeterConfig) (Rules, error) {
	return d.Decompose([]*openflowv1.Flow{f}, groups, meters)
}

// device returns the rules of device id, made when missing.
func (r Rules) device(id string) *DeviceRules {
	dr := r[id]
	if dr == nil {
		dr = &DeviceRules{}
		r[id] = dr
	}
	return dr
}

// addFlow adds f to dev unless an identical flow is there; a different
// flow with the same id is a conflict.
func (r Rules) addFlow(dev string, f *openflowv1.Flow) error {
	dr := r.device(dev)
	if i, ok := find(dr.Flows, dr.flowAt, f.GetId(), (*openflowv1.Flow).GetId); ok {
		if proto.Equal(dr.Flows[i], f) {
			return nil
		}
		return &cause{ErrConflict, fmt.Sprintf(
			"conflict: an earlier logical flow gives device %q a flow with the same priority and match as this one's %s, but other actions",
			dev, flowtext.FormatFlow(f))}
	}
	dr.Flows = appendIndexed(dr.Flows, &dr.flowAt, f, (*openflowv1.Flow).GetId)
	return nil
}

func (r Rules) addMeter(dev string, m *openflowv1.MeterConfig) {
	dr := r.device(dev)
	if _, ok := find(dr.Meters, dr.meterAt, m.GetMeterId(), (*openflowv1.MeterConfig).GetMeterId); !ok {
		dr.Meters = appendIndexed(dr.Meters, &dr.meterAt, m, (*openflowv1.MeterConfig).GetMeterId)
	}
}

func (r Rules) addGroup(dev string, g *openflowv1.GroupDesc) {
	dr := r.device(dev)
	if _, ok := find(dr.Groups, dr.groupAt, g.GetGroupId(), (*openflowv1.GroupDesc).GetGroupId); !ok {
		dr.Groups = appendIndexed(dr.Groups, &dr.groupAt, g, (*openflowv1.GroupDesc).GetGroupId)
	}
}

// shortList is how long a device's flows, groups or meters get before
// they are indexed by id: decomposing one flow gives a device one or two,
// quicker to look along than to hash (and a map is two allocations).
const shortList = 8

// find returns the index of the item with id: from at once items are
// indexed, else by looking along them.
func find[K comparable, T any](items []T, at map[K]int, id K, idOf func(T) K) (int, bool) {
	if at != nil {
		i, ok := at[id]
		return i, ok
	}
	for i, it := range items {
		if idOf(it) == id {
			return i, true
		}
	}
	return 0, false
}

// appendIndexed appends it to items and to the index at, which it makes
// when items become long.
func appendIndexed[K comparable, T any](items []T, at *map[K]int, it T, idOf func(T) K) []T {
	items = append(items, it)
	switch {
	case *at != nil:
		(*at)[idOf(it)] = len(items) - 1
	case len(items) >= shortList:
		*at = make(map[K]int, len(items))
		for i, x := range items {
			(*at)[idOf(x)] = i
		}
	}
	return items
}
