package openolt

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// An openolt flow becomes one OLT flow (one per p-bit with
// pbit_to_gemport) in the simulator's OLT table, with id
// flowIDBase | flow_id<<4 | n, apart from flows given over the PonSim API.
const (
	flowIDBase  = 1 << 62
	maxFlowID   = 1<<58 - 1
	defaultPrio = 1000
)

// flowState is one openolt flow the OLT holds.
type flowState struct {
	flow  *openolt.Flow
	onu   *onuState // nil: an NNI flow
	simID []uint64
	gems  []uint32
}

// FlowAdd validates an openolt flow as an OLT does and programs the OLT's
// table with it. The same flow again is accepted; the same flow_id with
// other content is refused (AlreadyExists).
func (s *Server) FlowAdd(_ context.Context, f *openolt.Flow) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return empty(s.addFlowLocked(f))
}

func (s *Server) addFlowLocked(f *openolt.Flow) error {
	if f.GetFlowId() == 0 || f.GetFlowId() > maxFlowID {
		return fail(errInvalid, "flow_id %d out of range 1..%d", f.GetFlowId(), uint64(maxFlowID))
	}
	if old := s.flows[f.GetFlowId()]; old != nil {
		if proto.Equal(protoadapt.MessageV2Of(old.flow), protoadapt.MessageV2Of(f)) {
			return nil
		}
		return fail(errInUse, "flow_id %d is in use by another flow", f.GetFlowId())
	}
	if f.GetClassifier() == nil {
		return fail(errInvalid, "flow %d: classifier is missing", f.GetFlowId())
	}
	if f.GetAction() == nil {
		return fail(errInvalid, "flow %d: action is missing", f.GetFlowId())
	}
	if f.GetNetworkIntfId() > 0 {
		return fail(errNotFound, "flow %d: network_intf_id %d: the olt has nni 0 only", f.GetFlowId(), f.GetNetworkIntfId())
	}
	trap := f.GetAction().GetCmd().GetTrapToHost()
	st := &flowState{flow: protoadapt.MessageV1Of(proto.Clone(protoadapt.MessageV2Of(f))).(*openolt.Flow)}
	var texts []string
	var err error
	switch f.GetFlowType() {
	case "upstream", "downstream":
		if f.GetFlowType() == "downstream" && trap && f.GetOnuId() <= 0 {
			texts, err = nniTrap(f) // from the network: LLDP, DHCP answers…
			break
		}
		st.onu, st.gems, err = s.checkONUFlowLocked(f)
		if err == nil {
			texts, err = onuFlowTexts(f, st.onu, trap)
		}
	case "multicast":
		if err = s.checkPONLocked(uint32(f.GetAccessIntfId())); f.GetAccessIntfId() < 0 || err != nil {
			return fail(errNotFound, "flow %d: access_intf_id %d is no pon interface", f.GetFlowId(), f.GetAccessIntfId())
		}
		var m, a string
		if m, err = matchText(f.GetClassifier()); err == nil {
			if a, err = tagActions(f.GetAction()); err == nil {
				texts = []string{join(prio(f), fmt.Sprintf("in_port=%d", portno.NNI(0)), m,
					"actions="+join(a, fmt.Sprintf("output:%d", portno.OLTPON(uint32(f.GetAccessIntfId())))))}
			}
		}
	default:
		return fail(errInvalid, "flow %d: flow_type %q (upstream, downstream or multicast)", f.GetFlowId(), f.GetFlowType())
	}
	if err != nil {
		return fmt.Errorf("flow %d: %w", f.GetFlowId(), err)
	}
	var add []*openflowv1.Flow
	for i, t := range texts {
		fl, err := flowtext.ParseFlow(t)
		if err != nil {
			return fail(errInvalid, "flow %d: %v", f.GetFlowId(), err)
		}
		fl.Id = flowIDBase | f.GetFlowId()<<4 | uint64(i)
		fl.Cookie = f.GetCookie()
		add = append(add, fl)
		st.simID = append(st.simID, fl.Id)
	}
	if err := s.sim.ChangeFlows(&ponsimv1.FlowChanges{Device: &ponsimv1.DeviceRef{}, Add: add}); err != nil {
		return fmt.Errorf("flow %d: %w", f.GetFlowId(), err)
	}
	if st.onu != nil {
		for _, g := range st.gems {
			s.gems[resKey{st.onu.pon, g}] = st.onu
		}
		if f.GetAllocId() > 0 {
			s.allocs[resKey{st.onu.pon, uint32(f.GetAllocId())}] = st.onu
		}
	}
	s.flows[f.GetFlowId()] = st
	return nil
}

// checkONUFlowLocked checks the ids of a flow of a subscriber and returns
// its ONU and GEM ports.
func (s *Server) checkONUFlowLocked(f *openolt.Flow) (*onuState, []uint32, error) {
	if f.GetAccessIntfId() < 0 {
		return nil, nil, fail(errInvalid, "access_intf_id is missing")
	}
	pon := uint32(f.GetAccessIntfId())
	if err := s.checkPONLocked(pon); err != nil {
		return nil, nil, fail(errNotFound, "access_intf_id %d is no pon interface", pon)
	}
	if f.GetOnuId() <= 0 {
		return nil, nil, fail(errInvalid, "onu_id is missing")
	}
	u := s.byID[onuKey{pon, uint32(f.GetOnuId())}]
	if u == nil {
		return nil, nil, fail(errPrecondition, "onu_id %d on pon %d is not activated", f.GetOnuId(), pon)
	}
	if f.GetUniId() < 0 {
		return nil, nil, fail(errInvalid, "uni_id %d is negative", f.GetUniId())
	}
	if f.GetUniId() > 0 {
		return nil, nil, fail(errNotFound, "uni_id %d: the simulator forwards on uni 0 of each onu", f.GetUniId())
	}
	want := portno.UNI(pon, uint32(f.GetOnuId()), uint32(f.GetUniId()))
	switch {
	case f.GetPortNo() == 0:
		return nil, nil, fail(errInvalid, "port_no is missing (want %d)", want)
	case f.GetPortNo() != want:
		return nil, nil, fail(errInvalid, "port_no %d does not match access_intf_id %d, onu_id %d, uni_id %d (want %d)",
			f.GetPortNo(), pon, f.GetOnuId(), f.GetUniId(), want)
	}
	var gems []uint32
	if f.GetReplicateFlow() {
		if len(f.GetPbitToGemport()) == 0 {
			return nil, nil, fail(errInvalid, "replicate_flow without pbit_to_gemport")
		}
		for p, g := range f.GetPbitToGemport() {
			if p > 7 {
				return nil, nil, fail(errInvalid, "pbit_to_gemport: p-bit %d out of range 0..7", p)
			}
			gems = append(gems, g)
		}
		slices.Sort(gems)
		gems = slices.Compact(gems)
	} else {
		if f.GetGemportId() <= 0 {
			return nil, nil, fail(errInvalid, "gemport_id is missing")
		}
		gems = []uint32{uint32(f.GetGemportId())}
	}
	perPON := uint32(s.sim.ONUsPerPON())
	for _, g := range gems {
		if g < FirstGemPortID || g > FirstGemPortID+perPON*GemPortsPerONU-1 {
			return nil, nil, fail(errInvalid, "gemport_id %d out of range %d..%d", g, FirstGemPortID, FirstGemPortID+perPON*GemPortsPerONU-1)
		}
		if o := s.gemOwnerLocked(u, g); o != nil {
			return nil, nil, fail(errInUse, "gem-%d-already-in-use: gemport_id %d on pon %d belongs to onu %d", g, g, pon, o.id.Load())
		}
	}
	if f.GetFlowType() == "upstream" && f.GetAllocId() <= 0 {
		return nil, nil, fail(errInvalid, "alloc_id is missing")
	}
	if a := f.GetAllocId(); a > 0 {
		if err := s.checkAllocLocked(u, uint32(a)); err != nil {
			return nil, nil, err
		}
	}
	return u, gems, nil
}

func (s *Server) checkAllocLocked(u *onuState, a uint32) error {
	perPON := uint32(s.sim.ONUsPerPON())
	if a < FirstAllocID || a > FirstAllocID+perPON*AllocIDsPerONU-1 {
		return fail(errInvalid, "alloc_id %d out of range %d..%d", a, FirstAllocID, FirstAllocID+perPON*AllocIDsPerONU-1)
	}
	if o := s.allocs[resKey{u.pon, a}]; o != nil && o != u {
		return fail(errInUse, "alloc-%d-already-in-use: alloc_id %d on pon %d belongs to onu %d", a, a, u.pon, o.id.Load())
	}
	return nil
}

func prio(f *openolt.Flow) string {
	p := f.GetPriority()
	if p <= 0 {
		p = defaultPrio
	}
	return fmt.Sprintf("priority=%d", min(p, 65535))
}

func join(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), ",")
}

// nniTrap is a trap of frames from the network.
func nniTrap(f *openolt.Flow) ([]string, error) {
	m, err := matchText(f.GetClassifier())
	if err != nil {
		return nil, err
	}
	return []string{join(prio(f), fmt.Sprintf("in_port=%d", portno.NNI(0)), m, "actions=CONTROLLER:65535")}, nil
}

// onuFlowTexts is a subscriber's flow, one per p-bit with pbit_to_gemport.
func onuFlowTexts(f *openolt.Flow, u *onuState, trap bool) ([]string, error) {
	m, err := matchText(f.GetClassifier())
	if err != nil {
		return nil, err
	}
	acts := "actions=CONTROLLER:65535"
	if !trap {
		a, err := tagActions(f.GetAction())
		if err != nil {
			return nil, err
		}
		if f.GetFlowType() == "upstream" {
			acts = "actions=" + join(a, fmt.Sprintf("output:%d", portno.NNI(0)))
		} else {
			acts = "actions=" + join(a, fmt.Sprintf("set_field:%d->tunnel_id", u.uni), fmt.Sprintf("output:%d", portno.OLTPON(u.pon)))
		}
	}
	in := fmt.Sprintf("in_port=%d,tunnel_id=%d", portno.OLTPON(u.pon), u.uni)
	if f.GetFlowType() == "downstream" {
		in = fmt.Sprintf("in_port=%d", portno.NNI(0))
	}
	if !f.GetReplicateFlow() {
		return []string{join(prio(f), in, m, acts)}, nil
	}
	var out []string
	for p := range uint32(8) {
		if _, ok := f.GetPbitToGemport()[p]; ok {
			out = append(out, join(prio(f), in, m, fmt.Sprintf("vlan_pcp=%d", p), acts))
		}
	}
	return out, nil
}

// matchText is the classifier as flowtext match fields.
func matchText(c *openolt.Classifier) (string, error) {
	var m []string
	tagged := true
	switch c.GetPktTagType() {
	case "untagged":
		tagged = false
		m = append(m, "vlan_vid=untagged")
	case "", "single_tag", "double_tag":
		switch v := c.GetOVid(); {
		case v == 0 && c.GetPktTagType() == "":
			tagged = false
		case v == 0 || v == 4096:
			m = append(m, "vlan_vid=tagged")
		case v < 4096:
			m = append(m, fmt.Sprintf("vlan_vid=%d", v))
		default:
			return "", fail(errInvalid, "classifier.o_vid %d out of range 0..4096", v)
		}
		if v := c.GetIVid(); v != 0 && v != 4096 {
			if v > 4095 {
				return "", fail(errInvalid, "classifier.i_vid %d out of range 0..4096", v)
			}
			m = append(m, fmt.Sprintf("metadata=%d", v)) // in table 0: the inner VID
		}
	default:
		return "", fail(errInvalid, "classifier.pkt_tag_type %q (untagged, single_tag or double_tag)", c.GetPktTagType())
	}
	if p := c.GetOPbits(); tagged && p > 0 && p <= 7 {
		m = append(m, fmt.Sprintf("vlan_pcp=%d", p))
	}
	if c.GetEthType() != 0 {
		m = append(m, fmt.Sprintf("eth_type=0x%04x", c.GetEthType()))
	}
	if c.GetIpProto() != 0 {
		m = append(m, fmt.Sprintf("ip_proto=%d", c.GetIpProto()))
	}
	if c.GetSrcPort() != 0 || c.GetDstPort() != 0 {
		var l4 string
		switch c.GetIpProto() {
		case 17:
			l4 = "udp"
		case 6:
			l4 = "tcp"
		default:
			return "", fail(errInvalid, "classifier.ip_proto %d with src_port/dst_port (want 6 or 17)", c.GetIpProto())
		}
		if c.GetSrcPort() != 0 {
			m = append(m, fmt.Sprintf("%s_src=%d", l4, c.GetSrcPort()))
		}
		if c.GetDstPort() != 0 {
			m = append(m, fmt.Sprintf("%s_dst=%d", l4, c.GetDstPort()))
		}
	}
	for _, ip := range []struct {
		name string
		v    uint32
	}{{"ipv4_src", c.GetSrcIp()}, {"ipv4_dst", c.GetDstIp()}} {
		if ip.v != 0 {
			m = append(m, fmt.Sprintf("%s=%s", ip.name, net.IPv4(byte(ip.v>>24), byte(ip.v>>16), byte(ip.v>>8), byte(ip.v))))
		}
	}
	for _, mac := range []struct {
		name string
		v    []byte
	}{{"eth_src", c.GetSrcMac()}, {"eth_dst", c.GetDstMac()}} {
		switch len(mac.v) {
		case 0:
		case 6:
			m = append(m, fmt.Sprintf("%s=%s", mac.name, net.HardwareAddr(mac.v)))
		default:
			return "", fail(errInvalid, "classifier.%s_mac is %d bytes (want 6)", strings.TrimPrefix(mac.name, "eth_"), len(mac.v))
		}
	}
	return strings.Join(m, ","), nil
}

// tagActions are the VLAN actions of a, as flowtext actions.
func tagActions(a *openolt.Action) (string, error) {
	cmd := a.GetCmd()
	var out []string
	vid := func(field string, v uint32) error {
		if v == 0 || v > 4095 {
			return fail(errInvalid, "action.%s %d out of range 1..4095", field, v)
		}
		return nil
	}
	tpid := func(t uint32) uint32 {
		if t == 0 {
			return 0x8100
		}
		return t
	}
	if cmd.GetRemoveOuterTag() {
		out = append(out, "pop_vlan")
	}
	if cmd.GetRemoveInnerTag() {
		out = append(out, "pop_vlan")
	}
	if cmd.GetTranslateOuterTag() {
		if err := vid("o_vid", a.GetOVid()); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("set_field:%d->vlan_vid", a.GetOVid()))
	}
	if cmd.GetAddInnerTag() {
		if err := vid("i_vid", a.GetIVid()); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("push_vlan:0x%04x", tpid(a.GetITpid())), fmt.Sprintf("set_field:%d->vlan_vid", a.GetIVid()))
	}
	if cmd.GetAddOuterTag() {
		if err := vid("o_vid", a.GetOVid()); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("push_vlan:0x%04x", tpid(a.GetOTpid())), fmt.Sprintf("set_field:%d->vlan_vid", a.GetOVid()))
	}
	if cmd.GetRemarkOuterPbits() && a.GetOPbits() <= 7 {
		out = append(out, fmt.Sprintf("set_field:%d->vlan_pcp", a.GetOPbits()))
	}
	return strings.Join(out, ","), nil
}

// FlowRemove removes a flow by flow_id; removing one the OLT does not hold
// succeeds (as on a real OLT).
func (s *Server) FlowRemove(_ context.Context, f *openolt.Flow) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.flows[f.GetFlowId()]; st != nil {
		s.removeFlowLocked(f.GetFlowId(), st)
	}
	return empty(nil)
}

func (s *Server) removeFlowLocked(id uint64, st *flowState) {
	delete(s.flows, id)
	if err := s.sim.ChangeFlows(&ponsimv1.FlowChanges{Device: &ponsimv1.DeviceRef{}, Remove: st.simID}); err != nil {
		s.log.Warn("openolt: remove flow", "flow_id", id, "err", err)
	}
}

func (s *Server) removeAllFlowsLocked() {
	for id, st := range s.flows {
		s.removeFlowLocked(id, st)
	}
}
