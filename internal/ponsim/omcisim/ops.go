package omcisim

import (
	"encoding/binary"

	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// maxGetNextBaseline is how many octets of a table one baseline get next response carries.
const maxGetNextBaseline = omci.MaxAttributeGetNextBaselineLength

// tableSnap is the table attribute value a get took a snapshot of, read by the get nexts after it.
type tableSnap struct {
	class me.ClassID
	inst  uint16
	mask  uint16
	data  []byte
}

// getLocked answers a get: the readable attributes asked for, a table's size for a table attribute
// (its value follows with get next), attribute failure with the unsupported and failed masks
// when some of the mask cannot be answered.
func (o *ONU) getLocked(h *header, e *entity, mask uint16) []byte {
	if b := getFrame(h, e, mask); b != nil {
		return b
	}
	lay := e.lay
	resp := &omci.GetResponse{MeBasePacket: h.base(), Result: me.Success, Attributes: me.AttributeValueMap{}}
	resp.UnsupportedAttributeMask = mask &^ lay.allMask
	for i := range lay.attrs {
		a := &lay.attrs[i]
		if mask&a.mask == 0 {
			continue
		}
		if !a.read {
			resp.FailedAttributeMask |= a.mask
			continue
		}
		resp.AttributeMask |= a.mask
		if a.table {
			data := e.tables[a.mask]
			o.getNext = tableSnap{class: lay.id, inst: e.inst, mask: a.mask, data: data}
			resp.Attributes[a.def.Name] = uint32(len(data))
			continue
		}
		resp.Attributes[a.def.Name] = a.value(e.get(a))
	}
	if resp.UnsupportedAttributeMask != 0 || resp.FailedAttributeMask != 0 {
		resp.Result = me.AttributeFailure
	}
	return o.respond(h, resp)
}

// getNextLocked answers a get next: the next piece of the table the last get took a snapshot of.
func (o *ONU) getNextLocked(h *header, mask, seq uint16) []byte {
	s := &o.getNext
	chunk := maxGetNextBaseline
	if h.ext {
		chunk = omci.MaxAttributeGetNextExtendedLength
	}
	start := int(seq) * chunk
	if s.class != h.class || s.inst != h.inst || s.mask != mask || start >= len(s.data) && !(seq == 0 && len(s.data) == 0) {
		return o.respond(h, &omci.GetNextResponse{MeBasePacket: h.base(), Result: me.ProcessingError})
	}
	end := min(start+chunk, len(s.data))
	a := o.cat.classes[h.class].attr(mask)
	if a == nil {
		return o.respond(h, &omci.GetNextResponse{MeBasePacket: h.base(), Result: me.ProcessingError})
	}
	return o.respond(h, &omci.GetNextResponse{
		MeBasePacket:  h.base(),
		Result:        me.Success,
		AttributeMask: mask,
		Attributes:    me.AttributeValueMap{a.def.Name: append([]byte(nil), s.data[start:end]...)},
	})
}

// precheckSet answers a set that names attributes the class does not have (attribute failure,
// nothing set) or that are not writable (parameter error).
func (o *ONU) precheckSet(h *header, lay *classLayout) ([]byte, bool) {
	if len(h.contents) < 2 {
		return rawResponse(h, me.ParameterError), false
	}
	mask := binary.BigEndian.Uint16(h.contents)
	if bad := mask &^ lay.allMask; bad != 0 {
		return o.respond(h, &omci.SetResponse{MeBasePacket: h.base(), Result: me.AttributeFailure, UnsupportedAttributeMask: bad}), false
	}
	var failed uint16
	for i := range lay.attrs {
		if a := &lay.attrs[i]; mask&a.mask != 0 && !a.write {
			failed |= a.mask
		}
	}
	if failed != 0 {
		return o.respond(h, &omci.SetResponse{MeBasePacket: h.base(), Result: me.ParameterError, FailedAttributeMask: failed}), false
	}
	return nil, true
}

// setLocked applies a set: the attribute values come straight from the frame's octets in index
// order (omci-lib-go has already accepted the frame), table attributes add or remove one row.
func (o *ONU) setLocked(h *header, e *entity) ([]byte, effects, error) {
	var fx effects
	mask := binary.BigEndian.Uint16(h.contents)
	data := h.contents[2:]
	lay := e.lay
	vals := append([]byte(nil), e.vals...)
	type row struct {
		mask uint16
		b    []byte
	}
	var rows []row
	for i := range lay.attrs {
		a := &lay.attrs[i]
		if mask&a.mask == 0 {
			continue
		}
		n := int(a.size)
		if n == 0 || len(data) < n {
			return o.respond(h, &omci.SetResponse{MeBasePacket: h.base(), Result: me.ParameterError, FailedAttributeMask: a.mask}), fx, nil
		}
		if a.table {
			rows = append(rows, row{a.mask, data[:n]})
		} else {
			copy(vals[a.off:], data[:n])
		}
		data = data[n:]
	}
	locks := o.uniLocksLocked()
	e.vals = vals
	for _, r := range rows {
		o.setTableRow(e, r.mask, r.b)
	}
	if !(lay.id == me.OnuDataClassID && mask == 0x8000) {
		o.bumpSyncLocked()
	}
	fx = o.effectsLocked(lay.id, locks)
	return o.respond(h, &omci.SetResponse{MeBasePacket: h.base(), Result: me.Success}), fx, nil
}

// createLocked creates an instance from the set-by-create attributes, in index order.
func (o *ONU) createLocked(h *header, lay *classLayout) ([]byte, effects, error) {
	var fx effects
	e := newEntity(lay, h.inst)
	data := h.contents
	for i := range lay.attrs {
		a := &lay.attrs[i]
		if !a.sbc || a.table {
			continue
		}
		n := int(a.size)
		if len(data) < n {
			return o.respond(h, &omci.CreateResponse{MeBasePacket: h.base(), Result: me.ParameterError, AttributeExecutionMask: a.mask}), fx, nil
		}
		copy(e.get(a), data[:n])
		data = data[n:]
	}
	if lay.id == me.GemPortNetworkCtpClassID {
		port := e.u16(me.GemPortNetworkCtp_PortId)
		dup := false
		o.mib.each(lay.id, func(g *entity) { dup = dup || g.u16(me.GemPortNetworkCtp_PortId) == port })
		if dup || h.refused {
			return o.respond(h, &omci.CreateResponse{MeBasePacket: h.base(), Result: me.ParameterError, AttributeExecutionMask: 0x8000}), fx, nil
		}
	}
	locks := o.uniLocksLocked()
	o.mib.insert(e)
	o.bumpSyncLocked()
	fx = o.effectsLocked(lay.id, locks)
	return o.respond(h, &omci.CreateResponse{MeBasePacket: h.base(), Result: me.Success}), fx, nil
}

func (o *ONU) deleteLocked(h *header, e *entity) ([]byte, effects, error) {
	if !e.lay.create {
		return rawResponse(h, me.NotSupported), effects{}, nil
	}
	class := e.lay.id
	locks := o.uniLocksLocked()
	o.mib.remove(class, e.inst)
	o.bumpSyncLocked()
	fx := o.effectsLocked(class, locks)
	return o.respond(h, &omci.DeleteResponse{MeBasePacket: h.base(), Result: me.Success}), fx, nil
}

// effectsLocked works out what a change to an instance of class did: UNIs locked or unlocked
// (compared with locks, taken before), service configuration changed.
func (o *ONU) effectsLocked(class me.ClassID, locks []bool) effects {
	var fx effects
	switch class {
	case me.OnuGClassID, me.UniGClassID, me.PhysicalPathTerminationPointEthernetUniClassID:
		for u, l := range o.uniLocksLocked() {
			if l != locks[u] {
				fx.admin = append(fx.admin, adminChange{u, l})
			}
		}
	}
	fx.changed = serviceClass(class)
	return fx
}

// bumpSyncLocked increments the MIB data sync counter, which runs 1..255 (0 only after a reset).
func (o *ONU) bumpSyncLocked() {
	e := o.mib.find(me.OnuDataClassID, 0)
	if e == nil {
		return
	}
	vals := append([]byte(nil), e.vals...)
	vals[0]++
	if vals[0] == 0 {
		vals[0] = 1
	}
	e.vals = vals
}

// MIBDataSync returns the MIB data sync counter (ONU-data).
func (o *ONU) MIBDataSync() uint8 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e := o.mib.find(me.OnuDataClassID, 0); e != nil {
		return e.vals[0]
	}
	return 0
}

// setTableRow applies a set of one table row. The extended VLAN tagging operation table follows
// G.988 9.3.13: the first 8 octets (the filter) identify a row, a row whose treatment octets are
// all 0xff deletes it. Other tables keep the rows in the order they were set.
func (o *ONU) setTableRow(e *entity, mask uint16, b []byte) {
	if e.tables == nil {
		e.tables = make(map[uint16][]byte)
	}
	old := e.tables[mask]
	if e.lay.id != me.ExtendedVlanTaggingOperationConfigurationDataClassID || len(b) != vlanRowLen {
		e.tables[mask] = append(append([]byte(nil), old...), b...)
		return
	}
	var rows []byte
	for i := 0; i+vlanRowLen <= len(old); i += vlanRowLen {
		if string(old[i:i+8]) != string(b[:8]) {
			rows = append(rows, old[i:i+vlanRowLen]...)
		}
	}
	if !isDeleteRow(b) {
		rows = append(rows, b...)
	}
	e.tables[mask] = sortVLANRows(rows)
}

// uploadChunk is one MIB upload next answer: some attributes of one instance.
type uploadChunk struct {
	lay  *classLayout
	inst uint16
	mask uint16
	vals []byte // the instance's packed values when the upload began
}

// mibUploadLocked takes the snapshot the upload nexts read: every instance (ONU data first), its
// readable non-table attributes split so that each answer fits a baseline frame.
func (o *ONU) mibUploadLocked(h *header) []byte {
	chunks := o.upload[:0]
	add := func(e *entity) {
		var mask uint16
		size := 0
		for i := range e.lay.attrs {
			a := &e.lay.attrs[i]
			if !a.read || a.table {
				continue
			}
			if size+int(a.size) > omci.MaxAttributeMibUploadNextBaselineLength && mask != 0 {
				chunks = append(chunks, uploadChunk{e.lay, e.inst, mask, e.vals})
				mask, size = 0, 0
			}
			mask |= a.mask
			size += int(a.size)
		}
		if mask != 0 || size == 0 {
			chunks = append(chunks, uploadChunk{e.lay, e.inst, mask, e.vals})
		}
	}
	if e := o.mib.find(me.OnuDataClassID, 0); e != nil {
		add(e)
	}
	for i := range o.mib.ents {
		if e := &o.mib.ents[i]; e.lay.id != me.OnuDataClassID {
			add(e)
		}
	}
	o.upload = chunks
	return o.respond(h, &omci.MibUploadResponse{MeBasePacket: h.base(), NumberOfCommands: uint16(len(chunks))})
}

func (o *ONU) mibUploadNextLocked(h *header, seq uint16) []byte {
	if int(seq) >= len(o.upload) {
		// G.988: past the end there is no ME to report; answer an all-zero entry.
		return rawResponse(h, me.Success, make([]byte, 6)...)
	}
	c := &o.upload[seq]
	return uploadNextFrame(h, c)
}

// UploadCount is the number of MIB upload next messages a MIB upload of the current MIB needs.
func (o *ONU) UploadCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	saved := o.upload
	o.upload = nil
	o.mibUploadLocked(&header{tid: 1, mt: byte(me.MibUpload) | me.AR, class: me.OnuDataClassID})
	n := len(o.upload)
	o.upload = saved
	return n
}
