package flowdecomp

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/route"
)

// mdPortMask and the shifts below are the write_metadata layout: bits
// 63–48 the C-tag VID, 47–32 the technology profile, 31–0 a port.
const (
	mdPortMask  = 0xffffffff
	mdCTagShift = 48
	mdTPShift   = 32
	mdTPMask    = 0xffff << mdTPShift
	vidMask     = 0xfff
)

// decompose adds the device rules of one logical flow to out.
func (d *Decomposer) decompose(f *openflowv1.Flow, groups map[uint32]*openflowv1.GroupDesc,
	meters map[uint32]*openflowv1.MeterConfig, out Rules) error {
	var lf logical
	if err := classify(f, &lf, meters); err != nil {
		return err
	}
	var g *openflowv1.GroupDesc
	if lf.hasGrp {
		if g = groups[lf.group]; g == nil {
			return &cause{ErrUnknownGroup, "group " + itoa(lf.group) + " does not exist: add the group before the flows that use it"}
		}
	}
	if lf.in != route.Any {
		return d.place(&lf, g, meters, out)
	}
	// No in_port: one flow per logical port it can come in by.
	placed := false
	for _, ports := range [][]uint32{d.routes.NNIs(), d.routes.UNIs()} {
		for _, p := range ports {
			if p == lf.out {
				continue
			}
			one := lf
			one.in = p
			err := d.place(&one, g, meters, out)
			var be *bucketError
			switch {
			case errors.Is(err, ErrNoRoute) && !errors.As(err, &be):
				continue // not a port this flow can come in by
			case err != nil:
				return err
			}
			placed = true
		}
	}
	if !placed {
		return noRoute("the flow matches no in_port, and it has a route from no logical port")
	}
	return nil
}

// place adds the device rules of a logical flow with a known in_port.
func (d *Decomposer) place(lf *logical, g *openflowv1.GroupDesc, meters map[uint32]*openflowv1.MeterConfig, out Rules) error {
	in, ok := d.routes.Port(lf.in)
	if !ok || in.Unroutable != "" {
		_, err := d.routes.Route(lf.in, lf.out)
		return err
	}
	var dfs []deviceFlow
	var err error
	switch {
	case lf.hasGoto:
		dfs, err = d.firstTable(lf, in)
	case lf.hasGrp:
		return d.multicast(lf, in, g, meters, out)
	case lf.f.GetTableId() > 0:
		dfs, err = d.lastTable(lf, in)
	default:
		dfs, err = d.singleTable(lf, in)
	}
	if err != nil {
		return err
	}
	if tp := lf.wmd & lf.wmdMask & mdTPMask >> mdTPShift; tp != 0 {
		// The tech profile travels to the OLT's flows (its adapter sets
		// up the UNI's T-CONT and GEM ports from it).
		for i := range dfs {
			if dfs[i].dev == d.routes.OLT() {
				dfs[i].tp = tp
			}
		}
	}
	return add(out, lf.f, meters, dfs...)
}

// add makes the device flows and adds them, with the meters they use.
func add(out Rules, f *openflowv1.Flow, meters map[uint32]*openflowv1.MeterConfig, dfs ...deviceFlow) error {
	for i := range dfs {
		df := &dfs[i]
		if err := out.addFlow(df.dev, df.make(f)); err != nil {
			return err
		}
		if df.meter != 0 {
			out.addMeter(df.dev, meters[df.meter])
		}
	}
	return nil
}

// firstTable places a table-0 flow that goes on to another table: the
// ingress device does its part. Upstream that is the ONU, whatever the
// later table decides; downstream it is the OLT, towards the UNI that
// write_metadata names.
func (d *Decomposer) firstTable(lf *logical, in route.Port) ([]deviceFlow, error) {
	if in.Kind == route.UNI {
		if lf.md != nil {
			return nil, unsupported("metadata match in table 0 of a flow from UNI %d", lf.in)
		}
		rt, err := d.routes.Route(lf.in, route.Any)
		if err != nil {
			return nil, err
		}
		onu := rt[0]
		return []deviceFlow{{dev: onu.DeviceID, in: onu.Ingress, fields: lf.fields, meter: lf.meter,
			acts: lf.actions, setTun: lf.in, final: output(onu.Egress, 0)}}, nil
	}
	if !lf.hasWMD || lf.wmdMask&mdPortMask != mdPortMask || lf.wmd&mdPortMask == 0 {
		return nil, noRoute("a flow from NNI %d that goes to table %d must name its UNI in write_metadata bits 0-31",
			lf.in, lf.next)
	}
	uni := uint32(lf.wmd & mdPortMask)
	rt, err := d.routes.Route(lf.in, uni)
	if err != nil {
		return nil, fmt.Errorf("write_metadata: %w", err)
	}
	olt := rt[0]
	inner := lf.md
	if cTag := lf.wmd >> mdCTagShift & vidMask; inner == nil && cTag != 0 && lf.wmdMask>>mdCTagShift&vidMask == vidMask && pops(lf.actions) {
		inner = &openflowv1.MatchField{Type: fMetadata, Value: cTag}
	}
	return []deviceFlow{{dev: olt.DeviceID, in: olt.Ingress, fields: lf.fields, inner: inner, meter: lf.meter,
		acts: lf.actions, setTun: uni, final: output(olt.Egress, 0)}}, nil
}

// lastTable places a flow of a later table: the egress device does it, on
// the packet as the first table's device sent it. A metadata match is
// dropped: the device flow knows its subscriber by tunnel_id and VLAN.
func (d *Decomposer) lastTable(lf *logical, in route.Port) ([]deviceFlow, error) {
	if lf.out == route.Any { // a drop
		if in.Kind != route.UNI {
			return nil, noRoute("a drop in table %d from NNI %d names no UNI to drop at", lf.f.GetTableId(), lf.in)
		}
		return []deviceFlow{{dev: in.OLTID, in: in.OLTPON, fields: lf.fields, tunnel: lf.in}}, nil
	}
	rt, err := d.routes.Route(lf.in, lf.out)
	if err != nil {
		return nil, err
	}
	hop := rt[len(rt)-1]
	df := deviceFlow{dev: hop.DeviceID, in: hop.Ingress, fields: lf.fields, meter: lf.meter,
		acts: lf.actions, final: output(hop.Egress, lf.maxLen)}
	switch {
	case len(rt) == 1: // NNI to the controller: the OLT does it all
	case in.Kind == route.UNI:
		df.tunnel = lf.in
	default:
		df.tunnel = lf.out
	}
	return []deviceFlow{df}, nil
}

// singleTable places a table-0 flow that outputs or drops: its actions
// are shared between the ONU and the OLT (splitUp, splitDown), and the
// meter stays on the ingress device.
func (d *Decomposer) singleTable(lf *logical, in route.Port) ([]deviceFlow, error) {
	if lf.md != nil && in.Kind == route.UNI {
		return nil, unsupported("metadata match in table 0 of a flow from UNI %d", lf.in)
	}
	if lf.out == route.Any { // a drop, at the ingress
		rt, err := d.routes.Route(lf.in, route.Any)
		if err != nil {
			return nil, err
		}
		return []deviceFlow{{dev: rt[0].DeviceID, in: rt[0].Ingress, fields: lf.fields, inner: lf.md}}, nil
	}
	rt, err := d.routes.Route(lf.in, lf.out)
	if err != nil {
		return nil, err
	}
	if len(rt) == 1 { // NNI to the controller
		return []deviceFlow{{dev: rt[0].DeviceID, in: rt[0].Ingress, fields: lf.fields, inner: lf.md,
			meter: lf.meter, acts: lf.actions, final: output(rt[0].Egress, lf.maxLen)}}, nil
	}
	first, second := rt[0], rt[1]
	if in.Kind == route.UNI { // upstream, or a trap
		k := len(lf.actions)
		if lf.out != route.Controller {
			k = splitUp(lf.fields, lf.actions)
		}
		return []deviceFlow{
			{dev: first.DeviceID, in: first.Ingress, fields: lf.fields, meter: lf.meter,
				acts: lf.actions[:k], setTun: lf.in, final: output(first.Egress, 0)},
			{dev: second.DeviceID, in: second.Ingress, fields: after(lf.fields, lf.actions[:k], nil), tunnel: lf.in,
				acts: lf.actions[k:], final: output(second.Egress, lf.maxLen)},
		}, nil
	}
	k := splitDown(lf.actions) // downstream
	return []deviceFlow{
		{dev: first.DeviceID, in: first.Ingress, fields: lf.fields, inner: lf.md, meter: lf.meter,
			acts: lf.actions[:k], setTun: lf.out, final: output(first.Egress, 0)},
		{dev: second.DeviceID, in: second.Ingress, fields: after(lf.fields, lf.actions[:k], lf.md), tunnel: lf.out,
			acts: lf.actions[k:], final: output(second.Egress, 0)},
	}, nil
}

// bucketError marks an error in a group's bucket, which is the group's
// fault and not the ingress port's.
type bucketError struct{ err error }

func (e *bucketError) Error() string { return e.err.Error() }
func (e *bucketError) Unwrap() error { return e.err }

// multicast places a flow from an NNI to a group: the OLT gets the flow
// and a copy of the group whose buckets output to the PON ports of the
// UNIs the logical buckets output to (one bucket per PON); each ONU gets a
// flow from its PON port that does its bucket's actions and outputs to its
// UNI. Multicast does not set tunnel_id: every ONU on the PON may take it.
func (d *Decomposer) multicast(lf *logical, in route.Port, g *openflowv1.GroupDesc,
	meters map[uint32]*openflowv1.MeterConfig, out Rules) error {
	if in.Kind != route.NNI {
		return noRoute("group %d from UNI %d: groups are for multicast from an NNI", lf.group, lf.in)
	}
	if lf.f.GetTableId() > 0 {
		return unsupported("group action in table %d (groups in table 0 only)", lf.f.GetTableId())
	}
	if t := g.GetType(); t != openflowv1.GroupType_GROUP_TYPE_ALL && t != openflowv1.GroupType_GROUP_TYPE_INDIRECT {
		return unsupported("group %d of type %s (all or indirect only)", lf.group,
			strings.ToLower(strings.TrimPrefix(t.String(), "GROUP_TYPE_")))
	}
	rt, err := d.routes.Route(lf.in, route.Any)
	if err != nil {
		return err
	}
	olt := rt[0]
	onPON := after(lf.fields, lf.actions, lf.md) // what the ONUs see
	oltGroup := &openflowv1.GroupDesc{Type: g.GetType(), GroupId: g.GetGroupId()}
	pons := map[uint32]bool{}
	var onus []deviceFlow
	for i, b := range g.GetBuckets() {
		acts := b.GetActions()
		if len(acts) == 0 {
			continue // a bucket that drops
		}
		bad := func(err error) error {
			return &bucketError{&cause{ErrUnsupported, fmt.Sprintf("group %d bucket %d: %v", lf.group, i+1, err)}}
		}
		o := acts[len(acts)-1].GetOutput()
		if o == nil {
			return bad(unsupported("bucket that does not end with an output"))
		}
		for _, a := range acts[:len(acts)-1] {
			if err := checkAction(a); err != nil {
				return bad(err)
			}
		}
		if p, ok := d.routes.Port(o.GetPort()); ok && p.Kind != route.UNI {
			return bad(unsupported("output to NNI %d (multicast goes to UNIs)", o.GetPort()))
		}
		brt, err := d.routes.Route(lf.in, o.GetPort())
		if err != nil {
			return &bucketError{fmt.Errorf("group %d bucket %d: %w", lf.group, i+1, err)}
		}
		if !pons[brt[0].Egress] {
			pons[brt[0].Egress] = true
			oltGroup.Buckets = append(oltGroup.Buckets, &openflowv1.Bucket{Actions: []*openflowv1.Action{output(brt[0].Egress, 0)}})
		}
		onu := brt[1]
		bucketActs := acts[:len(acts)-1]
		merged := false
		for j := range onus {
			if onus[j].dev != onu.DeviceID {
				continue
			}
			if !sameActions(onus[j].acts, bucketActs) {
				return bad(unsupported("bucket with other actions than another bucket for ONU %q (an ONU gets one flow per group)", onu.DeviceID))
			}
			onus[j].extra = append(onus[j].extra, output(onu.Egress, 0))
			merged = true
		}
		if !merged {
			onus = append(onus, deviceFlow{dev: onu.DeviceID, in: onu.Ingress, fields: onPON,
				acts: bucketActs, final: output(onu.Egress, 0)})
		}
	}
	oltFlow := deviceFlow{dev: olt.DeviceID, in: olt.Ingress, fields: lf.fields, inner: lf.md, meter: lf.meter,
		acts: lf.actions, final: groupAction(lf.group)}
	if err := add(out, lf.f, meters, oltFlow); err != nil {
		return err
	}
	out.addGroup(olt.DeviceID, oltGroup)
	return add(out, lf.f, meters, onus...)
}

func sameActions(a, b []*openflowv1.Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
