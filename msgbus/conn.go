package msgbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// Conn is the client side of the bus: a grpc.ClientConnInterface whose
// unary calls travel as request records to a topic and come back on the
// Conn's own reply topic. It also publishes and subscribes to events.
//
// Generated stubs work unchanged:
//
//	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: brokers})
//	client := adapterv1.NewAdapterServiceClient(conn.To("ponsim_olt"))
//	_, err = client.AdoptDevice(ctx, device)
//
// A Conn is safe for concurrent use. Close it to stop its goroutines.
type Conn struct {
	cfg     Config
	log     *slog.Logger
	cl      *kgo.Client
	reply   string // this Conn's reply topic
	idBase  string // random prefix of transaction ids
	seq     atomic.Uint64
	waiters *waiters
	promise func(*kgo.Record, error) // produced: the promise of every request record
	invoker grpc.UnaryInvoker        // the interceptor chain around invoke
	repair  *repairer
	bodies  *bodyCodec

	ctx     context.Context // canceled by Close; ends the reply loop
	cancel  context.CancelFunc
	closing chan struct{} // closed by Close; ends waiting calls
	once    sync.Once
	wg      sync.WaitGroup // the reply loop and the subscriptions

	subsMu sync.Mutex // guards subs
	subs   map[*Subscription]struct{}

	stats connStats
}

type connStats struct {
	calls, responses, late, failed, badRecords, published, resent atomic.Uint64
}

// ConnStats counts what a Conn has done since Dial.
type ConnStats struct {
	Calls      uint64 // calls whose request was handed to the producer
	Responses  uint64 // responses matched to a waiting call
	Late       uint64 // responses no call waited for any more (late or duplicate): dropped
	Failed     uint64 // calls that ended without a response (deadline, broker down, cancel)
	BadRecords uint64 // records on the reply topic that were not responses
	Published  uint64 // events published
	Resent     uint64 // requests sent again after the broker lost them or their topic
}

// Dial connects to the brokers and creates the Conn's reply topic; ctx
// bounds that setup. It fails if no broker answers.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	id := randomID(8)
	reply := cfg.Name + ".reply." + id

	// The reply topic exists before anything consumes it, so that it gets
	// one partition rather than the broker's auto-creation default.
	admin, err := kgo.NewClient(clientOpts(cfg.Brokers, cfg.Name, cfg.Logger, nil)...)
	if err != nil {
		return nil, fmt.Errorf("msgbus: %w", err)
	}
	err = ensureTopic(ctx, admin, reply, 1)
	admin.Close()
	if err != nil {
		return nil, err
	}

	c := &Conn{
		cfg:     cfg,
		log:     cfg.Logger,
		reply:   reply,
		idBase:  id,
		waiters: newWaiters(),
		closing: make(chan struct{}),
		subs:    make(map[*Subscription]struct{}),
	}
	c.repair = newRepairer(cfg.Logger, func(t string) bool { return t == reply }, c.resend)
	opts := append(clientOpts(cfg.Brokers, cfg.Name, cfg.Logger, c.repair.topicRecreated), consumerOpts()...)
	opts = append(opts,
		kgo.ConsumeTopics(reply),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	bodies, err := newBodyCodec()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		bodies.close()
		return nil, fmt.Errorf("msgbus: %w", err)
	}
	c.cl, c.bodies = cl, bodies
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.invoker = chainClient(cfg.Interceptors, c.invoke)
	c.promise = c.produced
	c.repair.start(cl)
	c.wg.Add(2)
	go c.readReplies()
	go c.expireCalls(expiryInterval(cfg.DefaultTimeout))
	if cfg.StaleReplyTopics > 0 {
		// The first heartbeat before Dial returns: a new topic is never
		// mistaken for a dead one.
		if err := c.produceHeartbeat(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("msgbus: reply topic %s: %w", reply, err)
		}
		c.wg.Add(1)
		go c.runJanitor(cfg.StaleReplyTopics)
	}
	return c, nil
}

// ReplyTopic is the topic this Conn receives responses on.
func (c *Conn) ReplyTopic() string { return c.reply }

// Stats returns the Conn's counters.
func (c *Conn) Stats() ConnStats {
	return ConnStats{
		Calls:      c.stats.calls.Load(),
		Responses:  c.stats.responses.Load(),
		Late:       c.stats.late.Load(),
		Failed:     c.stats.failed.Load(),
		BadRecords: c.stats.badRecords.Load(),
		Published:  c.stats.published.Load(),
		Resent:     c.stats.resent.Load(),
	}
}

// To returns a view of c whose calls go to topic. It shares c's producer,
// reply topic and interceptors, and needs no Close of its own.
func (c *Conn) To(topic string) grpc.ClientConnInterface {
	return &target{c: c, topic: WithTopic(topic)}
}

type target struct {
	c     *Conn
	topic TopicOption
}

func (t *target) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return t.c.Invoke(ctx, method, args, reply, append([]grpc.CallOption{t.topic}, opts...)...)
}

func (t *target) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return t.c.NewStream(ctx, desc, method, opts...)
}

// Invoke performs a unary call: it implements grpc.ClientConnInterface.
// The call ends with the handler's response or status, or when ctx ends
// (Config.DefaultTimeout if ctx has no deadline). A request the broker did
// not take by then fails with Unavailable; one that a server did not
// answer in time fails with DeadlineExceeded.
func (c *Conn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.invoker(ctx, method, args, reply, nil, opts...)
}

// NewStream fails: msgbus carries unary calls only.
func (c *Conn) NewStream(_ context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Errorf(codes.Unimplemented,
		"msgbus: %s is a streaming method; msgbus carries unary calls only, call it over gRPC", method)
}

// invoke is the end of the interceptor chain: one request record out, one
// response record back.
func (c *Conn) invoke(ctx context.Context, method string, args, reply any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
	req, ok := args.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "msgbus: request of %s is a %T, not a proto.Message", method, args)
	}
	out, ok := reply.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "msgbus: response of %s is a %T, not a proto.Message", method, reply)
	}
	topic, key, keySet := c.cfg.Topic, "", false
	for _, o := range opts {
		switch o := o.(type) {
		case TopicOption:
			topic = o.Topic
		case KeyOption:
			key, keySet = o.Key, true
		}
	}
	if topic == "" {
		return status.Errorf(codes.InvalidArgument, "msgbus: no topic for %s: set Config.Topic or use Conn.To", method)
	}
	if !keySet && c.cfg.Key != nil {
		key = c.cfg.Key(req)
	}
	select {
	case <-c.closing:
		return status.Error(codes.Canceled, "msgbus: the connection is closing")
	default:
	}
	if err := ctx.Err(); err != nil { // as gRPC: nothing is sent
		return status.FromContextError(err).Err()
	}
	now := time.Now()
	deadline, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		deadline = now.Add(c.cfg.DefaultTimeout)
	}

	seq := c.seq.Add(1)
	value, err := c.bodies.encode(&wireEnvelope{
		idBase:     c.idBase,
		idSeq:      seq,
		kind:       msgbusv1.Kind_KIND_REQUEST,
		method:     method,
		replyTo:    c.reply, // and from, left out: the same (envelope.proto)
		deadlineMs: deadline.UnixMilli(),
		// No timestamp: the record's says when (envelope.proto).
	}, req)
	if err != nil {
		return status.Errorf(codes.Internal, "msgbus: marshal request of %s: %v", method, err)
	}
	p := &pending{Context: context.Background(), seq: seq, ch: make(chan result, 1), method: method, topic: topic, value: value, ts: now}
	if !hasDeadline {
		p.expires = deadline
	}
	if key != "" {
		p.key = []byte(key)
	}
	p.first = kgo.Record{Topic: p.topic, Key: p.key, Value: p.value, Timestamp: p.ts}
	// Register before producing: the response may beat the produce ack.
	if !c.waiters.register(p) {
		return errClosing
	}
	c.stats.calls.Add(1)
	c.produce(p, &p.first)

	r, err := c.wait(ctx, p)
	if err != nil {
		return err
	}
	if err := statusFromProto(r.status); err != nil {
		return err
	}
	if err := c.bodies.unmarshalBody(r.body, r.enc, out); err != nil {
		return status.Errorf(codes.Internal, "msgbus: response of %s does not decode: %v", method, err)
	}
	return nil
}

// errClosing ends the calls of a Conn that is closing.
var errClosing = status.Error(codes.Canceled, "msgbus: the connection is closing")

// wait waits for p's response until ctx ends, Close (waiters.closeAll),
// or, when ctx has no deadline, Config.DefaultTimeout (expireCalls). No
// timer and no context of its own per call: either would cost a call an
// allocation more and the runtime's timer work, about 5% of a fast call's
// CPU.
func (c *Conn) wait(ctx context.Context, p *pending) (result, error) {
	var r result
	if done := ctx.Done(); done == nil {
		r = <-p.ch
	} else {
		select {
		case r = <-p.ch:
		case <-done:
			c.waiters.cancel(p.seq)
			r.err = c.ctxError(ctx.Err(), p.topic, p.method, p.delivered.Load())
		}
	}
	if r.err != nil {
		c.stats.failed.Add(1)
		return result{}, r.err
	}
	c.stats.responses.Add(1)
	return r, nil
}

// expireCalls ends, every interval, the calls whose context has no
// deadline and whose Config.DefaultTimeout has passed: one sweep for all
// of them instead of a timer each. It runs until Close.
func (c *Conn) expireCalls(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			for _, p := range c.waiters.takeExpired(now) {
				p.ch <- result{err: c.ctxError(context.DeadlineExceeded, p.topic, p.method, p.delivered.Load())}
			}
		}
	}
}

// expiryInterval is how often expireCalls sweeps: a twentieth of the
// timeout, between 1 ms and 100 ms.
func expiryInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/20, time.Millisecond), 100*time.Millisecond)
}

// produce sends p's request record. Its context (the call, see pending)
// never ends: kgo fails a whole produce request, with every call's record
// in it, when the context of its first record ends, and watching contexts
// costs a timer per call. A request the broker takes after its call gave up is answered
// DeadlineExceeded without running (the deadline travels in the
// envelope); recordDeliveryTimeout bounds how long the producer keeps it,
// and TryProduce fails at once rather than block when its buffer is full
// (the broker has been away for a while).
//
// rec is the request record: p.first the first time, a new one for a
// resend (kgo owns a record until its promise has run).
func (c *Conn) produce(p *pending, rec *kgo.Record) {
	rec.Context = p
	c.cl.TryProduce(context.Background(), rec, c.promise)
}

// produced is the promise of every request record; the record's context
// is its call.
func (c *Conn) produced(rec *kgo.Record, err error) {
	p, ok := rec.Context.(*pending)
	if !ok {
		return // not a request record (none is produced with this promise)
	}
	if err == nil {
		p.delivered.Store(true)
		return
	}
	if recreated(err) {
		// The broker came back without the topic: the repairer purges it
		// and sends the waiting calls again; this one tries again soon in
		// case that repair has already run.
		c.repair.failed(p.topic, err)
		time.AfterFunc(resendDelay, func() { c.resendOne(p.seq) })
		return
	}
	c.waiters.trigger(p.seq, result{err: produceError(p.topic, err)})
}

// resendDelay spaces the tries of a request the broker failed because its
// topic came back under a new id.
const resendDelay = 200 * time.Millisecond

// maxResends bounds how often one call's request is sent again.
const maxResends = 20

// resend sends again the requests of the calls still waiting that went to
// topic, or of every waiting call when topic is the reply topic (their
// responses may have been lost with it). The transaction id makes it
// safe: a server runs a request at most once and answers a duplicate with
// the response it sent (see recentIDs).
func (c *Conn) resend(topic string) {
	if topic == c.reply {
		topic = ""
	}
	c.waiters.each(topic, func(p *pending) { c.resendOne(p.seq) })
}

func (c *Conn) resendOne(seq uint64) {
	select {
	case <-c.closing:
		return
	default:
	}
	p := c.waiters.get(seq)
	if p == nil || p.resends.Add(1) > maxResends {
		return
	}
	c.stats.resent.Add(1)
	c.produce(p, &kgo.Record{Topic: p.topic, Key: p.key, Value: p.value, Timestamp: p.ts})
}

// recordCtx is the context event records are produced with: the batch's
// deadline without its cancelation, released once every record is
// delivered or failed. kgo fails a whole produce request, with every
// record in it, when the context of its first record ends; a caller's
// context may end as soon as it stops waiting.
func recordCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	d, _ := ctx.Deadline()
	return context.WithDeadline(context.WithoutCancel(ctx), d)
}

// ctxError is the status of a call whose context ended first: Unavailable
// if the broker never took the request (it is down or unreachable),
// DeadlineExceeded if it did but no response came in time.
func (c *Conn) ctxError(ctxErr error, topic, method string, delivered bool) error {
	if errors.Is(ctxErr, context.Canceled) {
		return status.FromContextError(ctxErr).Err()
	}
	if !delivered {
		return status.Errorf(codes.Unavailable, "msgbus: %s: the broker did not take the request to %s before the deadline", method, topic)
	}
	return status.Errorf(codes.DeadlineExceeded, "msgbus: %s: no response from %s before the deadline", method, topic)
}

// nextID returns a new transaction id, "<idBase>-<sequence in base 36>",
// in one allocation.
func (c *Conn) nextID() string { return c.nextIDOf(c.seq.Add(1)) }

// nextIDOf is the transaction id of sequence number seq.
func (c *Conn) nextIDOf(seq uint64) string {
	var b [64]byte
	id := append(append(b[:0], c.idBase...), '-')
	return string(strconv.AppendUint(id, seq, 36))
}

// readReplies consumes the reply topic and hands each response to its
// waiting call. It runs until Close.
func (c *Conn) readReplies() {
	defer c.wg.Done()
	limit := newLogLimiter(30 * time.Second)
	for {
		fs := c.cl.PollFetches(c.ctx)
		if c.ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if recreated(err) {
				c.repair.topicRecreated(t)
			} else if limit.allow(err.Error()) {
				c.log.Warn("msgbus: fetching responses", "topic", t, "partition", p, "err", err)
			}
		})
		fs.EachRecord(c.handleReply)
	}
}

// handleReply hands a response to its call. It reads the envelope in place
// (decodeView): the call needs only the status and the body.
func (c *Conn) handleReply(r *kgo.Record) {
	var v envView
	err := decodeView(r.Value, &v)
	if err == nil && v.isHeartbeat() {
		return
	}
	if err == nil && v.kind != msgbusv1.Kind_KIND_RESPONSE {
		err = fmt.Errorf("a %s record on a reply topic", v.kind)
	}
	if err != nil {
		c.stats.badRecords.Add(1)
		c.log.Warn("msgbus: dropped a record that is not a response",
			"topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	seq, ours := c.seqOf(v.id())
	if !ours || !c.waiters.trigger(seq, result{status: v.status, body: v.body, enc: v.bodyEncoding}) {
		c.stats.late.Add(1)
		c.log.Debug("msgbus: dropped a late response", "id", string(v.id()))
	}
}

// seqOf returns the sequence number of a transaction id this Conn made,
// "<idBase>-<sequence in base 36>"; false for another's.
func (c *Conn) seqOf(id []byte) (uint64, bool) {
	n := len(c.idBase)
	if len(id) < n+2 || string(id[:n]) != c.idBase || id[n] != '-' {
		return 0, false
	}
	return parseSeq(id[n+1:])
}

// parseSeq parses a sequence number as nextID writes it: base 36, lower
// case, at most 12 digits (36^12 calls are out of reach).
func parseSeq(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 12 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var x uint64
	for _, ch := range b {
		switch {
		case '0' <= ch && ch <= '9':
			x = x*36 + uint64(ch-'0')
		case 'a' <= ch && ch <= 'z':
			x = x*36 + uint64(ch-'a'+10)
		default:
			return 0, false
		}
	}
	return x, true
}

// Close ends waiting calls with Canceled, closes the subscriptions, deletes
// the reply topic (best effort, for at most a second) and stops every
// goroutine of the Conn.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.closing)
		c.waiters.closeAll(result{err: errClosing})
		c.subsMu.Lock()
		subs := make([]*Subscription, 0, len(c.subs))
		for s := range c.subs {
			subs = append(subs, s)
		}
		c.subsMu.Unlock()
		for _, s := range subs {
			s.Close()
		}
		c.cancel()
		// Forget the reply topic before deleting it: a metadata refresh of
		// a topic still consumed would have the broker create it again.
		c.cl.PurgeTopicsFromClient(c.reply)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := kadm.NewClient(c.cl).DeleteTopic(ctx, c.reply); err != nil {
			c.log.Debug("msgbus: delete reply topic", "topic", c.reply, "err", err)
		}
		cancel()
		c.repair.close()
		c.cl.Close()
		c.wg.Wait()
		c.bodies.close()
	})
	return nil
}

// chainClient wraps final in the interceptors, the first outermost.
func chainClient(ics []grpc.UnaryClientInterceptor, final grpc.UnaryInvoker) grpc.UnaryInvoker {
	for i := len(ics) - 1; i >= 0; i-- {
		ic, next := ics[i], final
		final = func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, opts ...grpc.CallOption) error {
			return ic(ctx, method, req, reply, cc, next, opts...)
		}
	}
	return final
}
