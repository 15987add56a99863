package msgbus_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

func topicsOf(t *testing.T, adm *kadm.Client) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range ts.Names() {
		out[n] = true
	}
	return out
}

// The reply topic of a process gone without closing its Conn is deleted
// by a live Conn once it shows no life for StaleReplyTopics; the topics
// of live Conns, idle or not, stay; Close deletes a Conn's own.
func TestStaleReplyTopicsCleanedUp(t *testing.T) {
	b := startBroker(t)
	raw, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	adm := kadm.NewClient(raw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A dead process's reply topic: one response in it, then nothing.
	const ghost = "ghost.reply.0123456789abcdef"
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, ghost); err != nil {
		t.Fatal(err)
	}
	if err := raw.ProduceSync(ctx, &kgo.Record{Topic: ghost, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	const stale = 600 * time.Millisecond
	janitor := dial(t, b.Addrs(), msgbus.Config{Name: "janitor", StaleReplyTopics: stale})
	idle := dial(t, b.Addrs(), msgbus.Config{Name: "idle", StaleReplyTopics: stale})
	closed := dial(t, b.Addrs(), msgbus.Config{Name: "closed", StaleReplyTopics: -1})
	if ts := topicsOf(t, adm); !ts[closed.ReplyTopic()] {
		t.Fatalf("no reply topic %s", closed.ReplyTopic())
	}
	closed.Close()
	eventually(t, 20*time.Second, func() error {
		ts := topicsOf(t, adm)
		if ts[ghost] || ts[closed.ReplyTopic()] {
			return errors.New("the ghost's or the closed Conn's reply topic is still there")
		}
		return nil
	})
	// Several stale periods later the live ones are still there.
	start := time.Now()
	eventually(t, 20*time.Second, func() error {
		if time.Since(start) < 3*stale {
			return errors.New("waiting")
		}
		return nil
	})
	ts := topicsOf(t, adm)
	for _, c := range []*msgbus.Conn{janitor, idle} {
		if !ts[c.ReplyTopic()] {
			t.Errorf("live reply topic %s deleted", c.ReplyTopic())
		}
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	if err := idle.Ping(pctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// Ping says whether the broker answers.
func TestPing(t *testing.T) {
	b := startBroker(t)
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("Ping with the broker up: %v", err)
	}
	b.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	if err := conn.Ping(ctx2); status.Code(err) != codes.Unavailable {
		t.Errorf("Ping with the broker down: %v, want Unavailable", err)
	}
}

// warnLog records the warnings and errors logged.
type warnLog struct {
	mu    sync.Mutex
	lines []string
}

func (w *warnLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	w.mu.Lock()
	w.lines = append(w.lines, b.String())
	w.mu.Unlock()
	return nil
}
func (w *warnLog) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnLog) WithGroup(string) slog.Handler      { return w }

// Two processes calling each other (a core and an adapter) stop, one
// after the other, with calls in flight and the broker up: nothing logs a
// warning.
func TestCleanStopLogsNoWarning(t *testing.T) {
	b := startBroker(t)
	w := &warnLog{}
	log := slog.New(w)
	coreTopic, adapterTopic := newTopic("core"), newTopic("adapter")
	coreSrv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: coreTopic, Logger: log}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{name: "core"})
	})
	// The adapter answers some calls only once the core has gone: their
	// responses go to a reply topic Close deleted.
	release := make(chan struct{})
	var slow atomic.Int32
	adapterSrv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: adapterTopic, Logger: log}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{getDevice: func(ctx context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
			if r.GetDeviceId() == "slow" {
				slow.Add(1)
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return &voltv1.Device{Id: r.GetDeviceId()}, nil
		}})
	})
	coreConn := dial(t, b.Addrs(), msgbus.Config{Name: "core", Topic: adapterTopic, Logger: log})
	adapterConn := dial(t, b.Addrs(), msgbus.Config{Name: "adapter", Topic: coreTopic, Logger: log})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, conn := range []*msgbus.Conn{coreConn, adapterConn} {
		client := adapterv1.NewCoreServiceClient(conn)
		for i := range 4 {
			dev := "d"
			if conn == coreConn && i < 2 {
				dev = "slow"
			}
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					_, _ = client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: dev})
					cancel()
				}
			})
		}
	}
	eventually(t, 20*time.Second, func() error {
		if coreConn.Stats().Responses < 50 || adapterConn.Stats().Responses < 50 || slow.Load() < 2 {
			return errors.New("not enough calls yet")
		}
		return nil
	})
	// The core stops first, then the adapter, as `volt up` does on Ctrl-C.
	coreSrv.Close()
	coreConn.Close()
	close(release)
	close(stop)
	adapterSrv.Close()
	adapterConn.Close()
	wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lines) > 0 {
		t.Errorf("a clean stop logged %d warnings:\n%s", len(w.lines), strings.Join(w.lines, "\n"))
	}
}
