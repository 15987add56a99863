package msgbus_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// A generated client and server, unchanged, round trip through the broker.
func TestUnaryRoundTrip(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("core")
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{name: "core"})
		healthpb.RegisterHealthServer(s, health.NewServer())
	})
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	ctx := context.Background()

	dev, err := adapterv1.NewCoreServiceClient(conn).GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "olt-1"})
	if err != nil {
		t.Fatal(err)
	}
	if dev.GetId() != "olt-1" || dev.GetReason() != "served by core" {
		t.Errorf("GetDevice = %v", dev)
	}
	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, msgbus.WithKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	if hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health = %v", hc.GetStatus())
	}

	// Streams stay on gRPC.
	_, err = healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("Watch: got %v, want Unimplemented", err)
	}
}

// Conn.To and WithTopic pick the topic; one Conn reaches two services.
func TestTopics(t *testing.T) {
	b := startBroker(t)
	olt, onu := newTopic("olt"), newTopic("onu")
	for _, topic := range []string{olt, onu} {
		serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
			adapterv1.RegisterCoreServiceServer(s, &testCore{name: topic})
		})
	}
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx := context.Background()
	req := &adapterv1.DeviceRequest{DeviceId: "d"}

	dev, err := adapterv1.NewCoreServiceClient(conn.To(olt)).GetDevice(ctx, req)
	if err != nil || dev.GetReason() != "served by "+olt {
		t.Errorf("To(olt): %v, %v", dev, err)
	}
	dev, err = adapterv1.NewCoreServiceClient(conn).GetDevice(ctx, req, msgbus.WithTopic(onu))
	if err != nil || dev.GetReason() != "served by "+onu {
		t.Errorf("WithTopic(onu): %v, %v", dev, err)
	}
	_, err = adapterv1.NewCoreServiceClient(conn).GetDevice(ctx, req)
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("no topic: got %v, want InvalidArgument", err)
	}
}

// A handler's status (code, message, details) is the caller's status.
func TestStatusCodesEndToEnd(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("status")
	detail, _ := anypb.New(&voltv1.ID{Id: "olt-9"})
	core := &testCore{getDevice: func(_ context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
		switch r.GetDeviceId() {
		case "not-found":
			st, _ := status.New(codes.NotFound, "device olt-9 not found").WithDetails(&voltv1.ID{Id: "olt-9"})
			return nil, st.Err()
		case "plain":
			return nil, errors.New("a plain error")
		case "panic":
			panic("handler bug")
		case "ctx":
			return nil, context.DeadlineExceeded
		}
		c, err := strconv.Atoi(r.GetDeviceId())
		if err != nil {
			return nil, err
		}
		return nil, status.Error(codes.Code(c), "as asked")
	}}
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, core)
	})
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))

	for _, c := range []codes.Code{codes.InvalidArgument, codes.AlreadyExists, codes.PermissionDenied,
		codes.FailedPrecondition, codes.Aborted, codes.Unimplemented, codes.Internal, codes.Unavailable} {
		_, err := client.GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: strconv.Itoa(int(c))})
		if st := status.Convert(err); st.Code() != c || st.Message() != "as asked" {
			t.Errorf("%v: got %v", c, err)
		}
	}

	_, err := client.GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "not-found"})
	st := status.Convert(err)
	if st.Code() != codes.NotFound || st.Message() != "device olt-9 not found" {
		t.Errorf("not-found: got %v", err)
	}
	if d := st.Proto().GetDetails(); len(d) != 1 || !proto.Equal(d[0], detail) {
		t.Errorf("not-found details = %v, want [%v]", d, detail)
	}

	_, err = client.GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "plain"})
	if st := status.Convert(err); st.Code() != codes.Unknown || st.Message() != "a plain error" {
		t.Errorf("plain: got %v", err)
	}
	_, err = client.GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "ctx"})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("ctx: got %v", err)
	}
	_, err = client.GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "panic"})
	if status.Code(err) != codes.Internal {
		t.Errorf("panic: got %v, want Internal", err)
	}
	// Still serving.
	if _, err := client.GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "1"}); status.Code(err) != codes.Canceled {
		t.Errorf("after panic: got %v", err)
	}
}

// Interceptors run in the gRPC order on both sides and see the method;
// the server side sees the call's deadline, key and grpc.Method.
func TestInterceptors(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("icpt")
	var (
		mu    sync.Mutex
		trace []string
	)
	add := func(s string) {
		mu.Lock()
		trace = append(trace, s)
		mu.Unlock()
	}
	srvIC := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			m, _ := grpc.Method(ctx)
			ci, ok := msgbus.CallInfoFromContext(ctx)
			_, hasDeadline := ctx.Deadline()
			add(fmt.Sprintf("%s %s %s key=%s deadline=%v ok=%v", name, info.FullMethod, m, ci.Key, hasDeadline, ok))
			return h(ctx, req)
		}
	}
	cliIC := func(name string) grpc.UnaryClientInterceptor {
		return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			add(name + " " + method)
			err := inv(ctx, method, req, reply, cc, opts...)
			add(name + " done")
			return err
		}
	}
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, Interceptors: []grpc.UnaryServerInterceptor{srvIC("s1"), srvIC("s2")}},
		func(s *msgbus.Server) { adapterv1.RegisterCoreServiceServer(s, &testCore{}) })
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic, Interceptors: []grpc.UnaryClientInterceptor{cliIC("c1"), cliIC("c2")}})
	if _, err := adapterv1.NewCoreServiceClient(conn).GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "d7"}); err != nil {
		t.Fatal(err)
	}
	const m = "/adapter.v1.CoreService/GetDevice"
	want := []string{
		"c1 " + m, "c2 " + m,
		"s1 " + m + " " + m + " key=d7 deadline=true ok=true",
		"s2 " + m + " " + m + " key=d7 deadline=true ok=true",
		"c2 done", "c1 done",
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(trace) != fmt.Sprint(want) {
		t.Errorf("trace:\n%q\nwant:\n%q", trace, want)
	}
}

// Calls with one key run one at a time, in the order their records
// arrived, while many keys are in flight at once.
func TestOrderPerKeyUnderConcurrency(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("order")
	const keys, perKey = 8, 40
	var (
		mu      sync.Mutex
		offsets = map[string][]int64{} // per key, in the order the handler ran
		running = map[string]int{}
		overlap atomic.Int32
	)
	core := &testCore{reason: func(ctx context.Context, r *adapterv1.DeviceReasonUpdateRequest) (*emptypb.Empty, error) {
		ci, _ := msgbus.CallInfoFromContext(ctx)
		k := r.GetDeviceId()
		mu.Lock()
		running[k]++
		if running[k] > 1 {
			overlap.Add(1)
		}
		offsets[k] = append(offsets[k], ci.Offset)
		mu.Unlock()
		time.Sleep(100 * time.Microsecond) // widen the window for an overlap
		mu.Lock()
		running[k]--
		mu.Unlock()
		return &emptypb.Empty{}, nil
	}}
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, MaxConcurrency: 4},
		func(s *msgbus.Server) { adapterv1.RegisterCoreServiceServer(s, core) })
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))

	// Several goroutines per key, so that one key has calls queued behind
	// each other at the server.
	var wg sync.WaitGroup
	errs := make(chan error, keys*perKey)
	for k := range keys {
		for g := range 4 {
			wg.Go(func() {
				for i := range perKey / 4 {
					_, err := client.DeviceReasonUpdate(context.Background(), &adapterv1.DeviceReasonUpdateRequest{
						DeviceId: fmt.Sprintf("dev-%d", k), Reason: fmt.Sprintf("g%d-%d", g, i)})
					if err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := overlap.Load(); n > 0 {
		t.Errorf("%d calls ran while another call with the same key was running", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, offs := range offsets {
		if len(offs) != perKey {
			t.Errorf("%s: %d calls ran, want %d", k, len(offs), perKey)
		}
		for i := 1; i < len(offs); i++ {
			if offs[i] <= offs[i-1] {
				t.Errorf("%s: ran offset %d after %d: not in arrival order", k, offs[i], offs[i-1])
				break
			}
		}
	}
}

// Calls with different keys run in parallel, up to MaxConcurrency and no
// further.
func TestParallelKeysBounded(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("parallel")
	const limit = 4
	var (
		running, peak atomic.Int32
		all           = make(chan struct{})
		once          sync.Once
	)
	core := &testCore{getDevice: func(ctx context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n == limit {
			once.Do(func() { close(all) })
		}
		// Hold the slot until limit calls run at once: only possible if
		// different keys run in parallel.
		select {
		case <-all:
			return &voltv1.Device{Id: r.GetDeviceId()}, nil
		case <-ctx.Done():
			return nil, status.Error(codes.DeadlineExceeded, "the other keys never ran in parallel")
		}
	}}
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, MaxConcurrency: limit},
		func(s *msgbus.Server) { adapterv1.RegisterCoreServiceServer(s, core) })
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))

	var wg sync.WaitGroup
	errs := make(chan error, 3*limit)
	for i := range 3 * limit {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: fmt.Sprintf("dev-%d", i)}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p != limit {
		t.Errorf("at most %d calls ran at once, want exactly MaxConcurrency=%d", p, limit)
	}
}

// A call whose deadline passes while it waits behind another call of its
// key is answered DeadlineExceeded and never runs; its answer comes too
// late for the caller and is counted.
func TestDeadlineDrop(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("deadline")
	release := make(chan struct{})
	blocked := make(chan struct{})
	var ranLate atomic.Bool
	core := &testCore{reason: func(ctx context.Context, r *adapterv1.DeviceReasonUpdateRequest) (*emptypb.Empty, error) {
		switch r.GetReason() {
		case "block":
			close(blocked)
			<-release
		case "late":
			ranLate.Store(true)
		}
		return &emptypb.Empty{}, nil
	}}
	srv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic},
		func(s *msgbus.Server) { adapterv1.RegisterCoreServiceServer(s, core) })
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	client := adapterv1.NewCoreServiceClient(conn)

	first := make(chan error, 1)
	go func() {
		_, err := client.DeviceReasonUpdate(context.Background(), &adapterv1.DeviceReasonUpdateRequest{DeviceId: "olt", Reason: "block"})
		first <- err
	}()
	<-blocked
	// Long enough for the broker to take the request, even under -race.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err := client.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: "olt", Reason: "late"})
	cancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("queued call: got %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if st := srv.Stats(); st.Expired != 1 {
			return fmt.Errorf("server stats %+v, want Expired 1", st)
		}
		if st := conn.Stats(); st.Late != 1 {
			return fmt.Errorf("conn stats %+v, want Late 1", st)
		}
		return nil
	})
	if ranLate.Load() {
		t.Error("the expired call ran")
	}
	// A call whose deadline passed before it was made is not sent.
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err = client.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: "olt", Reason: "late"})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("past deadline: got %v, want DeadlineExceeded", err)
	}
	if ranLate.Load() {
		t.Error("a call with a past deadline ran")
	}
}

// Without a deadline on the context, Config.DefaultTimeout bounds a call.
func TestDefaultTimeout(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("nobody") // no server
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic, DefaultTimeout: time.Second})
	_, err := adapterv1.NewCoreServiceClient(conn).GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "x"})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("got %v, want DeadlineExceeded", err)
	}
	if st := conn.Stats(); st.Calls != 1 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Closing a Conn ends its waiting calls with Canceled.
func TestConnCloseEndsCalls(t *testing.T) {
	b := startBroker(t)
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: newTopic("nobody")})
	done := make(chan error, 1)
	go func() {
		_, err := adapterv1.NewCoreServiceClient(conn).GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "x"})
		done <- err
	}()
	eventually(t, 5*time.Second, func() error {
		if conn.Stats().Calls == 0 {
			return errors.New("call not made yet")
		}
		return nil
	})
	conn.Close()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Errorf("got %v, want Canceled", err)
	}
	_, err := adapterv1.NewCoreServiceClient(conn).GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "x"})
	if status.Code(err) != codes.Canceled {
		t.Errorf("after Close: got %v, want Canceled", err)
	}
}

// The adapter service, keyed by the device in its requests, works over the
// bus unchanged.
func TestAdapterService(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("ponsim_olt")
	keys := make(chan string, 4)
	a := &testAdapter{keys: keys}
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterAdapterServiceServer(s, a)
	})
	client := adapterv1.NewAdapterServiceClient(dial(t, b.Addrs(), msgbus.Config{Key: adapter.DeviceKeyFunc()}).To(topic))
	ctx := context.Background()
	if _, err := client.AdoptDevice(ctx, &voltv1.Device{Id: "olt-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UpdateFlowsBulk(ctx, &adapterv1.BulkFlowsRequest{Device: &voltv1.Device{Id: "olt-2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ReconcileDevice(ctx, &voltv1.Device{Id: "olt-3"}, msgbus.WithKey("other")); err != nil {
		t.Fatal(err)
	}
	_, err := client.RebootDevice(ctx, &voltv1.Device{Id: "olt-4"})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("RebootDevice: got %v, want the handler's Unimplemented", err)
	}
	for _, want := range []string{"olt-1", "olt-2", "other", "olt-4"} {
		if got := <-keys; got != want {
			t.Errorf("record key %q, want %q", got, want)
		}
	}
}

type testAdapter struct {
	adapterv1.UnimplementedAdapterServiceServer
	keys chan<- string
}

func (a *testAdapter) key(ctx context.Context) {
	ci, _ := msgbus.CallInfoFromContext(ctx)
	a.keys <- ci.Key
}

func (a *testAdapter) AdoptDevice(ctx context.Context, _ *voltv1.Device) (*emptypb.Empty, error) {
	a.key(ctx)
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) ReconcileDevice(ctx context.Context, _ *voltv1.Device) (*emptypb.Empty, error) {
	a.key(ctx)
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) UpdateFlowsBulk(ctx context.Context, _ *adapterv1.BulkFlowsRequest) (*emptypb.Empty, error) {
	a.key(ctx)
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) RebootDevice(ctx context.Context, _ *voltv1.Device) (*emptypb.Empty, error) {
	a.key(ctx)
	return nil, status.Error(codes.Unimplemented, "reboot not supported")
}

// A response the server holds for its batch still goes while every worker
// runs a call that waits on it: here the one worker takes the waiting call
// right after the quick one, and the waiting call ends only once the
// client has the quick call's response (as a core handler that calls an
// adapter whose work waits on the core's previous answer).
func TestHeldReplyGoesWhileWorkersWait(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("held")
	answered := make(chan struct{})
	core := &testCore{getDevice: func(ctx context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
		switch r.GetDeviceId() {
		case "gate": // keeps the worker until the other two calls are queued
			time.Sleep(300 * time.Millisecond)
		case "waiter":
			select {
			case <-answered:
			case <-ctx.Done():
				return nil, status.Error(codes.DeadlineExceeded, "the quick call's response was held back")
			}
		}
		return &voltv1.Device{Id: r.GetDeviceId()}, nil
	}}
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, MaxConcurrency: 1},
		func(s *msgbus.Server) { adapterv1.RegisterCoreServiceServer(s, core) })
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))
	call := func(id string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: id})
		return err
	}
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Go(func() { errs <- call("gate") })
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() {
		err := call("quick")
		close(answered)
		errs <- err
	})
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() { errs <- call("waiter") })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
