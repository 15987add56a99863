package ofp13

import (
	"bytes"
	"fmt"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// Conversions between the wire match and openflowv1.Match. A
// MatchFieldType is the OXM field number plus one. MAC and IPv6 addresses
// travel in bytes_value/bytes_mask, every other field in value/mask;
// FromProto also accepts bytes of the field's exact size for any field.

// OXMFromProto converts one match field. Unknown types are
// OFPBMC_BAD_FIELD; sizes that do not fit the field OFPBMC_BAD_LEN,
// OFPBMC_BAD_VALUE or OFPBMC_BAD_MASK; value bits outside the mask
// OFPBMC_BAD_WILDCARDS.
func OXMFromProto(f *openflowv1.MatchField) (OXM, error) {
	if f == nil {
		return OXM{}, Errorf(ErrTypeBadMatch, BadMatchBadField, "nil match field")
	}
	t := f.GetType()
	if t <= 0 || int(t)-1 >= int(numOXMFields) {
		return OXM{}, Errorf(ErrTypeBadMatch, BadMatchBadField, "match field type %v", t)
	}
	field := OXMField(t - 1)
	size := field.Size()
	value, err := protoFieldBytes(field, size, f.GetBytesValue(), f.GetValue(), BadMatchBadLen, BadMatchBadValue, "value")
	if err != nil {
		return OXM{}, err
	}
	o := OXM{Field: field, Value: value}
	if f.GetHasMask() {
		if o.Mask, err = protoFieldBytes(field, size, f.GetBytesMask(), f.GetMask(), BadMatchBadMask, BadMatchBadMask, "mask"); err != nil {
			return OXM{}, err
		}
	}
	if err := o.check(); err != nil {
		return OXM{}, err
	}
	return o, nil
}

// protoFieldBytes picks the bytes or the integer form of a value or mask
// and sizes it for the field.
func protoFieldBytes(field OXMField, size int, b []byte, v uint64, lenCode, valueCode uint16, what string) ([]byte, error) {
	if len(b) > 0 {
		if len(b) != size {
			return nil, Errorf(ErrTypeBadMatch, lenCode, "%v %s is %d bytes, want %d", field, what, len(b), size)
		}
		return bytes.Clone(b), nil
	}
	if size < 8 && v>>(8*size) != 0 {
		return nil, Errorf(ErrTypeBadMatch, valueCode, "%v %s %#x does not fit %d bytes", field, what, v, size)
	}
	return uintBytes(v, size), nil
}

// OXMToProto converts one match field.
func OXMToProto(o OXM) *openflowv1.MatchField {
	f := &openflowv1.MatchField{Type: openflowv1.MatchFieldType(int32(o.Field) + 1), HasMask: o.Mask != nil}
	if !o.Field.Known() || oxmFields[o.Field].bytes || len(o.Value) > 8 {
		f.BytesValue = bytes.Clone(o.Value)
		f.BytesMask = bytes.Clone(o.Mask)
		return f
	}
	f.Value = bytesUint(o.Value)
	if o.Mask != nil {
		f.Mask = bytesUint(o.Mask)
	}
	return f
}

// MatchFromProto converts a match; a nil match is the empty match. A field
// given twice is OFPBMC_DUP_FIELD.
func MatchFromProto(m *openflowv1.Match) (Match, error) {
	var out Match
	var seen [numOXMFields]bool
	for i, f := range m.GetFields() {
		o, err := OXMFromProto(f)
		if err != nil {
			return Match{}, fmt.Errorf("match field %d: %w", i, err)
		}
		if seen[o.Field] {
			return Match{}, Errorf(ErrTypeBadMatch, BadMatchDupField, "%v twice", o.Field)
		}
		seen[o.Field] = true
		out.Fields = append(out.Fields, o)
	}
	return out, nil
}

// MatchToProto converts a match (never nil).
func MatchToProto(m Match) *openflowv1.Match {
	out := &openflowv1.Match{}
	for _, o := range m.Fields {
		out.Fields = append(out.Fields, OXMToProto(o))
	}
	return out
}
