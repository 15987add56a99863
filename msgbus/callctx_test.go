package msgbus

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
)

func newTestCallCtx(parent context.Context, deadline time.Time) *callCtx {
	return &callCtx{
		Context:     parent,
		info:        CallInfo{ID: "id-1", Method: "/s/M", Deadline: deadline},
		hasDeadline: !deadline.IsZero(),
		stream:      grpc.NewContextWithServerTransportStream(context.Background(), transportStream{method: "/s/M"}),
	}
}

func waitDone(t *testing.T, ctx context.Context, want error) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done never closed")
	}
	if err := ctx.Err(); !errors.Is(err, want) {
		t.Fatalf("Err = %v, want %v", err, want)
	}
}

func TestCallCtxDeadline(t *testing.T) {
	c := newTestCallCtx(context.Background(), time.Now().Add(20*time.Millisecond))
	defer c.release()
	if d, ok := c.Deadline(); !ok || d != c.info.Deadline {
		t.Errorf("Deadline = %v, %v", d, ok)
	}
	child, cancel := context.WithCancel(c)
	defer cancel()
	waitDone(t, c, context.DeadlineExceeded)
	waitDone(t, child, context.DeadlineExceeded)
	if err := context.Cause(c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Cause = %v", err)
	}
}

func TestCallCtxParentAndRelease(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newTestCallCtx(parent, time.Now().Add(time.Hour))
	if c.Err() != nil {
		t.Fatal("ended early")
	}
	cancel()
	waitDone(t, c, context.Canceled)
	c.release()

	// Without a deadline and never looked at: release ends it too.
	c = newTestCallCtx(context.Background(), time.Time{})
	if _, ok := c.Deadline(); ok {
		t.Error("a deadline without one")
	}
	c.release()
	waitDone(t, c, context.Canceled)

	// Already past.
	c = newTestCallCtx(context.Background(), time.Now().Add(-time.Second))
	waitDone(t, c, context.DeadlineExceeded)
	c.release()
}

func TestCallCtxValues(t *testing.T) {
	type k struct{}
	c := newTestCallCtx(context.WithValue(context.Background(), k{}, "v"), time.Time{})
	defer c.release()
	if ci, ok := CallInfoFromContext(c); !ok || ci.ID != "id-1" {
		t.Errorf("CallInfo = %+v, %v", ci, ok)
	}
	if m, ok := grpc.Method(c); !ok || m != "/s/M" {
		t.Errorf("grpc.Method = %q, %v", m, ok)
	}
	if c.Value(k{}) != "v" {
		t.Error("the parent's value is lost")
	}
}
