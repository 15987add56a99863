package ponsim

import "encoding/binary"

// Ethernet types the dataplane knows.
const (
	tpidCTag    = 0x8100
	tpidSTag    = 0x88a8
	tpidQinQOld = 0x9100
	ethTypeIPv4 = 0x0800
	ethTypeIPv6 = 0x86dd

	ethHeaderLen = 14
	vlanTagLen   = 4
	protoTCP     = 6
	protoUDP     = 17
)

func isTPID(t uint16) bool { return t == tpidCTag || t == tpidSTag || t == tpidQinQOld }

// fields are the header fields a flow can match, parsed from a frame.
type fields struct {
	dst, src [6]byte

	tagged bool   // the frame has at least one VLAN tag
	vid    uint16 // of the outer tag
	pcp    uint8  // of the outer tag

	inner    bool   // the frame has a second tag
	innerVID uint16 // of the second tag

	ethType uint16 // after every tag, as OpenFlow's eth_type

	ipv4         bool // ethType IPv4 with a whole header
	ipv6         bool // ethType IPv6 with a whole fixed header
	proto        uint8
	ipSrc, ipDst uint32 // IPv4 only

	l4           bool // TCP or UDP ports present (first fragment)
	sport, dport uint16
}

// parse reads a frame's headers. It fails only for a frame too short for its
// Ethernet header and VLAN tags (malformed); missing upper layers just leave
// their fields unset.
func parse(b []byte) (fields, bool) {
	var f fields
	if len(b) < ethHeaderLen {
		return f, false
	}
	copy(f.dst[:], b[0:6])
	copy(f.src[:], b[6:12])
	off := 12
	for {
		if len(b) < off+2 {
			return f, false
		}
		t := binary.BigEndian.Uint16(b[off:])
		if !isTPID(t) {
			f.ethType = t
			off += 2
			break
		}
		if len(b) < off+vlanTagLen+2 {
			return f, false
		}
		tci := binary.BigEndian.Uint16(b[off+2:])
		switch {
		case !f.tagged:
			f.tagged, f.vid, f.pcp = true, tci&0x0fff, uint8(tci>>13)
		case !f.inner:
			f.inner, f.innerVID = true, tci&0x0fff
		}
		off += vlanTagLen
	}
	switch f.ethType {
	case ethTypeIPv4:
		parseIPv4(&f, b[off:])
	case ethTypeIPv6:
		parseIPv6(&f, b[off:])
	}
	return f, true
}

// parseIPv4 reads an IPv4 header and the ports after it; a header cut
// short leaves the fields unset.
func parseIPv4(f *fields, ip []byte) {
	if len(ip) < 20 {
		return
	}
	ihl := int(ip[0]&0x0f) * 4
	if ip[0]>>4 != 4 || ihl < 20 || len(ip) < ihl {
		return
	}
	f.ipv4 = true
	f.proto = ip[9]
	f.ipSrc = binary.BigEndian.Uint32(ip[12:])
	f.ipDst = binary.BigEndian.Uint32(ip[16:])
	fragOff := binary.BigEndian.Uint16(ip[6:]) & 0x1fff
	if (f.proto == protoTCP || f.proto == protoUDP) && fragOff == 0 && len(ip) >= ihl+4 {
		f.l4 = true
		f.sport = binary.BigEndian.Uint16(ip[ihl:])
		f.dport = binary.BigEndian.Uint16(ip[ihl+2:])
	}
}

// parseIPv6 reads the fixed IPv6 header and, when the next header is TCP
// or UDP, its ports (extension headers are not followed: ip_proto is then
// the first extension header's number, and there are no ports).
func parseIPv6(f *fields, ip []byte) {
	const hdr = 40
	if len(ip) < hdr || ip[0]>>4 != 6 {
		return
	}
	f.ipv6 = true
	f.proto = ip[6]
	if (f.proto == protoTCP || f.proto == protoUDP) && len(ip) >= hdr+4 {
		f.l4 = true
		f.sport = binary.BigEndian.Uint16(ip[hdr:])
		f.dport = binary.BigEndian.Uint16(ip[hdr+2:])
	}
}

// The edits below never change their input: they return a new frame, so a
// frame already handed to one port is never changed under it.

// pushVLAN adds an outer tag with tpid. As OpenFlow asks, the new tag takes
// the VID and PCP of the tag it covers, or zero on an untagged frame.
func pushVLAN(b []byte, tpid uint16) []byte {
	if len(b) < 12 {
		return b // no room for a tag (parse rejects such frames first)
	}
	var tci uint16
	if len(b) >= 16 && isTPID(binary.BigEndian.Uint16(b[12:])) {
		tci = binary.BigEndian.Uint16(b[14:])
	}
	out := make([]byte, len(b)+vlanTagLen)
	copy(out, b[:12])
	binary.BigEndian.PutUint16(out[12:], tpid)
	binary.BigEndian.PutUint16(out[14:], tci)
	copy(out[16:], b[12:])
	return out
}

// popVLAN removes the outer tag; an untagged frame is returned as it is.
func popVLAN(b []byte) []byte {
	if len(b) < 16+2 || !isTPID(binary.BigEndian.Uint16(b[12:])) {
		return b
	}
	out := make([]byte, 0, len(b)-vlanTagLen)
	out = append(out, b[:12]...)
	return append(out, b[16:]...)
}

// setTCI rewrites the outer tag's TCI through edit; an untagged frame is
// returned as it is.
func setTCI(b []byte, edit func(tci uint16) uint16) []byte {
	if len(b) < 16 || !isTPID(binary.BigEndian.Uint16(b[12:])) {
		return b
	}
	out := clone(b)
	binary.BigEndian.PutUint16(out[14:], edit(binary.BigEndian.Uint16(out[14:])))
	return out
}

func setVID(b []byte, vid uint16) []byte {
	return setTCI(b, func(tci uint16) uint16 { return tci&^0x0fff | vid&0x0fff })
}

func setPCP(b []byte, pcp uint8) []byte {
	return setTCI(b, func(tci uint16) uint16 { return tci&0x1fff | uint16(pcp&7)<<13 })
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
