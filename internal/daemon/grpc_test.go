package daemon_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// A stream that never ends on its own (a health Watch here; the core's
// change events, the log-level watch) ends Unavailable as the server
// begins to stop, rather than holding the graceful stop until it gives up
// and cuts every connection.
func TestStopEndsStreams(t *testing.T) {
	srv, err := daemon.ListenGRPC("127.0.0.1:0", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	cc, stop := serveGRPC(t, srv)
	watch, err := healthpb.NewHealthClient(cc).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first status %v, %v; want SERVING", r, err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	var last error
	for {
		r, err := watch.Recv()
		if err != nil {
			last = err
			break
		}
		if r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("status %s while stopping, want NOT_SERVING", r.GetStatus())
		}
	}
	if st := status.Convert(last); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "the server is stopping") {
		t.Errorf("the watch ended with %v; want Unavailable saying the server is stopping (not cut by the stop's fallback)", last)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// serveGRPC serves srv until stop (or the test's end) and returns a client
// of it. stop returns what Serve returned.
func serveGRPC(t *testing.T, srv *daemon.GRPCServer) (cc *grpc.ClientConn, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	cc, cerr := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if cerr != nil {
		t.Fatal(cerr)
	}
	t.Cleanup(func() { cc.Close() })
	return cc, stop
}
