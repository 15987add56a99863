package flowdecomp

import openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvUint64(h, v uint64) uint64 {
	for s := 56; s >= 0; s -= 8 {
		h = fnvByte(h, byte(v>>s))
	}
	return h
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return h
}

// FlowID is the stable id of a logical flow: a 64-bit FNV-1a hash of its
// table, priority and match (OpenFlow names a flow entry by these three; the
// cookie is an attribute of the entry, so a re-add with another cookie
// replaces the entry). The match is taken field by field in
// field-type order, with masked-off bits cleared and an all-ones mask the
// same as none, so equal matches written differently hash alike. The same
// flow has the same id on every node and across restarts, and a re-added
// flow replaces itself.
func FlowID(f *openflowv1.Flow) uint64 { return flowHash(fnvOffset, f) }

// DeviceFlowID is the stable id of a device flow: FlowID's hash with the
// device id in front, so that decomposing a logical flow again gives the
// same device flow ids (idempotent adds, deletes by recomputation).
func DeviceFlowID(deviceID string, f *openflowv1.Flow) uint64 {
	h := fnvBytes(fnvOffset, []byte(deviceID))
	return flowHash(fnvByte(h, 0), f)
}

func flowHash(h uint64, f *openflowv1.Flow) uint64 {
	h = fnvUint64(h, uint64(f.GetTableId())<<32|uint64(f.GetPriority()))
	fields := f.GetMatch().GetFields()
	// Visit the fields in type order without sorting them in place: a
	// match is short, so pick the next type each time.
	var small [16]int
	order := small[:0]
	if len(fields) > len(small) {
		order = make([]int, 0, len(fields))
	}
	for i := range fields {
		j := len(order)
		order = append(order, i)
		for ; j > 0 && fields[order[j-1]].GetType() > fields[i].GetType(); j-- {
			order[j] = order[j-1]
		}
		order[j] = i
	}
	for _, i := range order {
		h = fieldHash(h, fields[i])
	}
	return h
}

func fieldHash(h uint64, mf *openflowv1.MatchField) uint64 {
	h = fnvUint64(h, uint64(uint32(mf.GetType())))
	if b := mf.GetBytesValue(); len(b) > 0 {
		m := mf.GetBytesMask()
		masked := mf.GetHasMask() && len(m) == len(b) && !allOnes(m)
		h = fnvByte(h, 'b')
		for i, c := range b {
			if masked {
				c &= m[i]
			}
			h = fnvByte(h, c)
		}
		if masked {
			h = fnvBytes(fnvByte(h, '/'), m)
		}
		return h
	}
	v, m := mf.GetValue(), mf.GetMask()
	if mf.GetHasMask() && m != ^uint64(0) {
		return fnvUint64(fnvByte(fnvUint64(h, v&m), '/'), m)
	}
	return fnvUint64(h, v)
}

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}
