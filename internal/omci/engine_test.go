package omci_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	omcilib "github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"

	"github.com/openvolt/openvolt/internal/omci"
	"github.com/openvolt/openvolt/internal/ponsim/omcisim"
)

// peer is ponsim's OMCI simulator behind an engine: what the engine sends
// goes to the ONU, whose answers come back through Receive, possibly
// rewritten by tamper (nil: dropped) first.
type peer struct {
	onu    *omcisim.ONU
	eng    *omci.Engine
	tamper func(req, resp []byte) [][]byte
	mu     sync.Mutex
	alarms []*omcilib.AlarmNotificationMsg
}

func newPeer(t *testing.T, cfg omci.Config) *peer {
	t.Helper()
	o, err := omcisim.New(omcisim.Config{SerialNumber: "PSMO00000001", UNIs: 2}, omcisim.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{onu: o}
	cfg.Send = func(_ context.Context, frame []byte) error {
		out, _ := p.onu.Handle(frame)
		for _, r := range out {
			rs := [][]byte{r}
			if p.tamper != nil {
				rs = p.tamper(frame, r)
			}
			for _, r := range rs {
				p.eng.Receive(r)
			}
		}
		return nil
	}
	cfg.Autonomous = func(_ *omcilib.OMCI, l gopacket.Layer) {
		if a, ok := l.(*omcilib.AlarmNotificationMsg); ok {
			p.mu.Lock()
			p.alarms = append(p.alarms, a)
			p.mu.Unlock()
		}
	}
	p.eng, err = omci.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSyncAgainstSimulator runs a MIB reset, an upload and gets against
// the simulator, and sees the alarm a lock raises dispatched.
func TestSyncAgainstSimulator(t *testing.T) {
	p := newPeer(t, omci.Config{Timeout: time.Second})
	ctx := t.Context()
	if err := p.eng.MibReset(ctx); err != nil {
		t.Fatal(err)
	}
	ents, err := p.eng.MibUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pptps := map[uint16]bool{}
	for _, e := range ents {
		if e.Class == me.PhysicalPathTerminationPointEthernetUniClassID {
			pptps[e.Inst] = true
		}
	}
	if len(pptps) != 2 {
		t.Errorf("upload reported PPTPs %v, want 2", pptps)
	}
	av, err := p.eng.Get(ctx, me.OnuGClassID, 0, 0x8000)
	if err != nil || string(av[me.OnuG_VendorId].([]byte)) != "PSMO" {
		t.Errorf("get ONU-G vendor: %v %v", av, err)
	}
	if err := p.eng.Set(ctx, me.PhysicalPathTerminationPointEthernetUniClassID, omcisim.PPTPID(0),
		me.AttributeValueMap{me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: uint8(1)}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	n := len(p.alarms)
	p.mu.Unlock()
	if n != 1 {
		t.Errorf("%d alarms dispatched after locking a UNI, want 1 (LAN LOS)", n)
	}
	c := p.eng.Counters()
	if c.Sent != uint64(1+1+len(ents)+1+1) || c.Autonomous != 1 || c.Timeouts != 0 {
		t.Errorf("counters %+v", c)
	}
}

// TestBadResponses: a response with an unknown transaction id, for the
// wrong ME class, with a failed result, a truncated one — each counted, the
// step retried or failed, no panic, no hang.
func TestBadResponses(t *testing.T) {
	var mode atomic.Int32
	p := newPeer(t, omci.Config{Timeout: 50 * time.Millisecond, Retries: 1})
	p.tamper = func(req, resp []byte) [][]byte {
		r := append([]byte(nil), resp...)
		switch mode.Load() {
		case 1: // unknown tid, then nothing
			r[0], r[1] = 0x7f, 0xff
			return [][]byte{r}
		case 2: // truncated
			return [][]byte{r[:5]}
		case 3: // wrong class in the response
			r[4], r[5] = 0x01, 0x01 // ONU2-G instead of ONU-G
			return [][]byte{r}
		case 4: // device busy, once
			r[8] = byte(me.DeviceBusy)
			mode.Store(0)
			return [][]byte{r}
		}
		return [][]byte{r}
	}
	ctx := t.Context()
	get := func() error { _, err := p.eng.Get(ctx, me.OnuGClassID, 0, 0x8000); return err }

	mode.Store(1)
	if err := get(); !errors.Is(err, omci.ErrTimeout) {
		t.Errorf("unknown tid: %v, want a timeout", err)
	}
	if c := p.eng.Counters(); c.Unknown != 2 || c.Retries != 1 || c.Timeouts != 2 {
		t.Errorf("unknown tid: counters %+v", c)
	}
	mode.Store(2)
	if err := get(); !errors.Is(err, omci.ErrTimeout) {
		t.Errorf("truncated: %v, want a timeout", err)
	}
	if c := p.eng.Counters(); c.Malformed != 2 {
		t.Errorf("truncated: counters %+v", c)
	}
	mode.Store(3)
	if err := get(); err == nil {
		t.Error("wrong class: no error")
	}
	// Device busy: asked again, then answered.
	mode.Store(4)
	retries := p.eng.Counters().Retries
	if err := get(); err != nil {
		t.Errorf("device busy once: %v, want the retry answered", err)
	}
	if got := p.eng.Counters().Retries; got != retries+1 {
		t.Errorf("device busy: %d retries, want %d", got, retries+1)
	}
	mode.Store(0)
	// A failed result: a get on a class the ONU does not have.
	_, err := p.eng.Get(ctx, me.VirtualEthernetInterfacePointClassID, 1, 0x8000)
	var re *omci.ResultError
	if !errors.As(err, &re) || re.Result == me.Success {
		t.Errorf("get of an absent instance: %v, want a result error", err)
	}
	if err := get(); err != nil {
		t.Errorf("after the bad ones a good get fails: %v", err)
	}
	if c := p.eng.Counters(); c.Failed < 2 || c.LastError == "" {
		t.Errorf("counters %+v", c)
	}
}

// FuzzReceive feeds arbitrary frames to an engine with a request in
// flight: no panic, and the request ends (answered or timed out).
func FuzzReceive(f *testing.F) {
	o, err := omcisim.New(omcisim.Config{SerialNumber: "PSMO00000001"}, omcisim.Hooks{})
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	eng, _ := omci.New(omci.Config{Send: func(_ context.Context, frame []byte) error {
		out, _ := o.Handle(frame)
		seeds = append(seeds, out...)
		return nil
	}, Timeout: time.Millisecond, Retries: -1})
	_, _ = eng.Get(context.Background(), me.OnuGClassID, 0, 0x8000)
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		var e *omci.Engine
		e, _ = omci.New(omci.Config{Send: func(context.Context, []byte) error {
			e.Receive(frame)
			return nil
		}, Timeout: time.Millisecond, Retries: -1, Autonomous: func(*omcilib.OMCI, gopacket.Layer) {}})
		_, _ = e.Get(context.Background(), me.OnuGClassID, 0, 0x8000)
		e.Receive(frame)
	})
}
