package msgbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Defaults of PublisherConfig.
const (
	DefaultPublisherBuffer   = 65536
	DefaultPublisherMaxBatch = 1024
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Topic is where the events go. Required.
	Topic string
	// Buffer bounds the events waiting for the broker; beyond it Publish
	// drops them (and counts them). Default 65536.
	Buffer int
	// MaxBatch bounds the events produced in one go. Default 1024.
	MaxBatch int
	// Logger receives the publisher's logs; nil discards them.
	Logger *slog.Logger
}

// Publisher sends events to a topic in the background, so that the code
// that raises them never waits for the broker: Publish queues (bounded),
// Run drains the queue into a Conn in batches, in order per key. While the
// broker is away Run keeps the batch it holds and tries it again, with
// backoff, until the broker takes it; events queue meanwhile, and those
// beyond the buffer are dropped and counted. Delivery is at least once: a
// batch the broker took in part is sent again whole.
type Publisher struct {
	cfg PublisherConfig
	log *slog.Logger
	q   chan Outgoing

	published, dropped, retries, rejected atomic.Uint64
}

// PublisherStats counts what a Publisher has done.
type PublisherStats struct {
	Queued    int    // events waiting now
	Published uint64 // events the broker took
	Dropped   uint64 // events Publish refused: the buffer was full
	Retries   uint64 // batches tried again after the broker failed them
	Rejected  uint64 // events the broker refused for good (too large, invalid): dropped
}

// NewPublisher checks cfg and returns a Publisher; it queues events at
// once, and sends them once Run runs.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if err := checkTopicName("Topic", cfg.Topic); err != nil {
		return nil, err
	}
	if cfg.Buffer < 0 || cfg.MaxBatch < 0 {
		return nil, fmt.Errorf("msgbus: Buffer %d or MaxBatch %d is negative", cfg.Buffer, cfg.MaxBatch)
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = DefaultPublisherBuffer
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultPublisherMaxBatch
	}
	return &Publisher{cfg: cfg, log: orDiscard(cfg.Logger), q: make(chan Outgoing, cfg.Buffer)}, nil
}

// Publish queues an event; it never blocks. It reports false, and counts
// the event as dropped, when the buffer is full.
func (p *Publisher) Publish(m proto.Message, key string) bool {
	select {
	case p.q <- Outgoing{Message: m, Key: key}:
		return true
	default:
		p.dropped.Add(1)
		return false
	}
}

// Len is the number of events waiting.
func (p *Publisher) Len() int { return len(p.q) }

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{
		Queued:    len(p.q),
		Published: p.published.Load(),
		Dropped:   p.dropped.Load(),
		Retries:   p.retries.Load(),
		Rejected:  p.rejected.Load(),
	}
}

// publishWait bounds one attempt at a batch; drainWait how long Run goes
// on sending once its context has ended.
const (
	publishWait = 5 * time.Second
	drainWait   = 2 * time.Second
)

// Run sends the queued events through conn until ctx ends: it takes what
// is queued, up to MaxBatch, publishes it with one wait for the broker,
// and tries it again until the broker takes it. One batch at a time keeps
// the events of each key in order. When ctx ends, Run sends what is
// queued then, for drainWait at most, so that a process that stops does
// not lose the events it raised last (an alarm raised just before). A
// batch on its way when ctx ends is not cut off: cut off, the broker may
// have taken it anyway, and sending it again would repeat it. What Run
// could not send in that time stays queued (a later Run sends it), but
// for the batch it was sending, counted as dropped.
func (p *Publisher) Run(ctx context.Context, conn *Conn) {
	// The sends end drainWait after ctx, or when Run returns.
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(ctx, func() {
		grace := time.AfterFunc(drainWait, cancel)
		context.AfterFunc(sendCtx, func() { grace.Stop() })
	})()
	batch := make([]Outgoing, 0, p.cfg.MaxBatch)
	limit := newLogLimiter(30 * time.Second)
	for {
		select {
		case <-ctx.Done():
			p.sendQueued(sendCtx, conn, batch, limit)
			return
		case ev := <-p.q:
			batch = append(batch, ev)
		}
		batch = p.fill(batch)
		if !p.sendOrDrop(sendCtx, conn, batch, limit) {
			return
		}
		clear(batch) // let the events go
		batch = batch[:0]
	}
}

// fill adds queued events to batch, up to MaxBatch, without waiting.
func (p *Publisher) fill(batch []Outgoing) []Outgoing {
	for len(batch) < p.cfg.MaxBatch {
		select {
		case ev := <-p.q:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// sendQueued sends batch and the events queued until none is left or
// ctx ends.
func (p *Publisher) sendQueued(ctx context.Context, conn *Conn, batch []Outgoing, limit *logLimiter) {
	for {
		if batch = p.fill(batch); len(batch) == 0 {
			return
		}
		if !p.sendOrDrop(ctx, conn, batch, limit) {
			return
		}
		clear(batch)
		batch = batch[:0]
	}
}

// sendOrDrop is send; a batch it could not send before ctx ended (the
// grace after Run's context) is counted as dropped and logged.
func (p *Publisher) sendOrDrop(ctx context.Context, conn *Conn, batch []Outgoing, limit *logLimiter) bool {
	if p.send(ctx, conn, batch, limit) {
		return true
	}
	p.dropped.Add(uint64(len(batch)))
	p.log.Warn("msgbus: events not delivered before the stop", "topic", p.cfg.Topic, "events", len(batch), "queued", len(p.q))
	return false
}

// send publishes batch until the broker takes it, the broker refuses it
// for good, or ctx ends (false).
func (p *Publisher) send(ctx context.Context, conn *Conn, batch []Outgoing, limit *logLimiter) bool {
	var b backoff
	for {
		pctx, cancel := context.WithTimeout(ctx, publishWait)
		err := conn.PublishBatch(pctx, p.cfg.Topic, batch)
		cancel()
		switch {
		case err == nil:
			p.published.Add(uint64(len(batch)))
			if b.tries > 0 {
				p.log.Info("msgbus: events delivered again", "topic", p.cfg.Topic, "events", len(batch), "tries", b.tries+1)
			}
			return true
		case ctx.Err() != nil:
			return false
		case permanent(err):
			p.rejected.Add(uint64(len(batch)))
			p.log.Warn("msgbus: events refused by the broker, dropped", "topic", p.cfg.Topic, "events", len(batch), "err", err)
			return true
		}
		p.retries.Add(1)
		if limit.allow("retry") {
			p.log.Info("msgbus: the broker did not take events; trying again", "topic", p.cfg.Topic,
				"events", len(batch), "queued", len(p.q), "err", err)
		}
		if !b.wait(ctx) {
			return false
		}
	}
}

// permanent reports whether trying a batch again cannot help.
func permanent(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.ResourceExhausted, codes.Internal:
		return true
	}
	return errors.Is(err, errBadEnvelope)
}

// backoff waits 50 ms, doubling up to a second.
type backoff struct{ tries int }

func (b *backoff) wait(ctx context.Context) bool {
	d := min(50*time.Millisecond<<min(b.tries, 5), time.Second)
	b.tries++
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
