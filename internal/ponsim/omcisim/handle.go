package omcisim

import (
	"encoding/binary"
	"fmt"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// Handle takes one OMCI frame as received from the OLT (raw bytes: baseline 40/44/48 octets, or
// extended) and returns the frames to send back, in order: the response, then any autonomous
// notifications it caused (alarm notifications, TCI 0).
//
// A well-formed request always gets a response with the G.988 result (unknown class → unknown
// managed entity, unknown instance → unknown managed entity instance, a message type the ONU does
// not implement → command not supported, …) and a nil error. A malformed frame returns an error
// wrapping ErrMalformed and, when its header could be read, a processing error response so that the
// OLT does not wait for a timeout. Handle never panics.
func (o *ONU) Handle(req []byte) ([][]byte, error) {
	out, fx, err := o.handleSafely(req)
	o.run(fx) // outside the recover: a panicking UNIAdmin, Changed or Rebooted hook is ponsim's bug
	return out, err
}

// handleSafely decodes and handles req; it turns any panic into a malformed-frame error.
func (o *ONU) handleSafely(req []byte) (out [][]byte, fx effects, err error) {
	defer func() {
		if r := recover(); r != nil {
			// Last line of defence: handle's defer has released the lock.
			out, fx, err = nil, effects{}, fmt.Errorf("%w: %v", ErrMalformed, r)
			o.mu.Lock()
			o.counters.Malformed++
			o.mu.Unlock()
		}
	}()
	h, err := parseHeader(req)
	if err != nil {
		o.mu.Lock()
		o.counters.Malformed++
		o.mu.Unlock()
		if h.answer {
			return [][]byte{rawResponse(&h, me.ProcessingError)}, fx, err
		}
		return nil, fx, err
	}
	// Asked before the ONU lock is taken, as every hook is; the create itself is checked under it.
	if h.kind() == me.Create && h.class == me.GemPortNetworkCtpClassID && len(h.contents) >= 2 && o.hooks.GemPortFree != nil {
		h.refused = !o.hooks.GemPortFree(binary.BigEndian.Uint16(h.contents))
	}
	return o.handle(&h, req)
}

func (o *ONU) handle(h *header, req []byte) ([][]byte, effects, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counters.Requests++
	resp, fx, err := o.dispatchLocked(h, req)
	if err != nil {
		o.counters.Malformed++
	}
	if resp == nil {
		return nil, fx, err
	}
	if resp[2]&me.AK != 0 && resultOf(h, resp) != me.Success {
		o.counters.Errors++
	}
	out := [][]byte{resp}
	if len(fx.admin) > 0 {
		out = append(out, o.alarmsLocked()...)
	}
	return out, fx, err
}

// resultOf is the result octet of a response to a message type that has one.
func resultOf(h *header, resp []byte) me.Results {
	switch h.kind() {
	case me.MibUpload, me.MibUploadNext, me.GetAllAlarms, me.GetAllAlarmsNext:
		return me.Success
	}
	off := 8
	if h.ext {
		off = extHeaderLen
	}
	if len(resp) <= off {
		return me.ProcessingError
	}
	return me.Results(resp[off])
}

// dispatchLocked checks the addressed class and instance and runs the request's handler.
func (o *ONU) dispatchLocked(h *header, req []byte) ([]byte, effects, error) {
	var none effects
	switch h.kind() {
	case me.Create, me.Delete, me.Set, me.Get, me.GetAllAlarms, me.GetAllAlarmsNext, me.MibUpload,
		me.MibUploadNext, me.MibReset, me.SynchronizeTime, me.Reboot, me.GetNext:
	case me.Test, me.StartSoftwareDownload, me.DownloadSection, me.EndSoftwareDownload,
		me.ActivateSoftware, me.CommitSoftware, me.GetCurrentData, me.SetTable:
		return rawResponse(h, me.NotSupported), none, nil
	default:
		return rawResponse(h, me.NotSupported), none, fmt.Errorf("%w: unknown message type %#x", ErrMalformed, h.mt)
	}
	lay := o.cat.classes[h.class]
	if lay == nil {
		return rawResponse(h, me.UnknownEntity), none, nil
	}
	if !lay.supports(h.kind()) {
		return rawResponse(h, me.NotSupported), none, nil
	}
	var ent *entity
	switch h.kind() {
	case me.Create:
		if o.mib.find(h.class, h.inst) != nil {
			return rawResponse(h, me.InstanceExists), none, nil
		}
	default:
		if ent = o.mib.find(h.class, h.inst); ent == nil {
			return rawResponse(h, me.UnknownInstance), none, nil
		}
	}
	// Set and create are checked against the class layout first, so that a request the library
	// would refuse (a read-only or unknown attribute) gets its precise G.988 result.
	if h.kind() == me.Set {
		if r, ok := o.precheckSet(h, lay); !ok {
			return r, none, nil
		}
	}
	layer, err := decodeRequest(req)
	if err != nil {
		res := me.ProcessingError
		if h.kind() == me.Set || h.kind() == me.Create {
			res = me.ParameterError
		}
		return rawResponse(h, res), none, err
	}
	switch h.kind() {
	case me.MibReset:
		return o.respond(h, &omci.MibResetResponse{MeBasePacket: h.base(), Result: me.Success}), o.resetLocked(), nil
	case me.Reboot:
		resp := o.respond(h, &omci.RebootResponse{MeBasePacket: h.base(), Result: me.Success})
		fx := o.resetLocked()
		fx.rebooted = true
		return resp, fx, nil
	case me.SynchronizeTime:
		return o.respond(h, &omci.SynchronizeTimeResponse{MeBasePacket: h.base(), Result: me.Success}), none, nil
	case me.MibUpload:
		return o.mibUploadLocked(h), none, nil
	case me.MibUploadNext:
		if r, ok := layer.(*omci.MibUploadNextRequest); ok {
			return o.mibUploadNextLocked(h, r.CommandSequenceNumber), none, nil
		}
		return wrongLayer(h, layer)
	case me.GetAllAlarms:
		return o.getAllAlarmsLocked(h), none, nil
	case me.GetAllAlarmsNext:
		if r, ok := layer.(*omci.GetAllAlarmsNextRequest); ok {
			return o.getAllAlarmsNextLocked(h, r.CommandSequenceNumber), none, nil
		}
		return wrongLayer(h, layer)
	case me.Get:
		if r, ok := layer.(*omci.GetRequest); ok {
			return o.getLocked(h, ent, r.AttributeMask), none, nil
		}
		return wrongLayer(h, layer)
	case me.GetNext:
		if r, ok := layer.(*omci.GetNextRequest); ok {
			return o.getNextLocked(h, r.AttributeMask, r.SequenceNumber), none, nil
		}
		return wrongLayer(h, layer)
	case me.Set:
		return o.setLocked(h, ent)
	case me.Create:
		return o.createLocked(h, lay)
	case me.Delete:
		return o.deleteLocked(h, ent)
	}
	return rawResponse(h, me.NotSupported), none, nil
}

// wrongLayer answers a request whose decoded layer is not of its message type's layer type
// (omci-lib-go picks the layer from the type, so this is only a guard against asserting blindly).
func wrongLayer(h *header, l gopacket.Layer) ([]byte, effects, error) {
	return rawResponse(h, me.ProcessingError), effects{}, fmt.Errorf("%w: unexpected layer %T", ErrMalformed, l)
}
