// Package route computes the paths between the logical ports of one
// logical device: through the OLT alone between an NNI and the controller,
// through the ONU and the OLT between a UNI and an NNI or the controller.
//
// Build takes a snapshot of the topology and works out every route once, so
// that Route is a map lookup; rebuild when ports come or go. A route is the
// list of hops a packet takes, each a device with the port the packet enters
// by and the one it leaves by:
//
//	upstream    UNI → NNI         ONU (uni → onu pon), OLT (olt pon → nni)
//	downstream  NNI → UNI         OLT (nni → olt pon), ONU (onu pon → uni)
//	trap        UNI → CONTROLLER  ONU (uni → onu pon), OLT (olt pon → CONTROLLER)
//	trap        NNI → CONTROLLER  OLT (nni → CONTROLLER)
//
// Half routes serve flows that decide only one side: egress Any (a first
// table flow whose output a later table decides) gives the ingress hop
// alone, with Egress Any on the OLT for an NNI; ingress Any (a flow that
// does not match in_port) gives the egress hop alone, with Ingress Any on
// the OLT for an NNI. There are no routes between two NNIs or two UNIs.
//
// The package is pure: no I/O, no goroutines, no logging.
package route

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Port numbers with a meaning of their own in a route.
const (
	// Any is an unspecified port: a flow that does not match in_port, or
	// whose output a later table decides.
	Any uint32 = 0
	// Controller is OFPP_CONTROLLER, the egress of a trap.
	Controller uint32 = 0xfffffffd
)

// ErrNoRoute is wrapped by every error Route returns.
var ErrNoRoute = errors.New("no route")

// Hop is one device on a route: the packet enters it by Ingress and leaves
// by Egress, both device port numbers (or Any, or Controller).
type Hop struct {
	DeviceID string
	Ingress  uint32
	Egress   uint32
}

// Route is the hops from an ingress logical port to an egress, in the order
// the packet takes them. Routes hands out shared routes: do not modify them.
type Route []Hop

// Snapshot is the topology routes are computed from: the logical device's
// ports, and for each device behind them its device ports. An ONU's PON
// port names the OLT and OLT PON port it hangs from in its peers (or the
// OLT PON port names the ONU and its PON port).
type Snapshot struct {
	LogicalPorts []*voltv1.LogicalPort
	Ports        map[string][]*voltv1.Port // by device id
}

// Kind tells an NNI from a UNI.
type Kind int

// The kinds of logical port.
const (
	NNI Kind = iota + 1 // a root port, on the OLT
	UNI                 // a subscriber port, on an ONU
)

func (k Kind) String() string {
	switch k {
	case NNI:
		return "NNI"
	case UNI:
		return "UNI"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Port is what the routes know of one logical port.
type Port struct {
	Number     uint32 // the logical port number
	Kind       Kind
	DeviceID   string // the device behind it: the OLT for an NNI, the ONU for a UNI
	DevicePort uint32 // its number on that device

	// For a UNI, the PON link it sits behind.
	ONUPON uint32 // the ONU's PON port
	OLTID  string
	OLTPON uint32 // the OLT PON port the ONU hangs from

	// Unroutable says why the port has no routes; "" when it has.
	Unroutable string
}

// Routes are the precomputed routes of one logical device.
type Routes struct {
	oltID  string
	ports  map[uint32]*Port
	routes map[uint64]Route
	nnis   []uint32
	unis   []uint32
}

func key(in, out uint32) uint64 { return uint64(in)<<32 | uint64(out) }

// Build computes every route of the snapshot. It fails only when the
// snapshot cannot be one logical device (two ports with one number, root
// ports on two devices); a UNI whose ONU is not linked to the OLT gets no
// routes, and Route says why.
func Build(s Snapshot) (*Routes, error) {
	r := &Routes{
		ports: make(map[uint32]*Port, len(s.LogicalPorts)),
	}
	for _, lp := range s.LogicalPorts {
		n := lp.GetOfpPort().GetPortNo()
		if n == Any || n >= 0xffffff00 {
			return nil, fmt.Errorf("logical port %q has number %d, which is not a port", lp.GetId(), n)
		}
		if _, dup := r.ports[n]; dup {
			return nil, fmt.Errorf("two logical ports numbered %d", n)
		}
		p := &Port{Number: n, Kind: UNI, DeviceID: lp.GetDeviceId(), DevicePort: lp.GetDevicePortNo()}
		if lp.GetRootPort() {
			p.Kind = NNI
			if r.oltID != "" && r.oltID != p.DeviceID {
				return nil, fmt.Errorf("root ports on two devices, %q and %q", r.oltID, p.DeviceID)
			}
			r.oltID = p.DeviceID
		}
		r.ports[n] = p
	}
	for n, p := range r.ports {
		if p.Unroutable = r.link(s.Ports, p); p.Unroutable != "" {
			continue
		}
		if p.Kind == NNI {
			r.nnis = append(r.nnis, n)
		} else {
			r.unis = append(r.unis, n)
		}
	}
	slices.Sort(r.nnis)
	slices.Sort(r.unis)
	r.precompute()
	return r, nil
}

// link checks p against its device's ports and, for a UNI, finds the PON
// link; it returns why p cannot be routed, or "".
func (r *Routes) link(ports map[string][]*voltv1.Port, p *Port) string {
	if p.DeviceID == "" {
		return "it names no device"
	}
	if !hasPort(ports[p.DeviceID], p.DevicePort) {
		return fmt.Sprintf("device %q has no port %d", p.DeviceID, p.DevicePort)
	}
	if p.Kind == NNI {
		return ""
	}
	if r.oltID == "" {
		return "the logical device has no NNI, so no OLT"
	}
	for _, dp := range ports[p.DeviceID] {
		if dp.GetType() != voltv1.PortType_PORT_TYPE_PON_ONU {
			continue
		}
		for _, peer := range dp.GetPeers() {
			if peer.GetDeviceId() == r.oltID {
				p.ONUPON, p.OLTID, p.OLTPON = dp.GetPortNo(), r.oltID, peer.GetPortNo()
				return ""
			}
		}
	}
	// The other side: an OLT PON port that names the ONU.
	for _, dp := range ports[r.oltID] {
		if dp.GetType() != voltv1.PortType_PORT_TYPE_PON_OLT {
			continue
		}
		for _, peer := range dp.GetPeers() {
			if peer.GetDeviceId() == p.DeviceID {
				p.ONUPON, p.OLTID, p.OLTPON = peer.GetPortNo(), r.oltID, dp.GetPortNo()
				return ""
			}
		}
	}
	return fmt.Sprintf("ONU %q is not linked to OLT %q by a PON port", p.DeviceID, r.oltID)
}

func hasPort(ports []*voltv1.Port, n uint32) bool {
	for _, p := range ports {
		if p.GetPortNo() == n {
			return true
		}
	}
	return false
}

// precompute fills r.routes. Hops live in one array so that a large device
// costs few allocations.
func (r *Routes) precompute() {
	nn, nu := len(r.nnis), len(r.unis)
	hops := make([]Hop, 0, 4*nn*nu+5*nu+3*nn)
	r.routes = make(map[uint64]Route, 2*nn*nu+3*nu+3*nn)
	put := func(in, out uint32, hs ...Hop) {
		start := len(hops)
		hops = append(hops, hs...)
		r.routes[key(in, out)] = Route(hops[start:len(hops):len(hops)])
	}
	for _, n := range r.nnis {
		olt := r.ports[n]
		put(n, Controller, Hop{olt.DeviceID, olt.DevicePort, Controller})
		put(n, Any, Hop{olt.DeviceID, olt.DevicePort, Any})
		put(Any, n, Hop{olt.DeviceID, Any, olt.DevicePort})
	}
	for _, u := range r.unis {
		p := r.ports[u]
		up := Hop{p.DeviceID, p.DevicePort, p.ONUPON}
		down := Hop{p.DeviceID, p.ONUPON, p.DevicePort}
		put(u, Controller, up, Hop{p.OLTID, p.OLTPON, Controller})
		put(u, Any, up)
		put(Any, u, down)
		for _, n := range r.nnis {
			nni := r.ports[n].DevicePort
			put(u, n, up, Hop{p.OLTID, p.OLTPON, nni})
			put(n, u, Hop{p.OLTID, nni, p.OLTPON}, down)
		}
	}
}

// Route returns the route from logical port in to logical port out; either
// may be Any, and out may be Controller. The error wraps ErrNoRoute and says
// why there is none.
func (r *Routes) Route(in, out uint32) (Route, error) {
	if rt, ok := r.routes[key(in, out)]; ok {
		return rt, nil
	}
	return nil, r.noRoute(in, out)
}

func (r *Routes) noRoute(in, out uint32) error {
	for _, n := range []uint32{in, out} {
		if n == Any || n == Controller {
			continue
		}
		p, ok := r.ports[n]
		if ok && p.Unroutable != "" {
			return fmt.Errorf("%w from %s to %s: %s", ErrNoRoute, portText(r, in), portText(r, out), p.Unroutable)
		}
		if !ok {
			return fmt.Errorf("%w from %s to %s: logical port %d does not exist",
				ErrNoRoute, portText(r, in), portText(r, out), n)
		}
	}
	return fmt.Errorf("%w from %s to %s", ErrNoRoute, portText(r, in), portText(r, out))
}

func portText(r *Routes, n uint32) string {
	switch n {
	case Any:
		return "any port"
	case Controller:
		return "the controller"
	}
	if p, ok := r.ports[n]; ok {
		return fmt.Sprintf("%s %d", p.Kind, n)
	}
	return fmt.Sprintf("logical port %d", n)
}

// Port returns what the routes know of logical port n.
func (r *Routes) Port(n uint32) (Port, bool) {
	p, ok := r.ports[n]
	if !ok {
		return Port{}, false
	}
	return *p, true
}

// Ports are all the logical ports, routable or not, by number.
func (r *Routes) Ports() []Port {
	out := make([]Port, 0, len(r.ports))
	for _, p := range r.ports {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Port) int { return cmp.Compare(a.Number, b.Number) })
	return out
}

// OLT is the id of the root device, "" when there is no NNI.
func (r *Routes) OLT() string { return r.oltID }

// NNIs are the routable NNI logical ports, in ascending order. Shared: do
// not modify.
func (r *Routes) NNIs() []uint32 { return r.nnis }

// UNIs are the routable UNI logical ports, in ascending order. Shared: do
// not modify.
func (r *Routes) UNIs() []uint32 { return r.unis }

// Len is the number of precomputed routes.
func (r *Routes) Len() int { return len(r.routes) }

// ONUs are the ids of the devices behind the routable UNIs, sorted.
func (r *Routes) ONUs() []string {
	var ids []string
	for _, u := range r.unis {
		ids = append(ids, r.ports[u].DeviceID)
	}
	slices.SortFunc(ids, cmp.Compare[string])
	return slices.Compact(ids)
}
