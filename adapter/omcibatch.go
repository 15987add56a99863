package adapter

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// MsgOMCIBatch carries OMCI frames of many ONUs of one OLT (EncodeOMCIBatch
// in a wrapperspb.BytesValue), both ways between the OLT's adapter and the
// ONUs' adapter; to_device_id and proxy_device_id name the OLT. An
// OMCIBatcher sends them.
const MsgOMCIBatch = "omci_batch"

// OMCIFrame is one OMCI frame to or from the ONU whose device is Device.
type OMCIFrame struct {
	Device string
	Frame  []byte
}

// EncodeOMCIBatch encodes frames in the protobuf wire format of
//
//	message OmciBatch { repeated OmciFrame frames = 1; }
//	message OmciFrame { string device_id = 1; bytes frame = 2; }
func EncodeOMCIBatch(frames []OMCIFrame) []byte {
	n := 0
	for _, f := range frames {
		n += 2*protowire.SizeTag(1) + protowire.SizeBytes(frameSize(f)) + 4
	}
	b := make([]byte, 0, n)
	for _, f := range frames {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(frameSize(f)))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, f.Device)
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, f.Frame)
	}
	return b
}

func frameSize(f OMCIFrame) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(len(f.Device)) + protowire.SizeTag(2) + protowire.SizeBytes(len(f.Frame))
}

var errBatch = errors.New("omci batch: malformed")

// DecodeOMCIBatch decodes what EncodeOMCIBatch made; unknown fields are
// skipped. The frames share b's memory.
func DecodeOMCIBatch(b []byte) ([]OMCIFrame, error) {
	var out []OMCIFrame
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errBatch
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, errBatch
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, errBatch
		}
		b = b[n:]
		f, err := decodeOMCIFrame(v)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func decodeOMCIFrame(b []byte) (OMCIFrame, error) {
	var f OMCIFrame
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return f, errBatch
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return f, errBatch
			}
			b = b[n:]
			if num == 1 {
				f.Device = string(v)
			} else {
				f.Frame = v
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return f, errBatch
		}
		b = b[n:]
	}
	if f.Device == "" {
		return f, fmt.Errorf("%w: a frame names no device", errBatch)
	}
	return f, nil
}

// MaxOMCIBatch bounds the frames of one MsgOMCIBatch message.
const MaxOMCIBatch = 1024

// OMCIBatcher sends OMCI frames to another adapter in MsgOMCIBatch
// messages, one stream per (topic, OLT): a frame queued while that
// stream's previous message is in flight waits for it and goes in the next
// one with every other frame queued meanwhile. A busy OLT thus costs a
// message bus call per round of all its ONUs' frames rather than one per
// frame, and each ONU's frames keep their order. The messages are sent
// from the adapter's work queue (key "<olt>/omci-batch/<topic>"). A
// message that fails is logged at debug level and its frames are lost:
// OMCI's engine sends a request again when its response does not come.
type OMCIBatcher struct {
	a *Adapter

	mu      sync.Mutex // guards streams and sent
	streams map[omciStreamKey]*omciStream
	sent    OMCIBatchStats
}

// OMCIBatchStats counts a batcher's messages and frames.
type OMCIBatchStats struct {
	Messages, Frames uint64
	// Dropped are frames of messages that failed.
	Dropped uint64
}

type omciStreamKey struct{ topic, olt string }

type omciStream struct {
	frames []OMCIFrame
	busy   bool // a sender job runs
}

// NewOMCIBatcher returns a batcher sending through a.
func NewOMCIBatcher(a *Adapter) *OMCIBatcher {
	return &OMCIBatcher{a: a, streams: make(map[omciStreamKey]*omciStream)}
}

// Send queues frame, to or from the ONU device, for the adapter of topic,
// through the OLT olt. It never blocks.
func (b *OMCIBatcher) Send(topic, olt, device string, frame []byte) {
	k := omciStreamKey{topic, olt}
	b.mu.Lock()
	s := b.streams[k]
	if s == nil {
		s = &omciStream{}
		b.streams[k] = s
	}
	s.frames = append(s.frames, OMCIFrame{Device: device, Frame: frame})
	start := !s.busy
	s.busy = true
	b.mu.Unlock()
	if start {
		b.a.Submit(olt+"/omci-batch/"+topic, func(ctx context.Context) error { return b.run(ctx, k, s) })
	}
}

// Stats returns the counts so far.
func (b *OMCIBatcher) Stats() OMCIBatchStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sent
}

// Forget drops the stream of olt (the OLT is gone).
func (b *OMCIBatcher) Forget(olt string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, s := range b.streams {
		if k.olt == olt && !s.busy {
			delete(b.streams, k)
		}
	}
}

// run sends s's frames until none are left.
func (b *OMCIBatcher) run(ctx context.Context, k omciStreamKey, s *omciStream) error {
	for {
		b.mu.Lock()
		frames := s.frames
		if len(frames) > MaxOMCIBatch {
			frames = frames[:MaxOMCIBatch:MaxOMCIBatch]
			s.frames = s.frames[MaxOMCIBatch:]
		} else {
			s.frames = nil
		}
		if len(frames) == 0 {
			s.busy = false
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		b.mu.Lock()
		b.sent.Messages++
		b.sent.Frames += uint64(len(frames))
		b.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, b.a.cfg.CallTimeout)
		err := b.a.sendInterAdapter(cctx, k.olt+"/omci-batch", k.topic, MsgOMCIBatch, k.olt, k.olt, wrapperspb.Bytes(EncodeOMCIBatch(frames)))
		cancel()
		if err != nil {
			b.mu.Lock()
			b.sent.Dropped += uint64(len(frames))
			b.mu.Unlock()
			b.a.log.Debug("omci batch lost", "to", k.topic, "olt", k.olt, "frames", len(frames), "err", err)
			if ctx.Err() != nil {
				b.mu.Lock()
				s.frames, s.busy = nil, false
				b.mu.Unlock()
				return nil
			}
		}
	}
}
