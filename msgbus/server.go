package msgbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
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
	"github.com/openvolt/openvolt/internal/keyq"
)

// Server serves gRPC services registered on it to callers on the bus: a
// grpc.ServiceRegistrar that consumes requests from one topic, in a
// consumer group shared with its replicas, and produces each response to
// the caller's reply topic.
//
//	srv, err := msgbus.NewServer(msgbus.ServerConfig{Brokers: brokers, Topic: "ponsim_olt"})
//	adapterv1.RegisterAdapterServiceServer(srv, handler)
//	err = srv.Start(ctx)
//	defer srv.Close()
//
// Calls with one key run one at a time in the order they arrived; calls
// with different keys run in parallel, at most MaxConcurrency at once. A
// call whose deadline passed before it could start is answered
// DeadlineExceeded and not run.
type Server struct {
	cfg         ServerConfig
	log         *slog.Logger
	interceptor grpc.UnaryServerInterceptor // the chain of cfg.Interceptors; nil if none

	mu       sync.Mutex // guards methods (until Start), started and closed
	methods  map[string]*method
	started  bool
	closed   bool
	stopOnce sync.Once

	// Set by Start.
	cl     *kgo.Client
	sched  *keyq.Queue // runs the calls: serial per key, bounded in parallel
	acks   *ackWindow
	recent *recentIDs
	repair *repairer
	bodies *bodyCodec
	ctx    context.Context // canceled by Close: ends the poll loop and the handlers
	cancel context.CancelFunc
	wg     sync.WaitGroup // the poll loop

	replies replyBatch // the responses of calls that ran, until the executor idles
	// replyPromise is replyProduced, the promise of every response record.
	replyPromise func(*kgo.Record, error)
	role         pollRole // which goroutine polls (inline.go)
	replyLog     *logLimiter
	stats        serverStats
	ended        chan struct{} // closed: the Done of every released callCtx
}

type method struct {
	impl    any
	handler grpc.MethodHandler
	stream  context.Context // carries the grpc.ServerTransportStream grpc.Method(ctx) finds
	cost    methodCost      // whether its calls may run inline (inline.go)
}

// job is one request on its way through the executor: a keyq.Item. The
// request's envelope, the handler's context and the response are parts of
// it, not allocations of their own.
type job struct {
	s       *Server
	rec     *kgo.Record
	key     string
	env     msgbusv1.Envelope
	m       *method
	ack     ackRef
	badBody error // set by decode when the body does not decode
	ctx     callCtx
	out     outReply
	inline  bool // queued to run on the poll loop (inline.go)
	lean    bool // the request left out from (envelope.proto): so may the response its method
}

func (j *job) Run()  { j.s.run(j) }
func (j *job) Drop() { j.s.acks.abandon(j.ack) }

// decode is the handler's request decoder.
func (j *job) decode(v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "msgbus: request type %T is not a proto.Message", v)
	}
	if err := j.s.bodies.unmarshal(&j.env, m); err != nil {
		j.badBody = err
		return status.Errorf(codes.InvalidArgument, "msgbus: the request body of %s does not decode: %v", j.env.GetMethod(), err)
	}
	return nil
}

type serverStats struct {
	requests, handled, expired, duplicates, badRecords, replyErrors, inlined, handedOver atomic.Uint64
}

// ServerStats counts what a Server has done since Start.
type ServerStats struct {
	Requests    uint64 // request records consumed
	Handled     uint64 // calls a handler ran
	Expired     uint64 // calls answered DeadlineExceeded without running
	Duplicates  uint64 // requests seen before (a producer retry), dropped
	BadRecords  uint64 // records that were not requests, named no known method, or did not decode
	ReplyErrors uint64 // responses the broker did not take
	Inlined     uint64 // calls run on the poll loop (inline.go)
	HandedOver  uint64 // times the poll loop's inline calls took long and a new goroutine took polling over
}

// pendingPerSlot×MaxConcurrency calls may wait or run before the poll
// loop blocks, so that one hot key cannot queue without bound.
const pendingPerSlot = 16

// How many transaction ids of callers other than msgbus Conns a server
// remembers to drop duplicates (a Conn's are remembered by sequence
// number: dedup.go), and how many of the last responses it keeps to answer
// them again.
const (
	recentIDsSize = 1 << 16
	keptResponses = 4096
)

// Responses the broker failed because the caller's reply topic came back
// under a new id are sent again, this many times at most, this far apart.
const (
	replyTries      = 10
	replyRetryDelay = 200 * time.Millisecond
)

// Bounds on the steps of a rebalance and of Close.
const (
	revokeWait   = 30 * time.Second // for running calls of revoked partitions
	commitWait   = 5 * time.Second
	flushWait    = 5 * time.Second
	leaveWait    = 5 * time.Second
	heartbeat    = time.Second
	sessionLimit = 10 * time.Second
)

// maxInstanceID bounds ServerConfig.InstanceID (Kafka's limit is 249
// bytes, as for topics).
const maxInstanceID = 249

// NewServer returns a Server; register services on it, then Start it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	ended := make(chan struct{})
	close(ended)
	return &Server{
		cfg:         cfg,
		log:         cfg.Logger,
		interceptor: chainServer(cfg.Interceptors),
		methods:     make(map[string]*method),
		replyLog:    newLogLimiter(30 * time.Second),
		ended:       ended,
	}, nil
}

// RegisterService registers a service and its implementation, like
// grpc.Server.RegisterService; the generated RegisterXServer functions call
// it. Streaming methods are not served (msgbus is unary only). It panics if
// called after Start, if impl does not implement the service, or if the
// service is registered twice, as grpc.Server does.
func (s *Server) RegisterService(sd *grpc.ServiceDesc, impl any) {
	if impl != nil {
		ht := reflect.TypeOf(sd.HandlerType).Elem()
		if !reflect.TypeOf(impl).Implements(ht) {
			panic(fmt.Sprintf("msgbus: RegisterService: %T does not implement %v", impl, ht))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("msgbus: RegisterService after Start")
	}
	for _, md := range sd.Methods {
		name := "/" + sd.ServiceName + "/" + md.MethodName
		if _, dup := s.methods[name]; dup {
			panic("msgbus: RegisterService: " + sd.ServiceName + " registered twice")
		}
		s.methods[name] = &method{impl: impl, handler: md.Handler,
			stream: grpc.NewContextWithServerTransportStream(context.Background(), transportStream{method: name})}
	}
	for _, st := range sd.Streams {
		s.log.Debug("msgbus: streaming method not served over Kafka", "method", "/"+sd.ServiceName+"/"+st.StreamName)
	}
}

// Start creates the topic if needed, joins the consumer group and starts
// serving; ctx bounds the topic creation. A Server starts once.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("msgbus: Server started twice or after Close")
	}
	s.started = true

	admin, err := kgo.NewClient(clientOpts(s.cfg.Brokers, s.cfg.Name, s.log, nil)...)
	if err != nil {
		return fmt.Errorf("msgbus: %w", err)
	}
	err = ensureTopic(ctx, admin, s.cfg.Topic, s.cfg.Partitions)
	admin.Close()
	if err != nil {
		return err
	}

	s.acks = newAckWindow(func(rs ...*kgo.Record) { s.cl.MarkCommitRecords(rs...) })
	s.replyPromise = s.replyProduced
	s.repair = newRepairer(s.log, func(t string) bool { return t == s.cfg.Topic }, nil)
	opts := append(clientOpts(s.cfg.Brokers, s.cfg.Name, s.log, s.repair.topicRecreated), consumerOpts()...)
	opts = append(opts,
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.cfg.Topic),
		// A new group, or one whose offsets the broker lost, starts at the
		// beginning: requests sent before the server joined still count
		// (the expired ones are answered DeadlineExceeded).
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(s.revoked),
		kgo.OnPartitionsLost(s.lost),
		kgo.HeartbeatInterval(heartbeat),
		kgo.SessionTimeout(sessionLimit),
	)
	if s.cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(s.cfg.InstanceID))
	}
	bodies, err := newBodyCodec()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		bodies.close()
		return fmt.Errorf("msgbus: %w", err)
	}
	s.cl = cl
	s.bodies = bodies
	s.repair.start(cl)
	s.recent = newRecentIDs(recentIDsSize, keptResponses)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sched = keyq.New(s.cfg.MaxConcurrency, pendingPerSlot*s.cfg.MaxConcurrency, keyq.WithIdle(s.idle))
	s.role.timer = time.AfterFunc(time.Hour, s.takeOver)
	s.role.timer.Stop()
	s.wg.Add(1)
	go s.poll(0)
	return nil
}

// Stats returns the Server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Requests:    s.stats.requests.Load(),
		Handled:     s.stats.handled.Load(),
		Expired:     s.stats.expired.Load(),
		Duplicates:  s.stats.duplicates.Load(),
		BadRecords:  s.stats.badRecords.Load(),
		ReplyErrors: s.stats.replyErrors.Load(),
		Inlined:     s.stats.inlined.Load(),
		HandedOver:  s.stats.handedOver.Load(),
	}
}

// Close stops consuming, cancels the running handlers' contexts and waits
// for them, delivers their responses, commits what ran and leaves the
// group, so that a replica takes the partitions over at once. Calls queued
// but not started are left to the next owner of their partition.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	started := s.started && s.cl != nil
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.stopOnce.Do(func() {
		s.cancel()
		// Before waiting for the poll loop: it may be blocked adding a
		// call, and Close unblocks it (dropping what waits).
		s.sched.Close()
		s.role.close()
		s.wg.Wait()
		s.replies.flush()   // the poll loop's last inline calls' too
		s.acks.flushMarks() // leave commits what is marked
		ctx, cancel := context.WithTimeout(context.Background(), flushWait)
		if err := s.cl.Flush(ctx); err != nil {
			s.log.Warn("msgbus: responses not delivered at close", "topic", s.cfg.Topic, "err", err)
		}
		cancel()
		ctx, cancel = context.WithTimeout(context.Background(), leaveWait)
		if err := s.leave(ctx); err != nil {
			s.log.Warn("msgbus: leave group", "group", s.cfg.Group, "err", err)
		}
		cancel()
		s.repair.close()
		s.cl.Close()
		s.bodies.close()
	})
	return nil
}

// leave leaves the group. A static member's client does not leave on its
// own (a restart is meant to find its place kept); a server that closes
// cleanly is going away, so it asks the broker to remove its instance.
func (s *Server) leave(ctx context.Context) error {
	if err := s.cl.LeaveGroupContext(ctx); err != nil || s.cfg.InstanceID == "" {
		return err
	}
	resp, err := kadm.NewClient(s.cl).LeaveGroup(ctx, kadm.LeaveGroup(s.cfg.Group).InstanceIDs(s.cfg.InstanceID).Reason("closed"))
	if err != nil {
		return err
	}
	return resp.Error()
}

// idle runs when the executor runs out of ready calls: the responses of
// the burst go, and what ran is marked committable.
func (s *Server) idle() {
	s.replies.flush()
	s.acks.flushMarks()
}

// poll feeds consumed records to the executor, and runs the quick calls
// among them (inline.go), until Close or until the role of poller gen is
// handed over.
func (s *Server) poll(gen uint64) {
	defer s.wg.Done()
	limit := newLogLimiter(30 * time.Second)
	for s.role.holds(gen) {
		s.acks.flushMarks()
		fs := s.cl.PollFetches(s.ctx)
		if s.ctx.Err() != nil || fs.IsClientClosed() {
			s.cl.AllowRebalance()
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if recreated(err) {
				s.repair.topicRecreated(t)
			} else if limit.allow(err.Error()) {
				s.log.Warn("msgbus: fetching requests", "topic", t, "partition", p, "err", err)
			}
		})
		quiet := 0
		fs.EachRecord(func(r *kgo.Record) {
			if s.dispatch(r) {
				quiet++
			}
		})
		s.cl.AllowRebalance()
		if quiet > 0 {
			s.runInline(gen)
		}
	}
}

// dispatch checks one record and hands it to the executor under its key;
// it reports true if the call is queued for the poll loop to run.
func (s *Server) dispatch(r *kgo.Record) bool {
	ref := s.acks.add(r)
	if s.ctx.Err() != nil {
		s.acks.abandon(ref)
		return false
	}
	s.stats.requests.Add(1)
	j := &job{s: s, rec: r, ack: ref}
	env := &j.env
	lean, err := decodeRequest(r, env)
	j.lean = lean
	if err == nil && env.GetKind() != msgbusv1.Kind_KIND_REQUEST {
		err = fmt.Errorf("a %s record on a request topic", env.GetKind())
	}
	if err != nil {
		s.badRecord(r, err)
		s.acks.done(ref)
		return false
	}
	if dup, resp := s.recent.seen(env.GetId()); dup {
		s.stats.duplicates.Add(1)
		if resp != nil && env.GetReplyTo() != "" { // the caller asks again: the response was lost
			s.produceReply(&kgo.Record{Topic: env.GetReplyTo(), Key: r.Key, Value: resp}, env.GetId())
		}
		s.acks.done(ref)
		return false
	}
	m := s.methods[env.GetMethod()]
	if m == nil {
		s.badRecord(r, fmt.Errorf("unknown method %s", env.GetMethod()))
		s.reply(j, nil, status.Errorf(codes.Unimplemented, "msgbus: unknown method %s on topic %s", env.GetMethod(), s.cfg.Topic), time.Time{}).produce()
		s.acks.done(ref)
		return false
	}
	j.key = env.GetKey() // a caller's record key is the envelope's: no copy
	if j.key != string(r.Key) {
		j.key = string(r.Key)
	}
	j.m = m
	if m.cost.quick(s.cfg.InlineBelow) {
		j.inline = true
		return s.sched.AddQuiet(j.key, j)
	}
	s.sched.Add(j.key, j)
	return false
}

// run runs one call and answers it.
func (s *Server) run(j *job) {
	defer s.acks.done(j.ack)
	env := &j.env
	now := time.Now()
	var deadline time.Time
	if ms := env.GetDeadlineUnixMs(); ms > 0 {
		deadline = time.UnixMilli(ms)
		if !now.Before(deadline) {
			s.stats.expired.Add(1)
			s.replies.add(s.reply(j, nil, status.Errorf(codes.DeadlineExceeded,
				"msgbus: %s: the deadline passed before the call started", env.GetMethod()), now))
			return
		}
	}
	ctx := &j.ctx
	*ctx = callCtx{
		Context: s.ctx,
		info: CallInfo{
			ID:        env.GetId(),
			Method:    env.GetMethod(),
			From:      env.GetFrom(),
			Key:       j.key,
			Topic:     j.rec.Topic,
			Partition: j.rec.Partition,
			Offset:    j.rec.Offset,
			Deadline:  deadline,
		},
		hasDeadline: !deadline.IsZero(),
		stream:      j.m.stream,
		ended:       s.ended,
	}
	defer ctx.release()
	resp, err := s.call(ctx, j.m, env.GetMethod(), j.decode)
	j.m.cost.add(time.Since(now))
	if j.badBody != nil {
		s.badRecord(j.rec, j.badBody)
	} else {
		s.stats.handled.Add(1)
	}
	if err != nil && s.ctx.Err() != nil {
		err = status.Errorf(codes.Unavailable, "msgbus: the server of %s stopped during the call: %v", s.cfg.Topic, err)
	}
	s.replies.add(s.reply(j, resp, err, time.Time{}))
}

// call runs the handler; a panic becomes Internal rather than taking the
// process down.
func (s *Server) call(ctx context.Context, m *method, name string, dec func(any) error) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("msgbus: handler panicked", "method", name, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, status.Errorf(codes.Internal, "msgbus: the handler of %s panicked", name)
		}
	}()
	return m.handler(m.impl, ctx, dec, s.interceptor)
}

// reply makes the response to j's request in j.out, to be produced, and
// returns it; nil if the caller wants none. now is the time to stamp it
// with; zero reads the clock.
func (s *Server) reply(j *job, resp any, err error, now time.Time) *outReply {
	o, r, env := &j.out, j.rec, &j.env
	if env.GetReplyTo() == "" {
		return nil
	}
	if now.IsZero() {
		now = time.Now()
	}
	// No from or key: the caller knows them; no timestamp: the record's
	// says when (envelope.proto). Nor the method, unless the request named
	// its sender: a caller of before lean requests checks that responses
	// name theirs.
	out := wireEnvelope{id: env.GetId(), kind: msgbusv1.Kind_KIND_RESPONSE}
	if !j.lean {
		out.method = env.GetMethod()
	}
	var body proto.Message
	if err == nil && resp != nil {
		m, ok := resp.(proto.Message)
		if !ok {
			err = status.Errorf(codes.Internal, "msgbus: response type %T is not a proto.Message", resp)
		} else {
			body = m
		}
	}
	out.status = statusToProto(err)
	value, merr := s.bodies.encode(&out, body)
	if merr != nil { // the body does not marshal, or a status detail
		out.status = &msgbusv1.Status{Code: int32(codes.Internal), Message: fmt.Sprintf("msgbus: marshal response of %s: %v", env.GetMethod(), merr)}
		value, _ = s.bodies.encode(&out, nil)
	}
	s.recent.answered(env.GetId(), value)
	// Not the call's context: the response must outlive the handler, and
	// Close flushes it. recordDeliveryTimeout bounds it.
	*o = outReply{s: s, out: out, id: env.GetId(), method: env.GetMethod(), try: 1, tooLarge: true}
	o.rec = kgo.Record{Topic: env.GetReplyTo(), Key: r.Key, Value: value, Timestamp: now}
	return o
}

// outReply is one response on its way to the broker, with what it takes
// to send it again. A call's is part of its job.
type outReply struct {
	// Context is context.Background, so that kgo never cancels the
	// response: the outReply is its record's context (kgo.Record's
	// Context, "used for enriching records"), through which the Server's
	// one promise func finds it; a closure per response would cost an
	// allocation.
	context.Context
	s        *Server
	rec      kgo.Record
	out      wireEnvelope // the response's envelope, for a too-large reply
	id       string
	method   string // the call's, for a too-large reply's message
	try      int
	tooLarge bool // a response the broker refuses as too large is answered ResourceExhausted
}

// produce sends o asynchronously; nil does nothing.
func (o *outReply) produce() {
	if o == nil {
		return
	}
	o.Context = context.Background()
	o.rec.Context = o
	o.s.cl.TryProduce(context.Background(), &o.rec, o.s.replyPromise)
}

// replyProduced is the promise of every response record; the record's
// context is its outReply.
func (s *Server) replyProduced(r *kgo.Record, err error) {
	if o, ok := r.Context.(*outReply); ok {
		o.produced(r, err)
	}
}

// produced handles the broker's answer. If the broker failed the record
// because the reply topic came back under a new id, the repairer purges
// the topic and the response goes again shortly (replyTries at most).
func (o *outReply) produced(r *kgo.Record, err error) {
	s := o.s
	if err == nil {
		return
	}
	if recreated(err) && o.try < replyTries && s.ctx.Err() == nil {
		s.repair.failed(r.Topic, err)
		again := &outReply{s: s, out: o.out, id: o.id, method: o.method, try: o.try + 1, tooLarge: o.tooLarge}
		again.rec = kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
		time.AfterFunc(replyRetryDelay, again.produce)
		return
	}
	if o.tooLarge && tooLarge(err) && o.out.status == nil {
		// The caller would wait for its deadline: tell it instead.
		out := o.out
		out.status = &msgbusv1.Status{Code: int32(codes.ResourceExhausted),
			Message: fmt.Sprintf("msgbus: the response of %s (%d bytes) is too large for the bus: %v", o.method, len(r.Value), err)}
		if small, merr := s.bodies.encode(&out, nil); merr == nil {
			s.recent.answered(o.id, small)
			s.produceReply(&kgo.Record{Topic: r.Topic, Key: r.Key, Value: small}, o.id)
			return
		}
	}
	s.replied(r, err)
}

// produceReply produces a response record that is not a call's first
// answer (a duplicate's, a too-large one's), asynchronously.
func (s *Server) produceReply(rec *kgo.Record, id string) {
	o := &outReply{s: s, id: id, try: 1, rec: *rec}
	o.produce()
}

func (s *Server) replied(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	s.stats.replyErrors.Add(1)
	s.repair.failed(r.Topic, err)
	if s.ctx.Err() != nil || errors.Is(err, kgo.ErrClientClosed) {
		// Stopping: the caller sees Unavailable or its deadline; a clean
		// stop logs no warning.
		s.log.Debug("msgbus: response not delivered at stop", "topic", r.Topic, "err", err)
		return
	}
	if s.replyLog.allow(err.Error()) {
		s.log.Warn("msgbus: response not delivered", "topic", r.Topic, "err", err)
	}
}

// badRecord logs a record that cannot be served, once, with where it is.
func (s *Server) badRecord(r *kgo.Record, err error) {
	s.stats.badRecords.Add(1)
	s.log.Warn("msgbus: bad request record",
		"topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
}

// revoked runs when the group takes partitions away: it waits for their
// running and queued calls, so that the next owner cannot run a later call
// of a key before an earlier one finished here, then commits.
func (s *Server) revoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	parts := revoked[s.cfg.Topic]
	wctx, cancel := context.WithTimeout(ctx, revokeWait)
	if err := s.acks.wait(wctx, parts); err != nil {
		s.log.Warn("msgbus: calls still running on revoked partitions", "topic", s.cfg.Topic, "partitions", parts, "err", err)
	}
	cancel()
	s.acks.flushMarks()
	cctx, cancel := context.WithTimeout(ctx, commitWait)
	if err := cl.CommitMarkedOffsets(cctx); err != nil {
		s.log.Warn("msgbus: commit offsets", "group", s.cfg.Group, "err", err)
	}
	cancel()
	s.acks.forget(parts)
}

// lost runs when the group lost partitions (the session expired): another
// member may own them already, so there is nothing to wait for or commit.
// While the broker is away kgo calls it on every failed rejoin, with no
// partitions: that is not news.
func (s *Server) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	parts := lost[s.cfg.Topic]
	if len(parts) > 0 {
		s.log.Warn("msgbus: lost partitions", "topic", s.cfg.Topic, "partitions", parts)
	}
	s.acks.forget(parts)
}

// chainServer composes interceptors into one, the first outermost, as
// grpc.ChainUnaryInterceptor does.
func chainServer(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(ics) {
	case 0:
		return nil
	case 1:
		return ics[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return ics[0](ctx, req, info, chainHandler(ics, 0, info, handler))
	}
}

func chainHandler(ics []grpc.UnaryServerInterceptor, cur int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if cur == len(ics)-1 {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return ics[cur+1](ctx, req, info, chainHandler(ics, cur+1, info, final))
	}
}
