package omcionu

import (
	"encoding/binary"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// The ONU's share of a subscriber's flows (as internal/core/flowdecomp
// makes them) becomes rows of the received frame VLAN tagging operation
// table of the UNI's extended VLAN tagging operation ME (G.988 9.3.13):
//
//	in_port=UNI, [vlan_vid=untagged|V], [vlan_pcp=P], [eth_type…], [pop], [push_vlan], [set vid/pcp], output:PON
//	    → filter on the UNI's frame (no tag, or one tag V/P, an ethertype)
//	      and a treatment (tags to remove, the tag to add)
//	in_port=PON, …, output:UNI (downstream)
//	    → no row: the ONU applies the inverse of the upstream rows
//	      (downstream mode 0)
//
// A row is named by its filter (its first eight octets): two flows that
// make the same filter with other treatments conflict; flows that make
// the same row share it.

// vlanRow is one 16-octet table row.
type vlanRow [16]byte

// rowKey is a row's filter: the ONU replaces or deletes rows by it.
type rowKey [8]byte

func (r vlanRow) key() rowKey { return rowKey(r[:8]) }

// deleteRow is the row that deletes the row of filter k (treatment all
// 0xff).
func deleteRow(k rowKey) []byte {
	b := make([]byte, 16)
	copy(b, k[:])
	for i := 8; i < 16; i++ {
		b[i] = 0xff
	}
	return b
}

// G.988 9.3.13 special values.
const (
	prioAny       = 8  // filter: any priority
	prioNoTag     = 15 // filter: no such tag; treatment: add no such tag
	prioCopyInner = 8  // treatment: the priority of the received inner tag
	vidAny        = 4096
	tpidAny       = 0 // filter: do not filter on TPID/DEI
	tpid8100      = 4 // treatment: TPID 0x8100, DEI copied
)

// G.988 extended VLAN filter ethertype codes.
const (
	etAny    = 0
	etIPoE   = 1
	etPPPoE  = 2
	etARP    = 3
	etIPv6   = 4
	etEAPOL  = 5
	etDHCPv4 = 6
	etDHCPv6 = 7
	etLLDP   = 8
)

// rule is a flow's part of the VLAN table: the UNI (index) whose table
// gets the row; downstream flows have none (row false).
type rule struct {
	uni int
	row vlanRow
	has bool
}

const vidPresent = 0x1000

func unsupported(f *openflowv1.Flow, why string) error {
	return status.Errorf(codes.InvalidArgument, "omci_onu: flow %#x: %s", f.GetId(), why)
}

// ruleOf translates one device flow of the ONU. uniIndex maps a UNI port
// number to its index on the ONU (false: not one of its UNIs).
func ruleOf(f *openflowv1.Flow, uniIndex func(uint32) (int, bool)) (rule, error) {
	var (
		inPort          uint32
		haveVID, tagged bool
		vid             uint16
		pcp             = -1
		ethType         uint32
		ipProto         uint32
		udpSrc, udpDst  uint32
	)
	for _, m := range f.GetMatch().GetFields() {
		v := m.GetValue()
		switch m.GetType() {
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT:
			inPort = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
			haveVID = true
			switch {
			case v == 0 && !m.GetHasMask():
				// untagged
			case m.GetHasMask():
				tagged, vid = true, vidAny
			default:
				tagged, vid = true, uint16(v&^vidPresent)
			}
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
			pcp = int(v & 7)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE:
			ethType = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO:
			ipProto = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC:
			udpSrc = uint32(v)
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST:
			udpDst = uint32(v)
		}
	}
	if !portno.IsUNI(inPort) {
		return rule{}, nil // downstream (or multicast): the inverse of the upstream rows
	}
	uni, ok := uniIndex(inPort)
	if !ok {
		return rule{}, unsupported(f, "in_port is not a UNI of this ONU")
	}
	if pcp >= 0 && !tagged {
		if !haveVID {
			tagged, vid = true, vidAny
		} else {
			return rule{}, unsupported(f, "vlan_pcp on an untagged frame")
		}
	}
	et, err := etherTypeCode(ethType, ipProto, udpSrc, udpDst)
	if err != nil {
		return rule{}, unsupported(f, err.Error())
	}
	pops, pushes := 0, 0
	setVID, setPCP := -1, -1
	for _, in := range f.GetInstructions() {
		for _, act := range in.GetApplyActions().GetActions() {
			switch x := act.GetAction().(type) {
			case *openflowv1.Action_PopVlan:
				pops++
			case *openflowv1.Action_PushVlan:
				if x.PushVlan.GetEthertype() != 0x8100 {
					return rule{}, unsupported(f, "the ONU pushes C-tags (0x8100) only")
				}
				pushes++
			case *openflowv1.Action_SetField:
				sf := x.SetField.GetField()
				switch sf.GetType() {
				case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
					setVID = int(sf.GetValue() &^ vidPresent)
				case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
					setPCP = int(sf.GetValue() & 7)
				}
			}
		}
	}
	if pushes > 1 || pops > 1 {
		return rule{}, unsupported(f, "the ONU adds or removes one tag at most")
	}
	if pops > 0 && !tagged {
		return rule{}, unsupported(f, "pop_vlan on an untagged frame")
	}
	// Filter: untagged (both tags absent) or one tag (the inner fields).
	r := ruleFields{filterOuterPrio: prioNoTag, filterOuterVID: vidAny, filterInnerPrio: prioNoTag, filterInnerVID: vidAny,
		etherType: et, treatOuterPrio: prioNoTag, treatInnerPrio: prioNoTag}
	if tagged {
		r.filterInnerPrio, r.filterInnerVID = prioAny, vid
		if pcp >= 0 {
			r.filterInnerPrio = uint8(pcp)
		}
		r.filterInnerTPID = tpidAny
	}
	// Treatment: a set_field on a tagged frame without a push replaces the
	// tag (remove it, add the new one); a push adds a tag (on top of the
	// one there, unless popped).
	replace := tagged && pushes == 0 && pops == 0 && (setVID >= 0 || setPCP >= 0)
	if replace || pushes == 1 {
		if replace {
			r.remove = 1
		} else {
			r.remove = uint8(pops)
		}
		r.treatInnerTPID = tpid8100
		switch {
		case setPCP >= 0:
			r.treatInnerPrio = uint8(setPCP)
		case tagged:
			r.treatInnerPrio = prioCopyInner
		default:
			r.treatInnerPrio = 0
		}
		switch {
		case setVID >= 0:
			r.treatInnerVID = uint16(setVID)
		case tagged && vid != vidAny:
			r.treatInnerVID = vid
		default:
			return rule{}, unsupported(f, "a pushed tag needs a VID (set_field:…->vlan_vid)")
		}
	} else {
		r.remove = uint8(pops)
	}
	return rule{uni: uni, row: r.bytes(), has: true}, nil
}

// etherTypeCode is G.988's filter code for what a flow matches above the
// VLAN tags.
func etherTypeCode(ethType, ipProto, udpSrc, udpDst uint32) (uint8, error) {
	switch ethType {
	case 0:
		return etAny, nil
	case 0x0800:
		if ipProto == 17 && (udpSrc == 68 || udpDst == 67) {
			return etDHCPv4, nil
		}
		return etIPoE, nil
	case 0x86dd:
		if ipProto == 17 && (udpSrc == 546 || udpDst == 547) {
			return etDHCPv6, nil
		}
		return etIPv6, nil
	case 0x8863, 0x8864:
		return etPPPoE, nil
	case 0x0806:
		return etARP, nil
	case 0x888e:
		return etEAPOL, nil
	case 0x88cc:
		return etLLDP, nil
	}
	return 0, errUnknownEtherType(ethType)
}

type errUnknownEtherType uint32

func (e errUnknownEtherType) Error() string {
	return "the ONU's VLAN filter cannot match eth_type " + hex16(uint32(e))
}

func hex16(v uint32) string {
	const digits = "0123456789abcdef"
	b := []byte("0x0000")
	for i := 5; i >= 2; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// ruleFields are a row's fields (G.988 9.3.13, figure 9.3.13-2).
type ruleFields struct {
	filterOuterPrio uint8
	filterOuterVID  uint16
	filterOuterTPID uint8
	filterInnerPrio uint8
	filterInnerVID  uint16
	filterInnerTPID uint8
	etherType       uint8
	remove          uint8
	treatOuterPrio  uint8
	treatOuterVID   uint16
	treatOuterTPID  uint8
	treatInnerPrio  uint8
	treatInnerVID   uint16
	treatInnerTPID  uint8
}

func (r ruleFields) bytes() vlanRow {
	var b vlanRow
	binary.BigEndian.PutUint32(b[0:], uint32(r.filterOuterPrio&0xf)<<28|uint32(r.filterOuterVID&0x1fff)<<15|uint32(r.filterOuterTPID&7)<<12)
	binary.BigEndian.PutUint32(b[4:], uint32(r.filterInnerPrio&0xf)<<28|uint32(r.filterInnerVID&0x1fff)<<15|uint32(r.filterInnerTPID&7)<<12|uint32(r.etherType&0xf))
	binary.BigEndian.PutUint32(b[8:], uint32(r.remove&3)<<30|uint32(r.treatOuterPrio&0xf)<<16|uint32(r.treatOuterVID&0x1fff)<<3|uint32(r.treatOuterTPID&7))
	binary.BigEndian.PutUint32(b[12:], uint32(r.treatInnerPrio&0xf)<<16|uint32(r.treatInnerVID&0x1fff)<<3|uint32(r.treatInnerTPID&7))
	return b
}
