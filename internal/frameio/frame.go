package frameio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Ethernet sizes and the tag protocol identifiers frameio treats as VLAN tags.
const (
	// HeaderLen is the length of an untagged Ethernet header: two MACs and an
	// EtherType.
	HeaderLen = 14
	// TagLen is the length of one VLAN tag: TPID and TCI.
	TagLen = 4
	// MinFrameLen is the shortest frame on the wire without its FCS; Send pads
	// shorter frames with zeros.
	MinFrameLen = 60

	// TPIDCTag is the 802.1Q customer tag.
	TPIDCTag uint16 = 0x8100
	// TPIDSTag is the 802.1ad service tag (outer tag of QinQ).
	TPIDSTag uint16 = 0x88a8
	// TPIDQinQ is the pre-standard outer tag some equipment still sends.
	TPIDQinQ uint16 = 0x9100

	// MaxVID is the largest VID a VLAN sub-port may use; 4095 is reserved.
	MaxVID = 4094

	macsLen = 12 // destination and source MAC: where a tag goes
)

// Errors returned by the frame helpers and by Send.
var (
	ErrShortFrame   = errors.New("frameio: frame shorter than an Ethernet header")
	ErrTruncatedTag = errors.New("frameio: VLAN tag truncated")
	ErrNotTagged    = errors.New("frameio: frame has no VLAN tag")
	ErrInvalidTag   = errors.New("frameio: invalid VLAN tag")
)

// Tag is one VLAN tag: its TPID and the three fields of its TCI.
type Tag struct {
	TPID uint16
	PCP  uint8 // priority code point, 0..7
	DEI  bool  // drop eligible
	VID  uint16
}

// TagFromTCI builds a Tag from a TPID and a tag control information word.
func TagFromTCI(tpid, tci uint16) Tag {
	return Tag{TPID: tpid, PCP: uint8(tci >> 13), DEI: tci&0x1000 != 0, VID: tci & 0x0fff}
}

// TCI returns the tag control information word: PCP, DEI and VID.
func (t Tag) TCI() uint16 {
	tci := uint16(t.PCP&7)<<13 | t.VID&0x0fff
	if t.DEI {
		tci |= 0x1000
	}
	return tci
}

func (t Tag) String() string {
	s := fmt.Sprintf("%#04x/%d/p%d", t.TPID, t.VID, t.PCP)
	if t.DEI {
		s += "/dei"
	}
	return s
}

// Validate reports whether t can be put on the wire: a known TPID, a PCP
// that fits three bits and a VID that fits twelve.
func (t Tag) Validate() error {
	switch {
	case !IsTPID(t.TPID):
		return fmt.Errorf("%w: TPID %#04x is not 0x8100, 0x88a8 or 0x9100", ErrInvalidTag, t.TPID)
	case t.PCP > 7:
		return fmt.Errorf("%w: PCP %d > 7", ErrInvalidTag, t.PCP)
	case t.VID > 0x0fff:
		return fmt.Errorf("%w: VID %d > 4095", ErrInvalidTag, t.VID)
	}
	return nil
}

// IsTPID reports whether an EtherType announces a VLAN tag.
func IsTPID(etherType uint16) bool {
	return etherType == TPIDCTag || etherType == TPIDSTag || etherType == TPIDQinQ
}

// walkTags checks the header of frame and returns the number of VLAN tags in
// it and the EtherType that follows them. It allocates nothing, since every
// received frame goes through it.
func walkTags(frame []byte) (tags int, etherType uint16, err error) {
	if len(frame) < HeaderLen {
		return 0, 0, ErrShortFrame
	}
	off := macsLen
	for {
		et := binary.BigEndian.Uint16(frame[off:])
		if !IsTPID(et) {
			return tags, et, nil
		}
		// A tag needs its TCI and the EtherType after it.
		if len(frame) < off+TagLen+2 {
			return tags, 0, ErrTruncatedTag
		}
		tags++
		off += TagLen
	}
}

// Tags returns the VLAN tags of frame, outermost first.
func Tags(frame []byte) ([]Tag, error) {
	n, _, err := walkTags(frame)
	if err != nil {
		return nil, err
	}
	tags := make([]Tag, n)
	for i := range tags {
		off := macsLen + i*TagLen
		tags[i] = TagFromTCI(binary.BigEndian.Uint16(frame[off:]), binary.BigEndian.Uint16(frame[off+2:]))
	}
	return tags, nil
}

// EtherType returns the EtherType of frame after all its VLAN tags.
func EtherType(frame []byte) (uint16, error) {
	_, et, err := walkTags(frame)
	return et, err
}

// OuterTag returns the outermost VLAN tag of frame; ok is false when the frame
// is untagged or malformed.
func OuterTag(frame []byte) (t Tag, ok bool) {
	if len(frame) < macsLen+TagLen+2 {
		return Tag{}, false
	}
	tpid := binary.BigEndian.Uint16(frame[macsLen:])
	if !IsTPID(tpid) {
		return Tag{}, false
	}
	return TagFromTCI(tpid, binary.BigEndian.Uint16(frame[macsLen+2:])), true
}

// PushTag returns a new frame with t inserted as the outermost tag, right after
// the MACs. frame is not modified.
func PushTag(frame []byte, t Tag) ([]byte, error) {
	if len(frame) < HeaderLen {
		return nil, ErrShortFrame
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	out := make([]byte, len(frame)+TagLen)
	copy(out, frame[:macsLen])
	binary.BigEndian.PutUint16(out[macsLen:], t.TPID)
	binary.BigEndian.PutUint16(out[macsLen+2:], t.TCI())
	copy(out[macsLen+TagLen:], frame[macsLen:])
	return out, nil
}

// PopTag returns the outermost tag of frame and a new frame without it. frame
// is not modified.
func PopTag(frame []byte) (Tag, []byte, error) {
	if len(frame) < HeaderLen {
		return Tag{}, nil, ErrShortFrame
	}
	t, ok := OuterTag(frame)
	if !ok {
		if IsTPID(binary.BigEndian.Uint16(frame[macsLen:])) {
			return Tag{}, nil, ErrTruncatedTag
		}
		return Tag{}, nil, ErrNotTagged
	}
	return t, popped(frame), nil
}

// popped returns a copy of frame without its outer tag; the caller has checked
// that there is one.
func popped(frame []byte) []byte {
	out := make([]byte, len(frame)-TagLen)
	copy(out, frame[:macsLen])
	copy(out[macsLen:], frame[macsLen+TagLen:])
	return out
}

// Pad returns frame if it is at least MinFrameLen bytes long, otherwise a
// copy padded with zeros to MinFrameLen.
func Pad(frame []byte) []byte {
	if len(frame) >= MinFrameLen {
		return frame
	}
	out := make([]byte, MinFrameLen)
	copy(out, frame)
	return out
}
