package msgbus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// PublishOption configures one Publish; WithKey is one.
type PublishOption interface{ applyPublish(*publishOptions) }

type publishOptions struct {
	key    string
	keySet bool
}

// Publish sends msg to topic as an event, keyed by Config.Key unless
// WithKey says otherwise, and returns once the broker has it. It fails with
// Unavailable if the broker does not take it before ctx's deadline
// (Config.DefaultTimeout if ctx has none), and with Canceled if ctx is
// canceled first (the event may still be delivered). To publish many
// events, PublishBatch costs far less per event.
func (c *Conn) Publish(ctx context.Context, topic string, msg proto.Message, opts ...PublishOption) error {
	var po publishOptions
	for _, o := range opts {
		o.applyPublish(&po)
	}
	if !po.keySet && c.cfg.Key != nil {
		po.key = c.cfg.Key(msg)
	}
	return c.PublishBatch(ctx, topic, []Outgoing{{Message: msg, Key: po.key}})
}

// Outgoing is one event of a PublishBatch: a message and the key of its
// record ("" for none). Publish would key it by Config.Key.
type Outgoing struct {
	Message proto.Message
	Key     string
}

// PublishBatch sends msgs to topic as events in one go: the producer packs
// them into as few produce requests as it can, and the events with one key
// reach the broker, and so the subscribers, in the order of msgs. It
// returns once the broker has every one of them. It fails as Publish does
// (ctx bounds the whole batch) when any event fails; the others may still
// have been delivered, and ConnStats.Published counts each that was. msgs
// may be reused once it returns.
func (c *Conn) PublishBatch(ctx context.Context, topic string, msgs []Outgoing) error {
	if err := checkTopicName("topic", topic); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if len(msgs) == 0 {
		return nil
	}
	recs, err := c.eventRecords(topic, msgs)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.DefaultTimeout)
		defer cancel()
	}
	b := &eventBatch{c: c, topic: topic, done: make(chan struct{})}
	b.left.Store(int64(len(recs)))
	// One context for every record: the batch's deadline, and not its
	// cancelation, as for calls (see recordCtx).
	var pctx context.Context
	pctx, b.release = recordCtx(ctx)
	for i := range recs {
		c.cl.Produce(pctx, &recs[i], b.promise)
	}
	select {
	case <-b.done:
		return b.err(len(recs))
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return status.FromContextError(ctx.Err()).Err()
		}
		if len(recs) == 1 {
			return status.Errorf(codes.Unavailable, "msgbus: the broker did not take the event for %s before the deadline", topic)
		}
		return status.Errorf(codes.Unavailable, "msgbus: the broker did not take %d of %d events for %s before the deadline",
			b.left.Load(), len(recs), topic)
	}
}

// eventRecords encodes msgs as event records for topic. The record values
// and keys share one buffer, and every record has the same timestamp.
func (c *Conn) eventRecords(topic string, msgs []Outgoing) ([]kgo.Record, error) {
	recs := make([]kgo.Record, len(msgs))
	env := &msgbusv1.Envelope{
		Kind:            msgbusv1.Kind_KIND_EVENT,
		From:            c.reply,
		TimestampUnixMs: time.Now().UnixMilli(),
	}
	var (
		body, buf []byte // body is scratch: the envelope copies it
		err       error
	)
	for i, m := range msgs {
		if m.Message == nil {
			return nil, status.Errorf(codes.InvalidArgument, "msgbus: event %d of %d for %s is nil", i+1, len(msgs), topic)
		}
		body, err = proto.MarshalOptions{}.MarshalAppend(body[:0], m.Message)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "msgbus: marshal event: %v", err)
		}
		env.Id = c.nextID()
		env.Method = string(m.Message.ProtoReflect().Descriptor().FullName())
		env.Key = m.Key
		c.bodies.set(env, body)
		start := len(buf)
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf, env)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "msgbus: marshal event envelope: %v", err)
		}
		recs[i].Topic = topic
		// Capped, so that appending to buf never writes into a record.
		recs[i].Value = buf[start:len(buf):len(buf)]
		if m.Key != "" {
			start = len(buf)
			buf = append(buf, m.Key...)
			recs[i].Key = buf[start:len(buf):len(buf)]
		}
	}
	return recs, nil
}

// eventBatch follows the records of one PublishBatch until the broker has
// taken or failed every one.
type eventBatch struct {
	c       *Conn
	topic   string
	release context.CancelFunc // of the records' context
	left    atomic.Int64       // records not yet taken or failed
	done    chan struct{}      // closed when left reaches 0

	mu     sync.Mutex // guards failed, first
	failed int
	first  error
}

// promise is every record's kgo promise.
func (b *eventBatch) promise(_ *kgo.Record, err error) {
	if err != nil {
		b.c.repair.failed(b.topic, err)
		b.mu.Lock()
		if b.failed++; b.first == nil {
			b.first = err
		}
		b.mu.Unlock()
	} else {
		b.c.stats.published.Add(1)
	}
	if b.left.Add(-1) == 0 {
		b.release()
		close(b.done)
	}
}

// err is the batch's outcome once done is closed.
func (b *eventBatch) err(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == nil {
		return nil
	}
	err := produceError(b.topic, b.first)
	if n == 1 {
		return err
	}
	return status.Errorf(status.Code(err), "msgbus: %d of %d events to %s not delivered: %v", b.failed, n, b.topic, b.first)
}

// Event is one event a Subscription received.
type Event struct {
	ID        string
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	From      string    // the publisher's topic
	Time      time.Time // when it was published
	// Message is the event, of the Go type registered for its proto name.
	Message proto.Message
}

// EventHandler handles the events of a Subscription, one at a time, in
// order per partition (so per key). Its context ends when the Subscription
// closes.
type EventHandler func(ctx context.Context, ev *Event)

// Subscription delivers the events of one topic to a handler until Close.
type Subscription struct {
	conn   *Conn
	cl     *kgo.Client
	repair *repairer
	group  string
	h      EventHandler

	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{} // closed when the poll loop has returned
}

// Subscribe calls h for every event published on topic. With a group, the
// subscribers that share it share the topic's partitions, and a new group
// starts at the oldest event the broker keeps; without one, this
// subscriber sees every event published after Subscribe returns (on the
// partitions the topic had then). ctx bounds the setup. Records that are
// not events, or whose message type is not linked into the program, are
// logged and skipped.
func (c *Conn) Subscribe(ctx context.Context, topic, group string, h EventHandler) (*Subscription, error) {
	if err := checkTopicName("topic", topic); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("msgbus: Subscribe with a nil handler")
	}
	select {
	case <-c.closing:
		return nil, errors.New("msgbus: Subscribe on a closed Conn")
	default:
	}
	if err := ensureTopic(ctx, c.cl, topic, 0); err != nil {
		return nil, err
	}
	repair := newRepairer(c.log, func(t string) bool { return t == topic }, nil)
	opts := append(clientOpts(c.cfg.Brokers, c.cfg.Name, c.log, repair.topicRecreated), consumerOpts()...)
	opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if group != "" {
		opts = append(opts,
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topic),
			kgo.AutoCommitMarks(),
			kgo.BlockRebalanceOnPoll(),
			kgo.HeartbeatInterval(heartbeat),
			kgo.SessionTimeout(sessionLimit),
		)
	} else {
		ends, err := kadm.NewClient(c.cl).ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("msgbus: subscribe to %s: %w", topic, err)
		}
		from := make(map[int32]kgo.Offset)
		ends.Each(func(o kadm.ListedOffset) { from[o.Partition] = kgo.NewOffset().At(o.Offset) })
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("msgbus: %w", err)
	}
	repair.start(cl)
	s := &Subscription{conn: c, cl: cl, repair: repair, group: group, h: h, done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	c.subsMu.Lock()
	c.subs[s] = struct{}{}
	c.subsMu.Unlock()
	go s.poll()
	return s, nil
}

func (s *Subscription) poll() {
	defer close(s.done)
	limit := newLogLimiter(30 * time.Second)
	for {
		fs := s.cl.PollFetches(s.ctx)
		if s.ctx.Err() != nil || fs.IsClientClosed() {
			s.cl.AllowRebalance()
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if recreated(err) {
				s.repair.topicRecreated(t)
			} else if limit.allow(err.Error()) {
				s.conn.log.Warn("msgbus: fetching events", "topic", t, "partition", p, "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if s.ctx.Err() != nil {
				return
			}
			s.deliver(r)
			s.cl.MarkCommitRecords(r)
		})
		s.cl.AllowRebalance()
	}
}

func (s *Subscription) deliver(r *kgo.Record) {
	ev, err := decodeEvent(s.conn.bodies, r)
	if err != nil {
		s.conn.stats.badRecords.Add(1)
		s.conn.log.Warn("msgbus: dropped a record that is not an event",
			"topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.conn.log.Error("msgbus: event handler panicked", "topic", r.Topic, "offset", r.Offset,
				"panic", p, "stack", string(debug.Stack()))
		}
	}()
	s.h(s.ctx, ev)
}

func decodeEvent(bodies *bodyCodec, r *kgo.Record) (*Event, error) {
	env, err := decodeEnvelope(r.Value)
	if err != nil {
		return nil, err
	}
	if env.GetKind() != msgbusv1.Kind_KIND_EVENT {
		return nil, fmt.Errorf("a %s record on an event topic", env.GetKind())
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(env.GetMethod()))
	if err != nil {
		return nil, fmt.Errorf("event type %s: %w", env.GetMethod(), err)
	}
	m := mt.New().Interface()
	if err := bodies.unmarshal(env, m); err != nil {
		return nil, fmt.Errorf("event body of %s does not decode: %w", env.GetMethod(), err)
	}
	return &Event{
		ID:        env.GetId(),
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Key:       string(r.Key),
		From:      env.GetFrom(),
		Time:      time.UnixMilli(env.GetTimestampUnixMs()),
		Message:   m,
	}, nil
}

// Close stops the subscription, commits what its handler finished (with a
// group) and waits for the handler to return.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		s.cancel()
		<-s.done
		if s.group != "" {
			ctx, cancel := context.WithTimeout(context.Background(), commitWait)
			if err := s.cl.CommitMarkedOffsets(ctx); err != nil {
				s.conn.log.Warn("msgbus: commit event offsets", "group", s.group, "err", err)
			}
			cancel()
			ctx, cancel = context.WithTimeout(context.Background(), leaveWait)
			_ = s.cl.LeaveGroupContext(ctx)
			cancel()
		}
		s.repair.close()
		s.cl.Close()
		s.conn.subsMu.Lock()
		delete(s.conn.subs, s)
		s.conn.subsMu.Unlock()
	})
	return nil
}
