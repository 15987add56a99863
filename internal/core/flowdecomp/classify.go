package flowdecomp

import (
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// Field types by short name, for the code below.
const (
	fInPort   = openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT
	fMetadata = openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA
	fVID      = openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID
	fPCP      = openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP
	fTunnel   = openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID
)

// OpenFlow numbers the rules use.
const (
	ofpvidPresent = 0x1000
	firstReserved = 0xffffff00 // ports from here on are reserved (OFPP_MAX + 1)
	tpidCTag      = 0x8100
	tpidSTag      = 0x88a8
)

// matchable are the match fields a logical flow may use. Others (MPLS, PBB,
// IPv6 extension headers and ND, in_phy_port, tunnel_id, which the
// decomposer sets itself) are refused.
var matchable = map[openflowv1.MatchFieldType]bool{
	fInPort: true, fMetadata: true, fVID: true, fPCP: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:    true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_DSCP:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_ECN:      true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:    true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC:    true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST:    true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_TYPE: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_CODE: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_OP:      true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_SPA:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_TPA:     true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_SRC:    true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_DST:    true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_TYPE: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_CODE: true,
}

// settable are the fields a set_field action may write.
var settable = map[openflowv1.MatchFieldType]bool{
	fVID: true, fPCP: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC: true,
	openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_DSCP: true,
}

// logical is a logical flow taken apart.
type logical struct {
	f      *openflowv1.Flow
	in     uint32                   // in_port, or route.Any
	fields []*openflowv1.MatchField // the match without in_port and metadata
	md     *openflowv1.MatchField   // the metadata match, or nil

	meter   uint32               // 0: none
	actions []*openflowv1.Action // apply-actions before the output or group
	out     uint32               // output port; route.Any: none
	maxLen  uint32
	group   uint32
	hasGrp  bool

	hasGoto bool
	next    uint32 // goto_table
	wmd     uint64 // write_metadata, masked
	wmdMask uint64
	hasWMD  bool
}

// classify takes f apart and checks everything that does not depend on
// the routes.
func classify(f *openflowv1.Flow, lf *logical, meters map[uint32]*openflowv1.MeterConfig) error {
	*lf = logical{f: f, in: route.Any, out: route.Any}
	fields := f.GetMatch().GetFields()
	var seen uint64 // bit per field type
	for _, mf := range fields {
		t := mf.GetType()
		if !matchable[t] {
			return unsupported("match field %s", flowtext.FieldName(t))
		}
		if seen&(1<<uint(t)) != 0 {
			return unsupported("match: %s given twice", flowtext.FieldName(t))
		}
		seen |= 1 << uint(t)
		switch t {
		case fInPort:
			if mf.GetHasMask() {
				return unsupported("masked in_port")
			}
			lf.in = uint32(mf.GetValue())
			if lf.in == route.Any || lf.in >= firstReserved {
				return unsupported("in_port %s", flowtext.FormatPort(lf.in))
			}
		case fMetadata:
			lf.md = mf
		}
	}
	n := len(fields)
	if seen&(1<<uint(fInPort)) != 0 {
		n--
	}
	if lf.md != nil {
		n--
	}
	if n == len(fields) {
		lf.fields = fields
	} else {
		lf.fields = make([]*openflowv1.MatchField, 0, n)
		for _, mf := range fields {
			if t := mf.GetType(); t != fInPort && t != fMetadata {
				lf.fields = append(lf.fields, mf)
			}
		}
	}

	var hasApply, hasMeter bool
	for _, in := range f.GetInstructions() {
		switch i := in.GetInstruction().(type) {
		case *openflowv1.Instruction_Meter:
			if hasMeter {
				return unsupported("instructions: two meters")
			}
			hasMeter = true
			lf.meter = i.Meter.GetMeterId()
			if meters[lf.meter] == nil {
				return &cause{ErrUnknownMeter, "meter " + itoa(lf.meter) + " does not exist: add the meter before the flows that use it"}
			}
		case *openflowv1.Instruction_ApplyActions:
			if hasApply {
				return unsupported("instructions: two apply-actions")
			}
			hasApply = true
			if err := lf.takeActions(i.ApplyActions.GetActions()); err != nil {
				return err
			}
		case *openflowv1.Instruction_GotoTable:
			lf.hasGoto, lf.next = true, i.GotoTable.GetTableId()
			if lf.next <= f.GetTableId() {
				return unsupported("goto_table:%d from table %d (tables only go forward)", lf.next, f.GetTableId())
			}
		case *openflowv1.Instruction_WriteMetadata:
			mask := i.WriteMetadata.GetMetadataMask()
			if mask == 0 {
				mask = ^uint64(0)
			}
			lf.hasWMD, lf.wmd, lf.wmdMask = true, i.WriteMetadata.GetMetadata()&mask, mask
		case *openflowv1.Instruction_ClearActions:
			// Nothing is ever written to the action set, so there is nothing to clear.
		case *openflowv1.Instruction_WriteActions:
			return unsupported("instruction write_actions (use apply-actions)")
		default:
			return unsupported("instruction %s", flowtext.FormatInstruction(in))
		}
	}
	switch {
	case lf.hasGoto && (lf.out != route.Any || lf.hasGrp):
		return unsupported("flow that both outputs and goes to table %d", lf.next)
	case lf.hasGoto && f.GetTableId() > 0:
		return unsupported("goto_table from table %d: at most two tables, the second one final", f.GetTableId())
	case lf.md != nil && f.GetTableId() == 0 && !lf.hasGoto && lf.out == route.Any && !lf.hasGrp:
		return unsupported("metadata match on a drop flow in table 0")
	}
	return nil
}

// takeActions splits an apply-actions list into the actions and the output
// or group that ends it.
func (lf *logical) takeActions(acts []*openflowv1.Action) error {
	for i, a := range acts {
		if lf.out != route.Any || lf.hasGrp {
			return unsupported("action %s after the output (one output, last)", flowtext.FormatAction(a))
		}
		switch x := a.GetAction().(type) {
		case *openflowv1.Action_Output:
			p := x.Output.GetPort()
			switch {
			case p == route.Controller:
				lf.maxLen = x.Output.GetMaxLen()
			case p == route.Any || p >= firstReserved:
				return unsupported("output to %s", flowtext.FormatPort(p))
			}
			lf.out = p
			lf.actions = acts[:i]
		case *openflowv1.Action_Group:
			lf.hasGrp, lf.group = true, x.Group.GetGroupId()
			lf.actions = acts[:i]
		default:
			if err := checkAction(a); err != nil {
				return err
			}
		}
	}
	if lf.out == route.Any && !lf.hasGrp {
		lf.actions = acts
	}
	return nil
}

// checkAction accepts the actions that only edit the packet and that the
// devices can do.
func checkAction(a *openflowv1.Action) error {
	switch x := a.GetAction().(type) {
	case *openflowv1.Action_PushVlan:
		if e := x.PushVlan.GetEthertype(); e != tpidCTag && e != tpidSTag {
			return unsupported("action %s (VLAN tags are 0x8100 or 0x88a8)", flowtext.FormatAction(a))
		}
	case *openflowv1.Action_PopVlan, *openflowv1.Action_SetQueue:
	case *openflowv1.Action_SetField:
		if t := x.SetField.GetField().GetType(); !settable[t] {
			return unsupported("action set_field of %s", flowtext.FieldName(t))
		}
	default:
		return unsupported("action %s", flowtext.FormatAction(a))
	}
	return nil
}

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
