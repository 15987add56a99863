package nbitest

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/nbi"
)

// subscription is one open event stream (change events or packet-ins).
type subscription struct {
	ch     chan *voltv1.Event
	filter func(*voltv1.Event) bool
}

// events is the change-event fan-out as the NBI sees it.
type events struct{ f *Fake }

// Subscribe opens a stream that gets the matching Replay first, then what
// is published while it is open. With EndEvents it ends after Replay.
func (e events) Subscribe(ctx context.Context, filter func(*voltv1.Event) bool) <-chan *voltv1.Event {
	f := e.f
	f.Lock()
	defer f.Unlock()
	s := &subscription{ch: make(chan *voltv1.Event, len(f.Replay)+100), filter: filter}
	for _, ev := range clones(f.Replay) {
		if filter == nil || filter(ev) {
			s.ch <- ev
		}
	}
	if f.EndEvents {
		close(s.ch)
		return s.ch
	}
	f.subs[s] = struct{}{}
	go func() {
		<-ctx.Done()
		f.Lock()
		delete(f.subs, s)
		f.Unlock()
	}()
	return s.ch
}

// Publish sends ev on the streams open now that it matches: like the
// core, the fake keeps nothing for a stream opened later (Replay aside),
// and ends a stream that falls too far behind.
func (f *Fake) Publish(ev *voltv1.Event) {
	f.Lock()
	defer f.Unlock()
	for s := range f.subs {
		if s.filter != nil && !s.filter(ev) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			close(s.ch)
			delete(f.subs, s)
		}
	}
}

// PublishPacketIn sends pi on the packet-in streams open now.
func (f *Fake) PublishPacketIn(pi *voltv1.PacketIn) {
	f.Publish(&voltv1.Event{LogicalDeviceId: pi.GetLogicalDeviceId(), Payload: &voltv1.Event_PacketIn{PacketIn: pi}})
}

// Streams counts the open streams that probe would go to.
func (f *Fake) Streams(probe *voltv1.Event) int {
	f.Lock()
	defer f.Unlock()
	n := 0
	for s := range f.subs {
		if s.filter == nil || s.filter(probe) {
			n++
		}
	}
	return n
}

// server is the real NBI server in front of the fake; it only ends
// change-event streams the way the fake is told to.
type server struct {
	*nbi.Server
	f *Fake
}

func (s server) ReceiveChangeEvents(req *voltv1.ReceiveChangeEventsRequest, stream grpc.ServerStreamingServer[voltv1.Event]) error {
	s.f.Lock()
	end, endWith := s.f.EndEvents, s.f.EndWith
	s.f.Unlock()
	if end && endWith != nil {
		return endWith // at once, as a core shutting down
	}
	err := s.Server.ReceiveChangeEvents(req, stream)
	if end && status.Code(err) == codes.ResourceExhausted {
		return nil // Replay is sent: a clean end
	}
	return err
}

// Register adds the NBI, over the fake, to a gRPC server.
func (f *Fake) Register(r grpc.ServiceRegistrar) {
	f.init()
	srv := nbi.New(nbi.Config{
		Devices: devices{f}, LogicalDevices: logical{f}, Adapters: adapters{f},
		Events: events{f}, Flows: tables{f}, FlowMods: tables{f}, OMCI: omci{f},
	})
	voltv1.RegisterVoltServiceServer(r, server{Server: srv, f: f})
}

// Dial returns a client of the NBI at addr, closed when the test ends.
func Dial(t testing.TB, addr string) voltv1.VoltServiceClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return voltv1.NewVoltServiceClient(cc)
}

// Serve runs the NBI over the fake on a loopback port until the test ends
// and returns its address.
func (f *Fake) Serve(t testing.TB) string {
	t.Helper()
	addr, _ := f.ServeAt(t, "127.0.0.1:0")
	return addr
}

// ServeAt runs the NBI over the fake on addr until the test ends or stop
// is called.
func (f *Fake) ServeAt(t testing.TB, addr string) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	f.Register(srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Stop()
			<-done
		})
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}
