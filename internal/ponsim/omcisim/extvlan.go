package omcisim

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// vlanRowLen is the size of one row of the received frame VLAN tagging operation table.
const vlanRowLen = 16

// Special values of VLANRule fields (G.988 9.3.13).
const (
	PrioAny       = 8  // filter: do not filter on priority
	PrioDefault   = 14 // filter: default rule (no other rule of this tag count matched)
	PrioNoTag     = 15 // filter: this tag is absent; treatment: do not add this tag
	PrioCopyInner = 8  // treatment: copy the priority from the inner tag
	PrioCopyOuter = 9  // treatment: copy the priority from the outer tag
	PrioFromDSCP  = 10 // treatment: derive the priority from DSCP
	VIDAny        = 4096
	VIDCopyInner  = 4096 // treatment: copy the VID from the inner tag
	VIDCopyOuter  = 4097 // treatment: copy the VID from the outer tag
)

// VLANRule is one row of an extended VLAN tagging operation table (G.988 9.3.13), upstream
// direction (frames received on the UNI); downstream applies the inverse.
type VLANRule struct {
	FilterOuterPrio uint8  // 0..7, PrioAny, PrioDefault, PrioNoTag
	FilterOuterVID  uint16 // 0..4094, VIDAny
	FilterOuterTPID uint8  // 3-bit TPID/DEI filter code
	FilterInnerPrio uint8
	FilterInnerVID  uint16
	FilterInnerTPID uint8
	FilterEtherType uint8 // 0 any, 1 IPoE 0x0800, 2 PPPoE 0x8863/4, 3 ARP, 4 IPv6 0x86dd, 5 EAPOL, 6 DHCPv4, 7 DHCPv6, 8 LLDP
	TagsToRemove    uint8 // 0..2, 3 discards the frame
	TreatOuterPrio  uint8 // 0..7, PrioCopyInner, PrioCopyOuter, PrioFromDSCP, PrioNoTag
	TreatOuterVID   uint16
	TreatOuterTPID  uint8
	TreatInnerPrio  uint8
	TreatInnerVID   uint16
	TreatInnerTPID  uint8
}

// ParseVLANRule decodes one 16-octet table row.
func ParseVLANRule(b []byte) (VLANRule, error) {
	if len(b) != vlanRowLen {
		return VLANRule{}, fmt.Errorf("extended VLAN rule of %d octets, want 16", len(b))
	}
	w1, w2 := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	w3, w4 := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
	return VLANRule{
		FilterOuterPrio: uint8(w1 >> 28),
		FilterOuterVID:  uint16(w1>>15) & 0x1fff,
		FilterOuterTPID: uint8(w1>>12) & 7,
		FilterInnerPrio: uint8(w2 >> 28),
		FilterInnerVID:  uint16(w2>>15) & 0x1fff,
		FilterInnerTPID: uint8(w2>>12) & 7,
		FilterEtherType: uint8(w2 & 0xf),
		TagsToRemove:    uint8(w3 >> 30),
		TreatOuterPrio:  uint8(w3>>16) & 0xf,
		TreatOuterVID:   uint16(w3>>3) & 0x1fff,
		TreatOuterTPID:  uint8(w3 & 7),
		TreatInnerPrio:  uint8(w4>>16) & 0xf,
		TreatInnerVID:   uint16(w4>>3) & 0x1fff,
		TreatInnerTPID:  uint8(w4 & 7),
	}, nil
}

// Bytes encodes the rule as a 16-octet table row (what an OLT sends).
func (r VLANRule) Bytes() []byte {
	b := make([]byte, vlanRowLen)
	binary.BigEndian.PutUint32(b, uint32(r.FilterOuterPrio&0xf)<<28|uint32(r.FilterOuterVID&0x1fff)<<15|uint32(r.FilterOuterTPID&7)<<12)
	binary.BigEndian.PutUint32(b[4:], uint32(r.FilterInnerPrio&0xf)<<28|uint32(r.FilterInnerVID&0x1fff)<<15|uint32(r.FilterInnerTPID&7)<<12|uint32(r.FilterEtherType&0xf))
	binary.BigEndian.PutUint32(b[8:], uint32(r.TagsToRemove&3)<<30|uint32(r.TreatOuterPrio&0xf)<<16|uint32(r.TreatOuterVID&0x1fff)<<3|uint32(r.TreatOuterTPID&7))
	binary.BigEndian.PutUint32(b[12:], uint32(r.TreatInnerPrio&0xf)<<16|uint32(r.TreatInnerVID&0x1fff)<<3|uint32(r.TreatInnerTPID&7))
	return b
}

// FilterTags is how many VLAN tags a frame must carry to match the rule (0, 1 or 2).
func (r VLANRule) FilterTags() int {
	switch {
	case r.FilterOuterPrio != PrioNoTag:
		return 2
	case r.FilterInnerPrio != PrioNoTag:
		return 1
	}
	return 0
}

// IsDefault reports whether the rule is a default rule of its tag count (it applies when no other
// rule of that tag count matched).
func (r VLANRule) IsDefault() bool {
	switch r.FilterTags() {
	case 2:
		return r.FilterOuterPrio == PrioDefault
	case 1:
		return r.FilterInnerPrio == PrioDefault
	}
	return r.FilterEtherType == 0
}

func (r VLANRule) String() string {
	tag := func(prio uint8, vid uint16, tpid uint8, filter bool) string {
		if prio == PrioNoTag {
			return "-"
		}
		p, v := fmt.Sprint(prio), fmt.Sprint(vid)
		switch {
		case filter && prio == PrioAny, !filter && prio == PrioCopyInner:
			p = map[bool]string{true: "any", false: "inner"}[filter]
		case filter && prio == PrioDefault:
			p = "default"
		case !filter && prio == PrioCopyOuter:
			p = "outer"
		case !filter && prio == PrioFromDSCP:
			p = "dscp"
		}
		switch {
		case filter && vid == VIDAny:
			v = "any"
		case !filter && vid == VIDCopyInner:
			v = "inner"
		case !filter && vid == VIDCopyOuter:
			v = "outer"
		}
		return fmt.Sprintf("vid=%s,pcp=%s,tpid=%d", v, p, tpid)
	}
	return fmt.Sprintf("filter outer(%s) inner(%s) ethertype=%d → remove %d, push outer(%s) inner(%s)",
		tag(r.FilterOuterPrio, r.FilterOuterVID, r.FilterOuterTPID, true),
		tag(r.FilterInnerPrio, r.FilterInnerVID, r.FilterInnerTPID, true), r.FilterEtherType, r.TagsToRemove,
		tag(r.TreatOuterPrio, r.TreatOuterVID, r.TreatOuterTPID, false),
		tag(r.TreatInnerPrio, r.TreatInnerVID, r.TreatInnerTPID, false))
}

// isDeleteRow reports whether a set row deletes the row with the same filter (treatment all 0xff).
func isDeleteRow(b []byte) bool {
	for _, c := range b[8:vlanRowLen] {
		if c != 0xff {
			return false
		}
	}
	return true
}

// sortVLANRows orders rows the way an ONU tests them: more tags first, then specific rules before
// wildcards, default rules last within their tag count, then by filter octets.
func sortVLANRows(rows []byte) []byte {
	n := len(rows) / vlanRowLen
	type keyed struct {
		rank int
		row  []byte
	}
	ks := make([]keyed, 0, n)
	for i := range n {
		row := rows[i*vlanRowLen : (i+1)*vlanRowLen]
		r, _ := ParseVLANRule(row)
		rank := (2 - r.FilterTags()) * 8
		if r.IsDefault() {
			rank += 4
		}
		vid, prio := r.FilterInnerVID, r.FilterInnerPrio
		if r.FilterTags() == 2 {
			vid, prio = r.FilterOuterVID, r.FilterOuterPrio
		}
		if vid == VIDAny {
			rank += 2
		}
		if prio == PrioAny {
			rank++
		}
		ks = append(ks, keyed{rank, row})
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if ks[i].rank != ks[j].rank {
			return ks[i].rank < ks[j].rank
		}
		return string(ks[i].row[:8]) < string(ks[j].row[:8])
	})
	out := make([]byte, 0, len(rows))
	for _, k := range ks {
		out = append(out, k.row...)
	}
	return out
}
