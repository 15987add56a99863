package flowtext

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// OpenFlow numbers the text spells out.
const (
	// OFPVIDPresent is OFPVID_PRESENT, set in a vlan_vid value that names a VID.
	OFPVIDPresent = 0x1000
	// PortController is OFPP_CONTROLLER.
	PortController = 0xfffffffd
	// ControllerMaxLen is OFPCML_NO_BUFFER, the max_len of a whole-packet
	// output to the controller.
	ControllerMaxLen = 0xffff

	ofppAny = 0xffffffff
	ofpgAny = 0xffffffff
)

// Reserved port numbers (ofp_port_no) by name.
var reservedPorts = map[uint32]string{
	0xfffffff8: "IN_PORT",
	0xfffffff9: "TABLE",
	0xfffffffa: "NORMAL",
	0xfffffffb: "FLOOD",
	0xfffffffc: "ALL",
	0xfffffffd: "CONTROLLER",
	0xfffffffe: "LOCAL",
	0xffffffff: "ANY",
}

// Flow-mod flags (OFPFF_*) by bit, with ovs-ofctl's names.
var flowFlags = []struct {
	bit  uint32
	name string
}{
	{1 << 0, "send_flow_rem"},
	{1 << 1, "check_overlap"},
	{1 << 2, "reset_counts"},
	{1 << 3, "no_packet_counts"},
	{1 << 4, "no_byte_counts"},
}

// FormatFlow renders f on one line; see the package comment. The id and
// the counters are not shown.
func FormatFlow(f *openflowv1.Flow) string {
	var b strings.Builder
	b.Grow(160)
	b.WriteString("table=")
	b.WriteString(strconv.FormatUint(uint64(f.GetTableId()), 10))
	b.WriteString(", priority=")
	b.WriteString(strconv.FormatUint(uint64(f.GetPriority()), 10))
	b.WriteString(", cookie=0x")
	b.WriteString(strconv.FormatUint(f.GetCookie(), 16))
	if t := f.GetIdleTimeout(); t != 0 {
		fmt.Fprintf(&b, ", idle_timeout=%d", t)
	}
	if t := f.GetHardTimeout(); t != 0 {
		fmt.Fprintf(&b, ", hard_timeout=%d", t)
	}
	flags := f.GetFlags()
	for _, ff := range flowFlags {
		if flags&ff.bit != 0 {
			b.WriteString(", ")
			b.WriteString(ff.name)
			flags &^= ff.bit
		}
	}
	if flags != 0 {
		fmt.Fprintf(&b, ", flags=%#x", flags)
	}
	for _, mf := range f.GetMatch().GetFields() {
		b.WriteString(", ")
		b.WriteString(FormatMatchField(mf))
	}
	b.WriteString(", actions=")
	b.WriteString(FormatInstructions(f.GetInstructions()))
	return b.String()
}

// FormatMatch renders a match as its fields, "name=value" joined by ", ";
// an empty match (all wildcards) is "any".
func FormatMatch(m *openflowv1.Match) string {
	fields := m.GetFields()
	if len(fields) == 0 {
		return "any"
	}
	parts := make([]string, len(fields))
	for i, mf := range fields {
		parts[i] = FormatMatchField(mf)
	}
	return strings.Join(parts, ", ")
}

// FormatMatchField renders one field as name=value.
func FormatMatchField(mf *openflowv1.MatchField) string {
	return FieldName(mf.GetType()) + "=" + fieldValue(mf)
}

// FieldName is the OXM name: MATCH_FIELD_TYPE_ETH_TYPE is eth_type. A type
// this build does not know shows as its OXM field number.
func FieldName(t openflowv1.MatchFieldType) string {
	if t.Descriptor().Values().ByNumber(t.Number()) == nil {
		return fmt.Sprintf("oxm_field_%d", int32(t)-1)
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "MATCH_FIELD_TYPE_"))
}

type fieldKind int

const (
	kindHex     fieldKind = iota // unknown types, raw
	kindPort                     // port number or reserved name
	kindVID                      // vlan_vid
	kindEthType                  // 0x%04x
	kindMAC                      // 48-bit address
	kindIPv4                     // 32-bit address
	kindIPv6                     // 128-bit address
	kindHexInt                   // bit field shown in hex
	kindDecInt                   // small number shown in decimal
)

// kinds gives each known field its notation.
var kinds = func() map[openflowv1.MatchFieldType]fieldKind {
	k := map[openflowv1.MatchFieldType]fieldKind{}
	set := func(kind fieldKind, ts ...openflowv1.MatchFieldType) {
		for _, t := range ts {
			k[t] = kind
		}
	}
	set(kindPort, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PHY_PORT)
	set(kindVID, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID)
	set(kindEthType, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE)
	set(kindMAC,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_SHA, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_THA,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_ND_SLL, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_ND_TLL)
	set(kindIPv4,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_SPA, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_TPA)
	set(kindIPv6,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_SRC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_DST,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_ND_TARGET)
	set(kindHexInt,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_FLABEL, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_EXTHDR,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_PBB_ISID)
	set(kindDecInt,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_DSCP,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_ECN, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_SCTP_SRC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_SCTP_DST,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_TYPE, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_CODE,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ARP_OP, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_TYPE,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_CODE, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_LABEL,
		openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_TC, openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_BOS)
	return k
}()

// fieldValue renders a field's value, and its mask when it has one, in the
// notation usual for the field: ports by number or reserved name, MACs and
// IP addresses as addresses (masks as prefixes where they are), ethertypes
// and bit fields in hex, small numbers in decimal.
func fieldValue(mf *openflowv1.MatchField) string {
	v, m := mf.GetValue(), mf.GetMask()
	kind, known := kinds[mf.GetType()]
	switch {
	case !known:
		// Unknown type: whatever it carries, raw.
		if b := mf.GetBytesValue(); len(b) > 0 {
			s := "0x" + hex.EncodeToString(b)
			if mf.GetHasMask() {
				s += "/0x" + hex.EncodeToString(mf.GetBytesMask())
			}
			return s
		}
		return hexMasked(v, mf.GetHasMask(), m)
	case kind == kindPort:
		if mf.GetHasMask() { // not maskable in OpenFlow 1.3, but show what is there
			return fmt.Sprintf("%#x/%#x", v, m)
		}
		return FormatPort(uint32(v))
	case kind == kindVID:
		return vlanVID(v, mf.GetHasMask(), m)
	case kind == kindEthType:
		if mf.GetHasMask() {
			return fmt.Sprintf("0x%04x/0x%04x", v, m)
		}
		return fmt.Sprintf("0x%04x", v)
	case kind == kindMAC:
		s := macText(mf.GetBytesValue(), v)
		if mf.GetHasMask() {
			s += "/" + macText(mf.GetBytesMask(), m)
		}
		return s
	case kind == kindIPv4:
		return ipText(addrBytes(mf.GetBytesValue(), v, 4), mf.GetHasMask(), addrBytes(mf.GetBytesMask(), m, 4))
	case kind == kindIPv6:
		return ipText(mf.GetBytesValue(), mf.GetHasMask(), mf.GetBytesMask())
	case kind == kindHexInt:
		return hexMasked(v, mf.GetHasMask(), m)
	}
	if mf.GetHasMask() {
		return hexMasked(v, true, m)
	}
	return strconv.FormatUint(v, 10)
}

// vlanVID shows a vlan_vid OXM value: the VID when OFPVID_PRESENT is set,
// "untagged" for OFPVID_NONE, "tagged" for present/present (any VID), raw
// hex for anything else so that a missing present bit stands out.
func vlanVID(v uint64, hasMask bool, m uint64) string {
	switch {
	case hasMask && v == OFPVIDPresent && m == OFPVIDPresent:
		return "tagged"
	case hasMask:
		return fmt.Sprintf("0x%04x/0x%04x", v, m)
	case v == 0:
		return "untagged"
	case v&^0xfff == OFPVIDPresent:
		return strconv.FormatUint(v&0xfff, 10)
	}
	return fmt.Sprintf("0x%04x", v)
}

func hexMasked(v uint64, hasMask bool, m uint64) string {
	if hasMask {
		return fmt.Sprintf("%#x/%#x", v, m)
	}
	return fmt.Sprintf("%#x", v)
}

// FormatPort is a port number in decimal, or the name of a reserved port.
func FormatPort(p uint32) string {
	if name, ok := reservedPorts[p]; ok {
		return name
	}
	return strconv.FormatUint(uint64(p), 10)
}

// macText shows a MAC from its bytes, or from the low 48 bits of v when the
// bytes are absent.
func macText(b []byte, v uint64) string {
	if len(b) == 0 {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], v)
		b = buf[2:]
	}
	if len(b) != 6 {
		return "0x" + hex.EncodeToString(b)
	}
	return net.HardwareAddr(b).String()
}

// addrBytes returns b, or the low n bytes of v when b is empty.
func addrBytes(b []byte, v uint64, n int) []byte {
	if len(b) > 0 {
		return b
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	return buf[8-n:]
}

// ipText shows an IPv4 or IPv6 address, and its mask as a prefix length
// when the mask is contiguous.
func ipText(addr []byte, hasMask bool, mask []byte) string {
	a, ok := netip.AddrFromSlice(addr)
	if !ok {
		return "0x" + hex.EncodeToString(addr)
	}
	s := a.String()
	if !hasMask {
		return s
	}
	if ones, ok := prefixLen(mask); ok && len(mask) == len(addr) {
		return s + "/" + strconv.Itoa(ones)
	}
	if m, ok := netip.AddrFromSlice(mask); ok {
		return s + "/" + m.String()
	}
	return s + "/0x" + hex.EncodeToString(mask)
}

// prefixLen reports the number of leading ones of a contiguous mask.
func prefixLen(mask []byte) (int, bool) {
	for i, b := range mask {
		if b == 0xff {
			continue
		}
		n := bits.LeadingZeros8(^b) // the ones this byte starts with
		if b != byte(uint16(0xff00)>>n) {
			return 0, false
		}
		for _, rest := range mask[i+1:] {
			if rest != 0 {
				return 0, false
			}
		}
		return 8*i + n, true
	}
	return 8 * len(mask), true
}

// FormatInstructions renders instructions in execution order, as ovs-ofctl
// shows a flow's actions; "drop" when they do nothing.
func FormatInstructions(ins []*openflowv1.Instruction) string {
	ordered := ins
	if !slices.IsSortedFunc(ins, byRank) {
		ordered = slices.Clone(ins)
		slices.SortStableFunc(ordered, byRank)
	}
	var b strings.Builder
	for _, in := range ordered {
		if s := FormatInstruction(in); s != "" {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s)
		}
	}
	if b.Len() == 0 {
		return "drop"
	}
	return b.String()
}

func byRank(a, b *openflowv1.Instruction) int { return instructionRank(a) - instructionRank(b) }

// instructionRank is the place of an instruction in OpenFlow 1.3's execution
// order.
func instructionRank(in *openflowv1.Instruction) int {
	switch in.GetInstruction().(type) {
	case *openflowv1.Instruction_Meter:
		return 0
	case *openflowv1.Instruction_ApplyActions:
		return 1
	case *openflowv1.Instruction_ClearActions:
		return 2
	case *openflowv1.Instruction_WriteActions:
		return 3
	case *openflowv1.Instruction_WriteMetadata:
		return 4
	case *openflowv1.Instruction_GotoTable:
		return 5
	}
	return 6
}

// FormatInstruction renders one instruction; apply-actions as its bare
// action list (empty when it has none).
func FormatInstruction(in *openflowv1.Instruction) string {
	switch i := in.GetInstruction().(type) {
	case *openflowv1.Instruction_Meter:
		return "meter:" + strconv.FormatUint(uint64(i.Meter.GetMeterId()), 10)
	case *openflowv1.Instruction_ApplyActions:
		return FormatActions(i.ApplyActions.GetActions())
	case *openflowv1.Instruction_ClearActions:
		return "clear_actions"
	case *openflowv1.Instruction_WriteActions:
		return "write_actions(" + FormatActions(i.WriteActions.GetActions()) + ")"
	case *openflowv1.Instruction_WriteMetadata:
		md, mask := i.WriteMetadata.GetMetadata(), i.WriteMetadata.GetMetadataMask()
		if mask == 0 || mask == ^uint64(0) {
			return fmt.Sprintf("write_metadata:%#x", md)
		}
		return fmt.Sprintf("write_metadata:%#x/%#x", md, mask)
	case *openflowv1.Instruction_GotoTable:
		return "goto_table:" + strconv.FormatUint(uint64(i.GotoTable.GetTableId()), 10)
	case *openflowv1.Instruction_Experimenter:
		return experimenterText(i.Experimenter.GetExperimenter(), i.Experimenter.GetData())
	}
	return "unknown_instruction"
}

// FormatActions renders an action list, comma-separated; empty when there
// are none.
func FormatActions(actions []*openflowv1.Action) string {
	var b strings.Builder
	for i, a := range actions {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(FormatAction(a))
	}
	return b.String()
}

// FormatAction renders one action.
func FormatAction(a *openflowv1.Action) string {
	switch x := a.GetAction().(type) {
	case *openflowv1.Action_Output:
		return outputText(x.Output.GetPort(), x.Output.GetMaxLen())
	case *openflowv1.Action_PushVlan:
		return fmt.Sprintf("push_vlan:0x%04x", x.PushVlan.GetEthertype())
	case *openflowv1.Action_PopVlan:
		return "pop_vlan"
	case *openflowv1.Action_SetField:
		f := x.SetField.GetField()
		return "set_field:" + fieldValue(f) + "->" + FieldName(f.GetType())
	case *openflowv1.Action_Group:
		return "group:" + strconv.FormatUint(uint64(x.Group.GetGroupId()), 10)
	case *openflowv1.Action_SetQueue:
		return fmt.Sprintf("set_queue:%d", x.SetQueue.GetQueueId())
	case *openflowv1.Action_PushMpls:
		return fmt.Sprintf("push_mpls:0x%04x", x.PushMpls.GetEthertype())
	case *openflowv1.Action_PopMpls:
		return fmt.Sprintf("pop_mpls:0x%04x", x.PopMpls.GetEthertype())
	case *openflowv1.Action_SetMplsTtl:
		return fmt.Sprintf("set_mpls_ttl:%d", x.SetMplsTtl.GetMplsTtl())
	case *openflowv1.Action_DecMplsTtl:
		return "dec_mpls_ttl"
	case *openflowv1.Action_SetNwTtl:
		return fmt.Sprintf("set_nw_ttl:%d", x.SetNwTtl.GetNwTtl())
	case *openflowv1.Action_DecNwTtl:
		return "dec_nw_ttl"
	case *openflowv1.Action_CopyTtlOut:
		return "copy_ttl_out"
	case *openflowv1.Action_CopyTtlIn:
		return "copy_ttl_in"
	case *openflowv1.Action_PushPbb:
		return fmt.Sprintf("push_pbb:0x%04x", x.PushPbb.GetEthertype())
	case *openflowv1.Action_PopPbb:
		return "pop_pbb"
	case *openflowv1.Action_Experimenter:
		return experimenterText(x.Experimenter.GetExperimenter(), x.Experimenter.GetData())
	}
	return "unknown_action"
}

// outputText is output:PORT, or a reserved port by name as ovs-ofctl shows
// it; output to the controller carries its max_len.
func outputText(port, maxLen uint32) string {
	name, reserved := reservedPorts[port]
	switch {
	case name == "CONTROLLER":
		return "CONTROLLER:" + strconv.FormatUint(uint64(maxLen), 10)
	case reserved:
		return name
	}
	return "output:" + strconv.FormatUint(uint64(port), 10)
}

func experimenterText(id uint32, data []byte) string {
	s := fmt.Sprintf("experimenter:%#x", id)
	if len(data) > 0 {
		s += ":0x" + hex.EncodeToString(data)
	}
	return s
}
