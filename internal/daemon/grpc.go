// Package daemon holds what every volt daemon shares: its gRPC port with the
// health service, reflection and the LogService.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/logging"
)

// GRPCServer is a daemon's gRPC port: register services on Server(), then
// Serve.
type GRPCServer struct {
	srv    *grpc.Server
	lis    net.Listener
	health *health.Server
	log    *slog.Logger
	deps   []Dependency // followed by the health service (Watch)
	// ready is where the port reports its dependencies and that it serves,
	// under component; its health follows that component's parts.
	ready     *Readiness
	component string

	statusMu sync.Mutex // guards status and stopped
	status   healthpb.HealthCheckResponse_ServingStatus
	stopped  bool

	// stopping ends when Serve begins to stop: the streams end then
	// (endStreams), so that a graceful stop waits only for unary calls.
	stopping   context.Context
	endStreams context.CancelFunc
}

// ListenGRPC binds addr and prepares a server that already carries the
// health service, reflection and the LogService of reg.
func ListenGRPC(addr string, reg *logging.Registry, opts ...grpc.ServerOption) (*GRPCServer, error) {
	lis, err := Listen(addr)
	if err != nil {
		return nil, err
	}
	s := &GRPCServer{lis: lis, health: health.NewServer(), log: reg.Logger("daemon")}
	s.stopping, s.endStreams = context.WithCancel(context.Background())
	srv := grpc.NewServer(append(opts, grpc.ChainStreamInterceptor(s.endOnStop))...)
	healthpb.RegisterHealthServer(srv, s.health)
	reflection.Register(srv)
	logging.Register(srv, reg)
	s.srv = srv
	s.ReportTo(NewReadiness(), "grpc")
	return s, nil
}

// ReportTo makes the port report into r under component (instead of a
// readiness of its own): "<component>/serving" from Serve on, and each
// dependency it watches. Call it before Serve. Its gRPC health follows
// every part of component in r, so that /readyz and gRPC health agree.
func (s *GRPCServer) ReportTo(r *Readiness, component string) {
	if s.ready != nil {
		s.ready.Remove(s.component + "/serving")
	}
	s.ready, s.component = r, component
	r.Set(component+"/serving", errNotServing)
}

var (
	errNotServing = errors.New("not serving yet")
	errStopped    = errors.New("stopped")
)

// Listen binds a TCP address with an error a person can act on.
func Listen(addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen on %s: address already in use", addr)
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return lis, nil
}

// Server is where services are registered before Serve.
func (s *GRPCServer) Server() *grpc.Server { return s.srv }

// Addr is the address the server listens on (useful with port 0).
func (s *GRPCServer) Addr() string { return s.lis.Addr().String() }

// Serve serves until ctx ends, then stops gracefully: the streams end at
// once (Unavailable: a client follows the next server), the unary calls
// running finish (bounded: a call that does not is cut after a few
// seconds).
func (s *GRPCServer) Serve(ctx context.Context) error {
	s.ready.Set(s.component+"/serving", nil)
	s.followReadiness()
	wctx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	defer watching.Wait()
	defer stopWatch()
	watching.Go(func() { s.watch(wctx, s.log) })
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("grpc serve on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	s.statusMu.Lock()
	s.stopped = true
	s.statusMu.Unlock()
	s.ready.Set(s.component+"/serving", errStopped)
	s.health.Shutdown()
	s.endStreams()
	done := make(chan struct{})
	go func() { s.srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		s.srv.Stop()
		<-done
	}
	<-errc
	return nil
}

// endOnStop ends a stream's handler when the server begins to stop. Watches
// and event streams (health Watch, change events, log levels) never end on
// their own, and GracefulStop would wait for them until it gives up.
func (s *GRPCServer) endOnStop(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	stop := context.AfterFunc(s.stopping, cancel)
	defer stop()
	err := handler(srv, stoppableStream{ServerStream: ss, ctx: ctx})
	if err != nil && s.stopping.Err() != nil && ss.Context().Err() == nil {
		return status.Error(codes.Unavailable, "the server is stopping")
	}
	return err
}

// stoppableStream is a server stream whose context also ends when the
// server stops.
type stoppableStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s stoppableStream) Context() context.Context { return s.ctx }
