// Package flowtable holds one logical device's flow, group and meter tables
// with OpenFlow 1.3 flow-mod, group-mod and meter-mod semantics. It is pure:
// Plan* works out what a mod changes without touching the table, so the
// caller can decompose and persist the change first and Apply it only when
// everything downstream accepted it.
package flowtable

import (
	"bytes"
	"encoding/binary"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
)

// field is one match field in canonical form: value masked, mask explicit
// (all ones when the field has no mask).
type field struct {
	value, mask []byte
}

// match is a match in canonical form, keyed by field type.
type match map[openflowv1.MatchFieldType]field

func fieldBytes(f *openflowv1.MatchField) (value, mask []byte) {
	if len(f.GetBytesValue()) > 0 {
		value = bytes.Clone(f.GetBytesValue())
		if f.GetHasMask() && len(f.GetBytesMask()) == len(value) {
			mask = bytes.Clone(f.GetBytesMask())
		}
	} else {
		value = binary.BigEndian.AppendUint64(nil, f.GetValue())
		if f.GetHasMask() {
			mask = binary.BigEndian.AppendUint64(nil, f.GetMask())
		}
	}
	if mask == nil {
		mask = bytes.Repeat([]byte{0xff}, len(value))
	}
	for i := range value {
		value[i] &= mask[i]
	}
	return value, mask
}

func canon(m *openflowv1.Match) match {
	out := make(match, len(m.GetFields()))
	for _, f := range m.GetFields() {
		v, mk := fieldBytes(f)
		out[f.GetType()] = field{value: v, mask: mk}
	}
	return out
}

func (m match) equal(o match) bool {
	if len(m) != len(o) {
		return false
	}
	for t, f := range m {
		g, ok := o[t]
		if !ok || !bytes.Equal(f.value, g.value) || !bytes.Equal(f.mask, g.mask) {
			return false
		}
	}
	return true
}

// coveredBy reports whether every packet m matches is matched by o: each
// field o constrains, m constrains at least as tightly and to the same
// value on o's bits. This is the non-strict modify/delete test.
func (m match) coveredBy(o match) bool {
	for t, of := range o {
		mf, ok := m[t]
		if !ok || len(mf.value) != len(of.value) {
			return false
		}
		for i := range of.mask {
			if mf.mask[i]&of.mask[i] != of.mask[i] || mf.value[i]&of.mask[i] != of.value[i] {
				return false
			}
		}
	}
	return true
}

// overlaps reports whether some packet could match both m and o.
func (m match) overlaps(o match) bool {
	for t, mf := range m {
		of, ok := o[t]
		if !ok || len(mf.value) != len(of.value) {
			continue
		}
		for i := range mf.mask {
			both := mf.mask[i] & of.mask[i]
			if mf.value[i]&both != of.value[i]&both {
				return false
			}
		}
	}
	return true
}

// FlowID is the stable id of a flow entry: flowdecomp.FlowID of its table,
// priority and match, so the table and the decomposer agree on identity.
func FlowID(tableID, priority uint32, m *openflowv1.Match) uint64 {
	return flowdecomp.FlowID(&openflowv1.Flow{TableId: tableID, Priority: priority, Match: m})
}
