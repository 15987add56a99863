package omci

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
)

// genFrame builds a request with omci-lib-go's meframe (guarded by Do).
func genFrame(tid uint16, mt omci.MessageType, class me.ClassID, inst uint16, av me.AttributeValueMap, opts ...meframe.FrameOption) ([]byte, error) {
	ent, oerr := me.LoadManagedEntityDefinition(class, me.ParamData{EntityID: inst, Attributes: av})
	if oerr != nil && oerr.StatusCode() != me.Success {
		return nil, fmt.Errorf("ME %v: %v", class, oerr.GetError())
	}
	opts = append([]meframe.FrameOption{meframe.TransactionID(tid)}, opts...)
	return meframe.GenFrame(ent, mt, opts...)
}

// layerFrame serializes one request layer behind a baseline header.
func layerFrame(tid uint16, mt omci.MessageType, l gopacket.SerializableLayer) ([]byte, error) {
	hdr := &omci.OMCI{TransactionID: tid, MessageType: mt, DeviceIdentifier: omci.BaselineIdent}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, hdr, l); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func result(mt omci.MessageType, class me.ClassID, inst uint16, r me.Results) error {
	if r == me.Success {
		return nil
	}
	return &ResultError{Type: mt, Class: class, Inst: inst, Result: r}
}

func (e *Engine) failed(err error) error {
	if err != nil {
		e.mu.Lock()
		e.count.Failed++
		e.count.LastError = err.Error()
		e.mu.Unlock()
	}
	return err
}

// wrongAnswer is a response layer of an unexpected Go type.
func wrongAnswer(mt omci.MessageType, l gopacket.Layer) error {
	return fmt.Errorf("%v: answered with %T", mt, l)
}

// getOnce is one get request.
func (e *Engine) getOnce(ctx context.Context, class me.ClassID, inst, mask uint16) (me.AttributeValueMap, error) {
	l, err := e.Do(ctx, omci.GetRequestType, func(tid uint16) ([]byte, error) {
		return layerFrame(tid, omci.GetRequestType, &omci.GetRequest{
			MeBasePacket: omci.MeBasePacket{EntityClass: class, EntityInstance: inst}, AttributeMask: mask})
	})
	if err != nil {
		return nil, err
	}
	r, ok := l.(*omci.GetResponse)
	if !ok {
		return nil, wrongAnswer(omci.GetRequestType, l)
	}
	if r.EntityClass != class || r.EntityInstance != inst {
		return nil, e.failed(fmt.Errorf("get %v/%#x: answered for %v/%#x", class, inst, r.EntityClass, r.EntityInstance))
	}
	return r.Attributes, e.failed(result(omci.GetRequestType, class, inst, r.Result))
}

// maskOf is the attribute mask of the attributes named in av.
func maskOf(class me.ClassID, av me.AttributeValueMap) (uint16, error) {
	defs, oerr := me.GetAttributesDefinitions(class)
	if oerr != nil && oerr.StatusCode() != me.Success {
		return 0, fmt.Errorf("class %v: %v", class, oerr.GetError())
	}
	var mask uint16
	for name := range av {
		found := false
		for i, d := range defs {
			if i != 0 && d.Name == name {
				mask |= d.Mask
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("class %v has no attribute %q", class, name)
		}
	}
	return mask, nil
}

// setOnce is one set request.
func (e *Engine) setOnce(ctx context.Context, class me.ClassID, inst uint16, av me.AttributeValueMap) error {
	mask, err := maskOf(class, av)
	if err != nil {
		return e.failed(err)
	}
	l, err := e.Do(ctx, omci.SetRequestType, func(tid uint16) ([]byte, error) {
		return genFrame(tid, omci.SetRequestType, class, inst, av, meframe.AttributeMask(mask))
	})
	if err != nil {
		return err
	}
	r, ok := l.(*omci.SetResponse)
	if !ok {
		return wrongAnswer(omci.SetRequestType, l)
	}
	return e.failed(result(omci.SetRequestType, class, inst, r.Result))
}

// createOnce is one create request.
func (e *Engine) createOnce(ctx context.Context, class me.ClassID, inst uint16, av me.AttributeValueMap) error {
	l, err := e.Do(ctx, omci.CreateRequestType, func(tid uint16) ([]byte, error) {
		return genFrame(tid, omci.CreateRequestType, class, inst, av)
	})
	if err != nil {
		return err
	}
	r, ok := l.(*omci.CreateResponse)
	if !ok {
		return wrongAnswer(omci.CreateRequestType, l)
	}
	if r.Result == me.InstanceExists {
		return nil
	}
	return e.failed(result(omci.CreateRequestType, class, inst, r.Result))
}

// deleteOnce is one delete request.
func (e *Engine) deleteOnce(ctx context.Context, class me.ClassID, inst uint16) error {
	l, err := e.Do(ctx, omci.DeleteRequestType, func(tid uint16) ([]byte, error) {
		return genFrame(tid, omci.DeleteRequestType, class, inst, nil)
	})
	if err != nil {
		return err
	}
	r, ok := l.(*omci.DeleteResponse)
	if !ok {
		return wrongAnswer(omci.DeleteRequestType, l)
	}
	if r.Result == me.UnknownInstance {
		return nil
	}
	return e.failed(result(omci.DeleteRequestType, class, inst, r.Result))
}

// mibresetOnce is one MIB reset request.
func (e *Engine) mibresetOnce(ctx context.Context) error {
	l, err := e.Do(ctx, omci.MibResetRequestType, func(tid uint16) ([]byte, error) {
		return genFrame(tid, omci.MibResetRequestType, me.OnuDataClassID, 0, nil)
	})
	if err != nil {
		return err
	}
	r, ok := l.(*omci.MibResetResponse)
	if !ok {
		return wrongAnswer(omci.MibResetRequestType, l)
	}
	return e.failed(result(omci.MibResetRequestType, me.OnuDataClassID, 0, r.Result))
}

// Reboot reboots the ONU.
func (e *Engine) Reboot(ctx context.Context) error {
	l, err := e.Do(ctx, omci.RebootRequestType, func(tid uint16) ([]byte, error) {
		return genFrame(tid, omci.RebootRequestType, me.OnuGClassID, 0, nil)
	})
	if err != nil {
		return err
	}
	r, ok := l.(*omci.RebootResponse)
	if !ok {
		return wrongAnswer(omci.RebootRequestType, l)
	}
	return e.failed(result(omci.RebootRequestType, me.OnuGClassID, 0, r.Result))
}

// Entity is one ME instance as the ONU reported it.
type Entity struct {
	Class      me.ClassID
	Inst       uint16
	Attributes me.AttributeValueMap
}

// MibUpload uploads the whole MIB: upload, then upload-next per command.
func (e *Engine) MibUpload(ctx context.Context) ([]Entity, error) {
	l, err := e.Do(ctx, omci.MibUploadRequestType, func(tid uint16) ([]byte, error) {
		return genFrame(tid, omci.MibUploadRequestType, me.OnuDataClassID, 0, nil)
	})
	if err != nil {
		return nil, err
	}
	r, ok := l.(*omci.MibUploadResponse)
	if !ok {
		return nil, wrongAnswer(omci.MibUploadRequestType, l)
	}
	out := make([]Entity, 0, r.NumberOfCommands)
	for seq := range r.NumberOfCommands {
		l, err := e.Do(ctx, omci.MibUploadNextRequestType, func(tid uint16) ([]byte, error) {
			return genFrame(tid, omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(seq))
		})
		if err != nil {
			return nil, fmt.Errorf("upload next %d of %d: %w", seq, r.NumberOfCommands, err)
		}
		n, ok := l.(*omci.MibUploadNextResponse)
		if !ok {
			return nil, wrongAnswer(omci.MibUploadNextRequestType, l)
		}
		m := n.ReportedME
		out = append(out, Entity{Class: m.GetClassID(), Inst: m.GetEntityID(), Attributes: m.GetAttributeValueMap()})
	}
	return out, nil
}

// busyRetry runs one request again while the ONU answers "device busy"
// (G.988: try again later), at most Retries more times, waiting a tenth of
// the timeout between tries.
func (e *Engine) busyRetry(ctx context.Context, fn func() error) error {
	for try := 0; ; try++ {
		err := fn()
		var re *ResultError
		if !errors.As(err, &re) || re.Result != me.DeviceBusy || try >= e.cfg.Retries {
			return err
		}
		e.mu.Lock()
		e.count.Retries++
		e.mu.Unlock()
		t := time.NewTimer(e.cfg.Timeout / 10)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Get reads the attributes of mask of an instance.
func (e *Engine) Get(ctx context.Context, class me.ClassID, inst, mask uint16) (av me.AttributeValueMap, err error) {
	err = e.busyRetry(ctx, func() error {
		av, err = e.getOnce(ctx, class, inst, mask)
		return err
	})
	return av, err
}

// Set writes attributes of an instance.
func (e *Engine) Set(ctx context.Context, class me.ClassID, inst uint16, av me.AttributeValueMap) error {
	return e.busyRetry(ctx, func() error { return e.setOnce(ctx, class, inst, av) })
}

// Create makes an instance; one that exists already counts as made.
func (e *Engine) Create(ctx context.Context, class me.ClassID, inst uint16, av me.AttributeValueMap) error {
	return e.busyRetry(ctx, func() error { return e.createOnce(ctx, class, inst, av) })
}

// Delete removes an instance; one that does not exist counts as removed.
func (e *Engine) Delete(ctx context.Context, class me.ClassID, inst uint16) error {
	return e.busyRetry(ctx, func() error { return e.deleteOnce(ctx, class, inst) })
}

// MibReset puts the ONU's MIB back to its factory state.
func (e *Engine) MibReset(ctx context.Context) error {
	return e.busyRetry(ctx, func() error { return e.mibresetOnce(ctx) })
}
