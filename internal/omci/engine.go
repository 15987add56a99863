// Package omci is the OLT side of ITU-T G.988's OMCI for one ONU: an
// engine that numbers requests (transaction ids), keeps one request in
// flight (the baseline message set), matches responses to it, retries a
// request whose response is late and gives up after a bound, and hands
// autonomous messages (alarms, attribute value changes) to a callback.
// Frames are built and decoded with omci-lib-go; its panics on wrongly
// typed attributes are turned into errors.
package omci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// Defaults of Config.
const (
	DefaultTimeout = 3 * time.Second
	DefaultRetries = 2
)

// ErrTimeout is the error of a request that got no response after its
// retries.
var ErrTimeout = errors.New("no response")

// ResultError is a response whose result code is not success.
type ResultError struct {
	Type   omci.MessageType
	Class  me.ClassID
	Inst   uint16
	Result me.Results
}

func (e *ResultError) Error() string {
	return fmt.Sprintf("%v %v/%#x: result %v", e.Type, e.Class, e.Inst, e.Result)
}

// Config configures an Engine.
type Config struct {
	// Send hands a frame to the OLT; required. It may return before the
	// response arrives through Engine.Receive.
	Send func(ctx context.Context, frame []byte) error
	// Autonomous is called with each message the ONU sent on its own
	// (transaction id 0: alarms, attribute value changes), outside any lock.
	Autonomous func(hdr *omci.OMCI, msg gopacket.Layer)
	// Timeout is how long a response may take (default 3s); Retries how
	// often a request is sent again after a timeout (default 2; negative:
	// never).
	Timeout time.Duration
	Retries int
	Log     *slog.Logger
}

// Counters are an engine's counts.
type Counters struct {
	Sent, Received, Timeouts, Retries, Autonomous uint64
	// Unknown are responses matching no request in flight (a late one, an
	// unknown transaction id); Malformed frames that do not decode;
	// Failed requests answered with an error result.
	Unknown, Malformed, Failed uint64
	LastError                  string
}

// Engine runs one ONU's OMCI requests.
type Engine struct {
	cfg Config
	sem chan struct{} // one request in flight

	mu      sync.Mutex // guards the fields below
	tid     uint16
	pending *pending
	count   Counters
	logged  map[string]bool
}

type pending struct {
	tid  uint16
	typ  omci.MessageType
	resp chan gopacket.Packet
}

// New returns an engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Send == nil {
		return nil, errors.New("omci: Config.Send is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, sem: make(chan struct{}, 1), logged: make(map[string]bool)}, nil
}

// Counters returns a snapshot of the counts.
func (e *Engine) Counters() Counters {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count
}

// logOnce logs what at warning level the first time, at debug after.
func (e *Engine) logOnceLocked(what string, args ...any) {
	if e.logged[what] {
		e.cfg.Log.Debug("omci: "+what, args...)
		return
	}
	e.logged[what] = true
	e.cfg.Log.Warn("omci: "+what+" (further ones are only counted)", args...)
}

func (e *Engine) nextTIDLocked() uint16 {
	e.tid++
	if e.tid == 0 || e.tid >= 0x8000 { // 0 is autonomous; the high bit marks high priority
		e.tid = 1
	}
	return e.tid
}

// Do sends the request build makes for a fresh transaction id and waits
// for its response: retried after a timeout, ErrTimeout after the retries.
// A response of the wrong type counts as none.
func (e *Engine) Do(ctx context.Context, typ omci.MessageType, build func(tid uint16) ([]byte, error)) (gopacket.Layer, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.sem }()

	e.mu.Lock()
	tid := e.nextTIDLocked()
	p := &pending{tid: tid, typ: typ, resp: make(chan gopacket.Packet, 1)}
	e.pending = p
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.pending = nil
		e.mu.Unlock()
	}()
	frame, err := safeBuild(func() ([]byte, error) { return build(tid) })
	if err != nil {
		return nil, e.fail(fmt.Errorf("building %v: %w", typ, err))
	}
	for try := 0; ; try++ {
		if try > 0 {
			e.mu.Lock()
			e.count.Retries++
			e.mu.Unlock()
		}
		e.mu.Lock()
		e.count.Sent++
		e.mu.Unlock()
		if err := e.cfg.Send(ctx, frame); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			e.cfg.Log.Debug("omci: send failed", "type", typ, "err", err)
			// A send that failed is as good as a lost frame: retried.
		}
		t := time.NewTimer(e.cfg.Timeout)
		select {
		case pkt := <-p.resp:
			t.Stop()
			return pkt.Layers()[1], nil
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		e.mu.Lock()
		e.count.Timeouts++
		e.mu.Unlock()
		if try >= e.cfg.Retries {
			return nil, e.fail(fmt.Errorf("%v: %w after %d tries of %s", typ, ErrTimeout, try+1, e.cfg.Timeout))
		}
	}
}

func (e *Engine) fail(err error) error {
	e.mu.Lock()
	e.count.LastError = err.Error()
	e.mu.Unlock()
	return err
}

// Receive takes one frame from the ONU: the response of the request in
// flight, or an autonomous message. Anything else is counted and logged
// once. It never blocks and never panics.
func (e *Engine) Receive(frame []byte) {
	pkt, hdr, err := decode(frame)
	e.mu.Lock()
	e.count.Received++
	if err != nil {
		e.count.Malformed++
		e.logOnceLocked("malformed frame", "err", err, "bytes", len(frame))
		e.mu.Unlock()
		return
	}
	if hdr.TransactionID == 0 || autonomous(hdr.MessageType) {
		e.count.Autonomous++
		e.mu.Unlock()
		if e.cfg.Autonomous != nil {
			e.cfg.Autonomous(hdr, pkt.Layers()[1])
		}
		return
	}
	p := e.pending
	if p == nil || p.tid != hdr.TransactionID {
		e.count.Unknown++
		e.logOnceLocked("response to no request in flight", "tid", hdr.TransactionID, "type", hdr.MessageType)
		e.mu.Unlock()
		return
	}
	if hdr.MessageType != responseOf(p.typ) {
		e.count.Unknown++
		e.logOnceLocked("response of the wrong type", "tid", hdr.TransactionID, "type", hdr.MessageType, "want", responseOf(p.typ))
		e.mu.Unlock()
		return
	}
	e.pending = nil // a duplicate is unknown from now on
	e.mu.Unlock()
	p.resp <- pkt
}

// decode decodes an OMCI frame, guarding omci-lib-go's panics.
func decode(frame []byte) (pkt gopacket.Packet, hdr *omci.OMCI, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkt, hdr, err = nil, nil, fmt.Errorf("decoder panicked: %v", r)
		}
	}()
	pkt = gopacket.NewPacket(frame, omci.LayerTypeOMCI, gopacket.NoCopy)
	if el := pkt.ErrorLayer(); el != nil {
		return nil, nil, el.Error()
	}
	hdr, ok := pkt.Layer(omci.LayerTypeOMCI).(*omci.OMCI)
	if !ok || len(pkt.Layers()) < 2 {
		return nil, nil, errors.New("no OMCI message in the frame")
	}
	return pkt, hdr, nil
}

func safeBuild(f func() ([]byte, error)) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("omci-lib-go panicked: %v", r)
		}
	}()
	return f()
}

func autonomous(t omci.MessageType) bool {
	switch t {
	case omci.AlarmNotificationType, omci.AttributeValueChangeType, omci.TestResultType:
		return true
	}
	return false
}

// responseOf is the response type of a request type (G.988: AR bit off,
// AK bit on).
func responseOf(t omci.MessageType) omci.MessageType {
	return omci.MessageType((byte(t) &^ 0x40) | 0x20)
}
