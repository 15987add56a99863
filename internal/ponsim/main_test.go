package ponsim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	"github.com/openvolt/openvolt/logging"
)

// TestMain checks that no test leaves a goroutine behind: reboot timers,
// streams and the gRPC server all stop with the Sim.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig is a small OLT that reboots fast.
func testConfig(name string, pons, onus int) Config {
	return Config{Name: name, PONPorts: pons, ONUsPerPON: onus, RebootDelay: 20 * time.Millisecond}
}

// served is a Sim behind a real gRPC server on a random port, and a client.
type served struct {
	sim    *Sim
	client ponsimv1.PonSimClient
}

func serve(t *testing.T, cfg Config) served {
	t.Helper()
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- sim.Serve(ctx, "127.0.0.1:0", logging.Discard(), func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		<-errc
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return served{sim: sim, client: ponsimv1.NewPonSimClient(conn)}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// events opens a ReceiveEvents stream that ends with the test.
func events(t *testing.T, c ponsimv1.PonSimClient) grpc.ServerStreamingClient[ponsimv1.Event] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	st, err := c.ReceiveEvents(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func recvEvent(t *testing.T, st grpc.ServerStreamingClient[ponsimv1.Event]) *ponsimv1.Event {
	t.Helper()
	ev, err := st.Recv()
	if err != nil {
		t.Fatalf("receive event: %v", err)
	}
	return ev
}

// expectOLT reads one event, which must be OLT_STATE with enabled.
func expectOLT(t *testing.T, st grpc.ServerStreamingClient[ponsimv1.Event], enabled bool) {
	t.Helper()
	ev := recvEvent(t, st)
	if ev.GetType() != ponsimv1.EventType_EVENT_TYPE_OLT_STATE || ev.GetOlt().GetEnabled() != enabled {
		t.Fatalf("event %v, want OLT_STATE enabled=%v", ev, enabled)
	}
}

// expectONUs reads n events of type typ and returns their ONUs by serial;
// each ONU must appear once.
func expectONUs(t *testing.T, st grpc.ServerStreamingClient[ponsimv1.Event], typ ponsimv1.EventType, n int) map[string]*ponsimv1.OnuInfo {
	t.Helper()
	got := make(map[string]*ponsimv1.OnuInfo, n)
	for range n {
		ev := recvEvent(t, st)
		if ev.GetType() != typ {
			t.Fatalf("event %v, want %v", ev, typ)
		}
		if _, dup := got[ev.GetOnu().GetSerialNumber()]; dup {
			t.Fatalf("ONU %s twice", ev.GetOnu().GetSerialNumber())
		}
		got[ev.GetOnu().GetSerialNumber()] = ev.GetOnu()
	}
	return got
}

// expectONUState reads one event, which must be ONU_STATE for serial.
func expectONUState(t *testing.T, st grpc.ServerStreamingClient[ponsimv1.Event], serial string, state ponsimv1.OnuState) {
	t.Helper()
	ev := recvEvent(t, st)
	if ev.GetType() != ponsimv1.EventType_EVENT_TYPE_ONU_STATE || ev.GetOnu().GetSerialNumber() != serial || ev.GetOnu().GetState() != state {
		t.Fatalf("event %v, want ONU_STATE %s %v", ev, serial, state)
	}
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("error %v, want code %v", err, code)
	}
}

func dialTest(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// frameStreams reports whether n ReceiveFrames streams are registered, so a
// test knows packet-ins will reach them.
func (s *Sim) frameStreams(n int) error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if len(s.frameSubs) != n {
		return fmt.Errorf("%d frame streams, want %d", len(s.frameSubs), n)
	}
	return nil
}
