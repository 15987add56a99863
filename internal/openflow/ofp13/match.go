package ofp13

import (
	"bytes"
	"fmt"
)

// OXMClassOpenFlowBasic is OFPXMC_OPENFLOW_BASIC, the only OXM class this
// codec accepts. Others (Nicira, experimenter) are OFPBMC_BAD_FIELD.
const OXMClassOpenFlowBasic = 0x8000

// Match types (ofp_match_type). Only OXM exists in OpenFlow 1.3; the
// standard (1.1) match is refused with OFPBMC_BAD_TYPE.
const (
	MatchTypeStandard = 0
	MatchTypeOXM      = 1
)

// VLAN id values of the vlan_vid field (ofp_vlan_id).
const (
	VIDNone    = 0x0000 // no VLAN tag
	VIDPresent = 0x1000 // set in the value when a tag is present
)

// OXMField is an OXM field number of class OFPXMC_OPENFLOW_BASIC.
type OXMField uint8

// OXM fields of OpenFlow 1.3 (OFPXMT_OFB_*).
const (
	OXMInPort OXMField = iota
	OXMInPhyPort
	OXMMetadata
	OXMEthDst
	OXMEthSrc
	OXMEthType
	OXMVlanVID
	OXMVlanPCP
	OXMIPDSCP
	OXMIPECN
	OXMIPProto
	OXMIPv4Src
	OXMIPv4Dst
	OXMTCPSrc
	OXMTCPDst
	OXMUDPSrc
	OXMUDPDst
	OXMSCTPSrc
	OXMSCTPDst
	OXMICMPv4Type
	OXMICMPv4Code
	OXMARPOp
	OXMARPSPA
	OXMARPTPA
	OXMARPSHA
	OXMARPTHA
	OXMIPv6Src
	OXMIPv6Dst
	OXMIPv6FLabel
	OXMICMPv6Type
	OXMICMPv6Code
	OXMIPv6NDTarget
	OXMIPv6NDSLL
	OXMIPv6NDTLL
	OXMMPLSLabel
	OXMMPLSTC
	OXMMPLSBoS
	OXMPBBISID
	OXMTunnelID
	OXMIPv6Exthdr
	numOXMFields
)

// oxmInfo describes one field: its name, its size on the wire, how many of
// those bits are meaningful (values with higher bits set are
// OFPBMC_BAD_VALUE), and whether the protobuf model carries it in
// bytes_value (MAC and IPv6 addresses) rather than value.
type oxmInfo struct {
	name  string
	size  int
	bits  int
	bytes bool
}

var oxmFields = [numOXMFields]oxmInfo{
	OXMInPort:       {"in_port", 4, 32, false},
	OXMInPhyPort:    {"in_phy_port", 4, 32, false},
	OXMMetadata:     {"metadata", 8, 64, false},
	OXMEthDst:       {"eth_dst", 6, 48, true},
	OXMEthSrc:       {"eth_src", 6, 48, true},
	OXMEthType:      {"eth_type", 2, 16, false},
	OXMVlanVID:      {"vlan_vid", 2, 13, false},
	OXMVlanPCP:      {"vlan_pcp", 1, 3, false},
	OXMIPDSCP:       {"ip_dscp", 1, 6, false},
	OXMIPECN:        {"ip_ecn", 1, 2, false},
	OXMIPProto:      {"ip_proto", 1, 8, false},
	OXMIPv4Src:      {"ipv4_src", 4, 32, false},
	OXMIPv4Dst:      {"ipv4_dst", 4, 32, false},
	OXMTCPSrc:       {"tcp_src", 2, 16, false},
	OXMTCPDst:       {"tcp_dst", 2, 16, false},
	OXMUDPSrc:       {"udp_src", 2, 16, false},
	OXMUDPDst:       {"udp_dst", 2, 16, false},
	OXMSCTPSrc:      {"sctp_src", 2, 16, false},
	OXMSCTPDst:      {"sctp_dst", 2, 16, false},
	OXMICMPv4Type:   {"icmpv4_type", 1, 8, false},
	OXMICMPv4Code:   {"icmpv4_code", 1, 8, false},
	OXMARPOp:        {"arp_op", 2, 16, false},
	OXMARPSPA:       {"arp_spa", 4, 32, false},
	OXMARPTPA:       {"arp_tpa", 4, 32, false},
	OXMARPSHA:       {"arp_sha", 6, 48, true},
	OXMARPTHA:       {"arp_tha", 6, 48, true},
	OXMIPv6Src:      {"ipv6_src", 16, 128, true},
	OXMIPv6Dst:      {"ipv6_dst", 16, 128, true},
	OXMIPv6FLabel:   {"ipv6_flabel", 4, 20, false},
	OXMICMPv6Type:   {"icmpv6_type", 1, 8, false},
	OXMICMPv6Code:   {"icmpv6_code", 1, 8, false},
	OXMIPv6NDTarget: {"ipv6_nd_target", 16, 128, true},
	OXMIPv6NDSLL:    {"ipv6_nd_sll", 6, 48, true},
	OXMIPv6NDTLL:    {"ipv6_nd_tll", 6, 48, true},
	OXMMPLSLabel:    {"mpls_label", 4, 20, false},
	OXMMPLSTC:       {"mpls_tc", 1, 3, false},
	OXMMPLSBoS:      {"mpls_bos", 1, 1, false},
	OXMPBBISID:      {"pbb_isid", 3, 24, false},
	OXMTunnelID:     {"tunnel_id", 8, 64, false},
	OXMIPv6Exthdr:   {"ipv6_exthdr", 2, 9, false},
}

// Known reports whether f is an OpenFlow 1.3 basic field.
func (f OXMField) Known() bool { return f < numOXMFields }

// Size is the field's value size in bytes (0 for unknown fields).
func (f OXMField) Size() int {
	if !f.Known() {
		return 0
	}
	return oxmFields[f].size
}

func (f OXMField) String() string {
	if !f.Known() {
		return fmt.Sprintf("oxm_field_%d", uint8(f))
	}
	return oxmFields[f].name
}

// OXM is one match field TLV of class OFPXMC_OPENFLOW_BASIC. Value holds
// Field.Size() bytes in network order; Mask is nil for an exact match or
// the same size as Value.
type OXM struct {
	Field OXMField
	Value []byte
	Mask  []byte
}

// OXMUint returns an exact-match field with value v in the field's size
// (higher bits that do not fit are dropped).
func OXMUint(f OXMField, v uint64) OXM {
	return OXM{Field: f, Value: uintBytes(v, f.Size())}
}

// OXMUintMasked returns a masked field.
func OXMUintMasked(f OXMField, v, mask uint64) OXM {
	return OXM{Field: f, Value: uintBytes(v, f.Size()), Mask: uintBytes(mask, f.Size())}
}

// Uint returns the value as an integer (the low 8 bytes for wider fields).
func (o OXM) Uint() uint64 { return bytesUint(o.Value) }

// MaskUint returns the mask as an integer (all ones without a mask).
func (o OXM) MaskUint() uint64 {
	if o.Mask == nil {
		return ^uint64(0)
	}
	return bytesUint(o.Mask)
}

func (o OXM) String() string {
	if o.Mask != nil {
		return fmt.Sprintf("%v=0x%x/0x%x", o.Field, o.Value, o.Mask)
	}
	return fmt.Sprintf("%v=0x%x", o.Field, o.Value)
}

func uintBytes(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0 && v != 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

func bytesUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// check validates o as a match field: known field, sizes, value within the
// field's width, no value bits where the mask is zero.
func (o OXM) check() *Error {
	if !o.Field.Known() {
		return Errorf(ErrTypeBadMatch, BadMatchBadField, "unknown field %d", uint8(o.Field))
	}
	info := oxmFields[o.Field]
	if len(o.Value) != info.size {
		return Errorf(ErrTypeBadMatch, BadMatchBadLen, "%v value is %d bytes, want %d", o.Field, len(o.Value), info.size)
	}
	if o.Mask != nil && len(o.Mask) != info.size {
		return Errorf(ErrTypeBadMatch, BadMatchBadMask, "%v mask is %d bytes, want %d", o.Field, len(o.Mask), info.size)
	}
	if !fitsBits(o.Value, info.bits) {
		return Errorf(ErrTypeBadMatch, BadMatchBadValue, "%v value 0x%x wider than %d bits", o.Field, o.Value, info.bits)
	}
	for i := range o.Mask {
		if o.Value[i]&^o.Mask[i] != 0 {
			return Errorf(ErrTypeBadMatch, BadMatchBadWildcards, "%v value 0x%x has bits outside mask 0x%x", o.Field, o.Value, o.Mask)
		}
	}
	return nil
}

// fitsBits reports whether the big-endian value b uses only its low bits.
func fitsBits(b []byte, bits int) bool {
	extra := len(b)*8 - bits
	for i := 0; extra > 0; i++ {
		if extra >= 8 {
			if b[i] != 0 {
				return false
			}
			extra -= 8
			continue
		}
		return b[i]>>(8-extra) == 0
	}
	return true
}

func (o OXM) wireLen() int { return 4 + len(o.Value) + len(o.Mask) }

func appendOXM(b []byte, o OXM) []byte {
	h := uint32(OXMClassOpenFlowBasic)<<16 | uint32(o.Field)<<9 | uint32(len(o.Value)+len(o.Mask))
	if o.Mask != nil {
		h |= 1 << 8
	}
	b = be.AppendUint32(b, h)
	b = append(b, o.Value...)
	return append(b, o.Mask...)
}

// oxmHeader splits an OXM TLV header.
func oxmHeader(h uint32) (class uint16, field OXMField, hasMask bool, n int) {
	return uint16(h >> 16), OXMField(h >> 9 & 0x7f), h&0x100 != 0, int(h & 0xff)
}

// Match is ofp_match of type OFPMT_OXM: a list of fields, each at most
// once.
type Match struct {
	Fields []OXM
}

// Get returns the field f, if the match has it.
func (m Match) Get(f OXMField) (OXM, bool) {
	for _, o := range m.Fields {
		if o.Field == f {
			return o, true
		}
	}
	return OXM{}, false
}

func (m Match) check() *Error {
	var seen [numOXMFields]bool
	for _, o := range m.Fields {
		if err := o.check(); err != nil {
			return err
		}
		if seen[o.Field] {
			return Errorf(ErrTypeBadMatch, BadMatchDupField, "%v twice", o.Field)
		}
		seen[o.Field] = true
	}
	return nil
}

// appendMatch writes the match with its padding to 8 bytes.
func appendMatch(b []byte, m Match) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	start := len(b)
	b = be.AppendUint16(b, MatchTypeOXM)
	b = be.AppendUint16(b, 0)
	for _, o := range m.Fields {
		b = appendOXM(b, o)
	}
	if err := putLen16(b, start, start+2); err != nil {
		return b, err
	}
	return padTo8(b, start), nil
}

// matchWireLen is the padded size appendMatch writes.
func matchWireLen(m Match) int {
	n := 4
	for _, o := range m.Fields {
		n += o.wireLen()
	}
	return pad8(n)
}

// decodeMatch reads a match at the start of b and returns it with the
// number of bytes it takes, padding included.
func decodeMatch(b []byte) (Match, int, error) {
	if len(b) < 4 {
		return Match{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadLen, "match header truncated")
	}
	typ, n := be.Uint16(b), int(be.Uint16(b[2:]))
	if typ != MatchTypeOXM {
		return Match{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadType, "match type %d", typ)
	}
	if n < 4 || pad8(n) > len(b) {
		return Match{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadLen, "match length %d with %d bytes left", n, len(b))
	}
	var m Match
	var seen [numOXMFields]bool
	for p := b[4:n]; len(p) > 0; {
		o, used, err := decodeOXM(p)
		if err != nil {
			return Match{}, 0, err
		}
		if seen[o.Field] {
			return Match{}, 0, Errorf(ErrTypeBadMatch, BadMatchDupField, "%v twice", o.Field)
		}
		seen[o.Field] = true
		m.Fields = append(m.Fields, o)
		p = p[used:]
	}
	return m, pad8(n), nil
}

// decodeOXM reads one match TLV and returns it with its size.
func decodeOXM(p []byte) (OXM, int, error) {
	if len(p) < 4 {
		return OXM{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadLen, "%d stray bytes in match", len(p))
	}
	class, field, hasMask, n := oxmHeader(be.Uint32(p))
	if 4+n > len(p) {
		return OXM{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadLen, "oxm length %d with %d bytes left", n, len(p)-4)
	}
	if class != OXMClassOpenFlowBasic {
		return OXM{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadField, "oxm class 0x%04x field %d", class, uint8(field))
	}
	if !field.Known() {
		return OXM{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadField, "unknown field %d", uint8(field))
	}
	size, want := field.Size(), field.Size()
	if hasMask {
		want *= 2
	}
	if n != want {
		return OXM{}, 0, Errorf(ErrTypeBadMatch, BadMatchBadLen, "%v length %d, want %d", field, n, want)
	}
	o := OXM{Field: field, Value: bytes.Clone(p[4 : 4+size])}
	if hasMask {
		o.Mask = bytes.Clone(p[4+size : 4+2*size])
	}
	if err := o.check(); err != nil {
		return OXM{}, 0, err
	}
	return o, 4 + n, nil
}
