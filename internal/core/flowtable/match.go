// Package flowtable holds one logical device's flow, group and meter tables
// with OpenFlow 1.3 flow-mod, group-mod and meter-mod semantics. It is pure:
// Plan* works out what a mod changes without touching the table, so the
// caller can decompose and persist the change first and Apply it only when
// everything downstream accepted it.
package flowtable

import (
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
)

// field is one match field in canonical form: its value with the bits
// outside the mask cleared, and its mask, all ones when the field has none.
// A value given as a uint64 is 8 bytes long, big-endian; one given as bytes
// is as long as they are. Up to 8 bytes are held right-aligned in v and m;
// longer ones (IPv6 addresses) as given in bv and bm, masked when read.
// bv and bm alias the MatchField's bytes, which nobody changes (see Table).
type field struct {
	typ    openflowv1.MatchFieldType
	n      int    // length in bytes
	v, m   uint64 // n <= 8
	bv, bm []byte // n > 8; bm nil: all ones
}

func canonField(mf *openflowv1.MatchField) field {
	fl := field{typ: mf.GetType()}
	b := mf.GetBytesValue()
	if len(b) == 0 {
		fl.n, fl.m = 8, ^uint64(0)
		if mf.GetHasMask() {
			fl.m = mf.GetMask()
		}
		fl.v = mf.GetValue() & fl.m
		return fl
	}
	var mask []byte
	if mf.GetHasMask() && len(mf.GetBytesMask()) == len(b) {
		mask = mf.GetBytesMask()
	}
	fl.n = len(b)
	if fl.n > 8 {
		fl.bv, fl.bm = b, mask
		return fl
	}
	for i, c := range b {
		mk := byte(0xff)
		if mask != nil {
			mk = mask[i]
		}
		fl.v = fl.v<<8 | uint64(c&mk)
		fl.m = fl.m<<8 | uint64(mk)
	}
	return fl
}

// at returns byte i of a long field's value and mask.
func (f *field) at(i int) (value, mask byte) {
	mask = 0xff
	if f.bm != nil {
		mask = f.bm[i]
	}
	return f.bv[i] & mask, mask
}

func (f *field) equal(o *field) bool {
	if f.n != o.n {
		return false
	}
	if f.n <= 8 {
		return f.v == o.v && f.m == o.m
	}
	for i := range f.n {
		fv, fm := f.at(i)
		ov, om := o.at(i)
		if fv != ov || fm != om {
			return false
		}
	}
	return true
}

// coveredBy: on o's bits f is constrained at least as tightly and to the
// same value. Fields of other lengths never cover each other.
func (f *field) coveredBy(o *field) bool {
	if f.n != o.n {
		return false
	}
	if f.n <= 8 {
		return f.m&o.m == o.m && f.v&o.m == o.v
	}
	for i := range f.n {
		fv, fm := f.at(i)
		ov, om := o.at(i)
		if fm&om != om || fv&om != ov {
			return false
		}
	}
	return true
}

// conflicts: no value satisfies both. Fields of other lengths do not
// conflict.
func (f *field) conflicts(o *field) bool {
	if f.n != o.n {
		return false
	}
	if f.n <= 8 {
		both := f.m & o.m
		return f.v&both != o.v&both
	}
	for i := range f.n {
		fv, fm := f.at(i)
		ov, om := o.at(i)
		if both := fm & om; fv&both != ov&both {
			return true
		}
	}
	return false
}

// match is a match in canonical form: its fields sorted by type, one per
// type (the last given, when a type is given twice).
type match []field

// maxInline is how many fields a match built on the stack holds before
// it moves to the heap; logical flows match on a handful.
const maxInline = 8

// canonInto appends m's canonical form to dst (usually an array on the
// caller's stack, so that it costs no allocation).
func canonInto(dst match, m *openflowv1.Match) match {
	for _, mf := range m.GetFields() {
		dst = append(dst, canonField(mf))
	}
	for i := 1; i < len(dst); i++ { // stable: the last of a type stays last
		for j := i; j > 0 && dst[j].typ < dst[j-1].typ; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	out := dst[:0]
	for i := range dst {
		if i+1 < len(dst) && dst[i+1].typ == dst[i].typ {
			continue
		}
		out = append(out, dst[i])
	}
	return out
}

func (m match) equal(o match) bool {
	if len(m) != len(o) {
		return false
	}
	for i := range m {
		if m[i].typ != o[i].typ || !m[i].equal(&o[i]) {
			return false
		}
	}
	return true
}

// coveredBy reports whether every packet m matches is matched by o: each
// field o constrains, m constrains at least as tightly and to the same
// value on o's bits. This is the non-strict modify/delete test.
func (m match) coveredBy(o match) bool {
	i := 0
	for j := range o {
		for i < len(m) && m[i].typ < o[j].typ {
			i++
		}
		if i == len(m) || m[i].typ != o[j].typ || !m[i].coveredBy(&o[j]) {
			return false
		}
	}
	return true
}

// overlaps reports whether some packet could match both m and o.
func (m match) overlaps(o match) bool {
	i, j := 0, 0
	for i < len(m) && j < len(o) {
		switch {
		case m[i].typ < o[j].typ:
			i++
		case m[i].typ > o[j].typ:
			j++
		default:
			if m[i].conflicts(&o[j]) {
				return false
			}
			i++
			j++
		}
	}
	return true
}

// exactPort returns the in_port m matches when it matches one exactly.
// Only such a port is a key in the table's index (see bucket): a flow
// whose in_port is exactly another, or is exactly some port when m's is
// too, can neither overlap m nor be covered by it.
func (m match) exactPort() (port uint64, ok bool) {
	for i := range m {
		if f := &m[i]; f.typ == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT {
			return f.v, f.n == 8 && f.m == ^uint64(0)
		}
	}
	return 0, false
}

// shape has a bit for each field type below 64 but in_port (which the
// buckets index already) that m matches exactly, 8 bytes long: those that
// two flows must agree on to overlap when both match them so.
func (m match) shape() (s uint64) {
	for i := range m {
		f := &m[i]
		if f.typ < 64 && f.typ != openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT && f.n == 8 && f.m == ^uint64(0) {
			s |= 1 << f.typ
		}
	}
	return s
}

// sig is a hash of shape s and m's values on it; m matches every field
// of s exactly (s is m's shape or part of it).
func (m match) sig(s uint64) uint64 {
	h := mix(s)
	for i := range m {
		if f := &m[i]; f.typ < 64 && s&(1<<f.typ) != 0 {
			h = mix(h ^ f.v)
		}
	}
	return h
}

// key is a hash of a priority and a canonical match: equal matches at one
// priority have one key, whichever way they were written. It indexes
// flows for the strict commands; entries with one key are compared in
// full, so a collision costs a comparison, not a wrong answer.
func (m match) key(priority uint32) uint64 {
	h := mix(uint64(priority))
	for i := range m {
		f := &m[i]
		h = mix(h ^ uint64(f.typ)<<32 ^ uint64(f.n))
		if f.n <= 8 {
			h = mix(mix(h^f.v) ^ f.m)
			continue
		}
		for j := range f.n {
			v, mk := f.at(j)
			h = mix(h ^ uint64(v)<<8 ^ uint64(mk))
		}
	}
	return h
}

// mix is the splitmix64 finaliser.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// FlowID is the stable id of a flow entry: flowdecomp.FlowID of its table,
// priority and match, so the table and the decomposer agree on identity.
func FlowID(tableID, priority uint32, m *openflowv1.Match) uint64 {
	return flowdecomp.FlowID(&openflowv1.Flow{TableId: tableID, Priority: priority, Match: m})
}
