package daemon_test

import (
	"context"
	"strings"
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	cc, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	watch, err := healthpb.NewHealthClient(cc).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first status %v, %v; want SERVING", r, err)
	}

	cancel()
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
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	done <- nil // for the deferred wait
}
