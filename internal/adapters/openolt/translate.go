package openolt

import (
	"fmt"
	"strings"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// Pure translation of one OLT device flow (as internal/core/flowdecomp
// makes them) into the openolt flow it becomes, before resource ids are
// filled in. The shapes:
//
//	in_port=PON, tunnel_id=UNI, …, actions=CONTROLLER  → upstream trap (trap_to_host)
//	in_port=NNI, …, actions=CONTROLLER                 → downstream trap from the network
//	in_port=PON, tunnel_id=UNI, …, push/set, output:NNI → upstream unicast
//	in_port=NNI, [metadata=C-tag], …, pop/set, set tunnel_id=UNI, output:PON → downstream unicast
//	in_port=NNI, …, group:G                            → multicast (to the PON of the group)

const (
	ofppController = 0xfffffffd
	vidPresent     = 0x1000
	tpidDot1Q      = 0x8100
)

// plan is one translated flow: the openolt flow without ids, and what the
// ids depend on.
type plan struct {
	flow  *openolt.Flow
	onu   bool   // a subscriber's flow: needs an ONU, alloc and GEM ids
	pon   uint32 // of the subscriber
	onuID uint32
	uni   uint32
	meter uint32 // the meter the flow names, 0: none
	pbit  int    // the p-bit the flow matches, -1: any
	group uint32 // multicast: the group
	tpID  uint32 // the tech profile write_metadata names (bits 47-32), 0: none
}

func badFlow(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "openolt: "+format, args...)
}

// translate maps device flow f onto an openolt flow.
func translate(f *openflowv1.Flow) (*plan, error) {
	p := &plan{pbit: -1}
	c := &openolt.Classifier{}
	var inPort uint32
	var tunnel uint32
	var haveTunnel bool
	tagged := false
	for _, m := range f.GetMatch().GetFields() {
		v := m.GetValue()
		switch m.GetType() {
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:
			inPort = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID:
			tunnel, haveTunnel = uint32(v), true
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA:
			c.IVid = uint32(v & 0xfff) // the inner VID (flowdecomp's downstream convention)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:
			c.EthType = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
			switch {
			case v == 0 && !m.GetHasMask():
				c.PktTagType = "untagged"
			case m.GetHasMask():
				tagged = true
				c.OVid = 4096 // any VID
			default:
				tagged = true
				c.OVid = uint32(v &^ vidPresent)
			}
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
			c.OPbits = uint32(v)
			p.pbit = int(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:
			c.IpProto = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC:
			c.SrcPort = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST:
			c.DstPort = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST:
			c.DstIp = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC:
			c.SrcIp = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST:
			c.DstMac = m.GetBytesValue()
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC:
			c.SrcMac = m.GetBytesValue()
		default:
			return nil, badFlow("flow %#x: the OLT cannot match %s", f.GetId(), m.GetType())
		}
	}
	if tagged {
		c.PktTagType = "single_tag"
		if c.IVid != 0 {
			c.PktTagType = "double_tag"
		}
	}
	a := &openolt.Action{Cmd: &openolt.ActionCmd{}}
	var out uint32
	var haveOut, pushed bool
	pops := 0
	for _, in := range f.GetInstructions() {
		switch i := in.GetInstruction().(type) {
		case *openflowv1.Instruction_Meter:
			p.meter = i.Meter.GetMeterId()
		case *openflowv1.Instruction_ApplyActions, *openflowv1.Instruction_WriteActions:
			acts := in.GetApplyActions().GetActions()
			if acts == nil {
				acts = in.GetWriteActions().GetActions()
			}
			for _, act := range acts {
				switch x := act.GetAction().(type) {
				case *openflowv1.Action_Output:
					out, haveOut = x.Output.GetPort(), true
				case *openflowv1.Action_PushVlan:
					pushed = true
					a.Cmd.AddOuterTag = true
					a.OTpid = x.PushVlan.GetEthertype()
				case *openflowv1.Action_PopVlan:
					pops++
				case *openflowv1.Action_Group:
					p.group = x.Group.GetGroupId()
				case *openflowv1.Action_SetField:
					sf := x.SetField.GetField()
					switch sf.GetType() {
					case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
						a.OVid = uint32(sf.GetValue() &^ vidPresent)
						if !pushed {
							a.Cmd.TranslateOuterTag = true
						}
					case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
						a.OPbits = uint32(sf.GetValue())
						a.Cmd.RemarkOuterPbits = true
					case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID:
						tunnel, haveTunnel = uint32(sf.GetValue()), true
					default:
						return nil, badFlow("flow %#x: the OLT cannot set %s", f.GetId(), sf.GetType())
					}
				default:
					return nil, badFlow("flow %#x: the OLT has no action %T", f.GetId(), x)
				}
			}
		case *openflowv1.Instruction_WriteMetadata:
			// flowdecomp passes on the logical flow's tech-profile bits.
			p.tpID = uint32(i.WriteMetadata.GetMetadata()>>32) & 0xffff
		case *openflowv1.Instruction_GotoTable:
			// One table on the OLT: flowdecomp has folded it.
		default:
			return nil, badFlow("flow %#x: the OLT has no instruction %T", f.GetId(), i)
		}
	}
	if pops > 1 {
		return nil, badFlow("flow %#x: the OLT pops one tag (the S-tag), this flow pops %d", f.GetId(), pops)
	}
	if pops == 1 {
		a.Cmd.RemoveOuterTag = true
	}
	if a.Cmd.AddOuterTag && a.OTpid == 0 {
		a.OTpid = tpidDot1Q
	}
	p.flow = &openolt.Flow{
		AccessIntfId: -1, OnuId: -1, UniId: -1, GemportId: -1, AllocId: -1,
		Priority: int32(f.GetPriority()), Cookie: f.GetCookie(), Classifier: c, Action: a,
	}
	fromPON := inPort&^0xff == portno.OLTPON(0) && inPort != 0
	switch {
	case haveOut && out == ofppController && portno.IsNNI(inPort):
		p.flow.FlowType = "downstream"
		p.flow.NetworkIntfId = int32(inPort - portno.NNI(0))
		p.flow.Action = &openolt.Action{Cmd: &openolt.ActionCmd{TrapToHost: true}}
	case haveOut && out == ofppController:
		if !fromPON || !haveTunnel || !portno.IsUNI(tunnel) {
			return nil, badFlow("flow %#x: a trap from port %d without a UNI (tunnel_id)", f.GetId(), inPort)
		}
		p.flow.FlowType = "upstream"
		p.flow.Action = &openolt.Action{Cmd: &openolt.ActionCmd{TrapToHost: true}}
		p.setUNI(tunnel)
	case p.group != 0 && portno.IsNNI(inPort):
		p.flow.FlowType = "multicast"
		p.flow.NetworkIntfId = int32(inPort - portno.NNI(0))
		p.flow.GroupId = p.group
	case haveOut && fromPON && portno.IsNNI(out):
		if !haveTunnel || !portno.IsUNI(tunnel) {
			return nil, badFlow("flow %#x: upstream from port %d without a UNI (tunnel_id)", f.GetId(), inPort)
		}
		p.flow.FlowType = "upstream"
		p.flow.NetworkIntfId = int32(out - portno.NNI(0))
		p.setUNI(tunnel)
	case haveOut && portno.IsNNI(inPort) && out&^0xff == portno.OLTPON(0):
		if !haveTunnel || !portno.IsUNI(tunnel) {
			return nil, badFlow("flow %#x: downstream to port %d without a UNI (set tunnel_id)", f.GetId(), out)
		}
		p.flow.FlowType = "downstream"
		p.flow.NetworkIntfId = int32(inPort - portno.NNI(0))
		p.setUNI(tunnel)
	default:
		return nil, badFlow("flow %#x: in_port %d to %d is no flow shape the OLT knows", f.GetId(), inPort, out)
	}
	if p.flow.Classifier.GetPktTagType() == "" && p.flow.FlowType != "multicast" && !p.onu {
		p.flow.Classifier.PktTagType = "untagged"
	}
	return p, nil
}

func (p *plan) setUNI(port uint32) {
	p.onu = true
	p.pon, p.onuID, p.uni = portno.SplitUNI(port)
	p.flow.AccessIntfId = int32(p.pon)
	p.flow.OnuId = int32(p.onuID)
	p.flow.UniId = int32(p.uni)
	p.flow.PortNo = port
}

// describe is a flow in one readable line (golden files, logs).
func describeFlow(f *openolt.Flow) string {
	c, a := f.GetClassifier(), f.GetAction()
	s := fmt.Sprintf("flow_id=%d %s prio=%d", f.GetFlowId(), f.GetFlowType(), f.GetPriority())
	if f.GetAccessIntfId() >= 0 {
		s += fmt.Sprintf(" pon=%d onu=%d uni=%d port_no=%d alloc=%d gem=%d", f.GetAccessIntfId(), f.GetOnuId(), f.GetUniId(), f.GetPortNo(), f.GetAllocId(), f.GetGemportId())
	} else {
		s += fmt.Sprintf(" nni=%d", f.GetNetworkIntfId())
	}
	if f.GetReplicateFlow() {
		s += " replicate="
		for p := range uint32(8) {
			if g, ok := f.GetPbitToGemport()[p]; ok {
				s += fmt.Sprintf("%d:%d,", p, g)
			}
		}
		s = strings.TrimSuffix(s, ",")
	}
	if f.GetGroupId() != 0 {
		s += fmt.Sprintf(" group=%d", f.GetGroupId())
	}
	s += fmt.Sprintf(" | tag=%s", c.GetPktTagType())
	for _, kv := range []struct {
		k string
		v uint32
	}{{"o_vid", c.GetOVid()}, {"i_vid", c.GetIVid()}, {"o_pbits", c.GetOPbits()}, {"eth_type", c.GetEthType()}, {"ip_proto", c.GetIpProto()}, {"src_port", c.GetSrcPort()}, {"dst_port", c.GetDstPort()}} {
		if kv.v != 0 {
			if kv.k == "eth_type" {
				s += fmt.Sprintf(" %s=0x%04x", kv.k, kv.v)
			} else {
				s += fmt.Sprintf(" %s=%d", kv.k, kv.v)
			}
		}
	}
	s += " | "
	cmd := a.GetCmd()
	switch {
	case cmd.GetTrapToHost():
		s += "trap_to_host"
	default:
		var parts []string
		if cmd.GetRemoveOuterTag() {
			parts = append(parts, "remove_outer_tag")
		}
		if cmd.GetAddOuterTag() {
			parts = append(parts, fmt.Sprintf("add_outer_tag(o_vid=%d,o_tpid=0x%04x)", a.GetOVid(), a.GetOTpid()))
		}
		if cmd.GetTranslateOuterTag() {
			parts = append(parts, fmt.Sprintf("translate_outer_tag(o_vid=%d)", a.GetOVid()))
		}
		if cmd.GetRemarkOuterPbits() {
			parts = append(parts, fmt.Sprintf("remark_outer_pbits(%d)", a.GetOPbits()))
		}
		if len(parts) == 0 {
			parts = append(parts, "forward")
		}
		for i, p := range parts {
			if i > 0 {
				s += ","
			}
			s += p
		}
	}
	return s
}
