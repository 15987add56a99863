package msgbus_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/msgbus"
)

// TestMain checks that no test leaves a goroutine behind: every Conn,
// Server, Subscription and broker stops all of its own. Started by
// serveProcess, the test binary is a server instead, until killed.
func TestMain(m *testing.M) {
	if spec := os.Getenv(serveEnv); spec != "" {
		if err := serveUntilKilled(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	goleak.VerifyTestMain(m)
}

// serveEnv tells the test binary to run as a server process:
// "<broker>|<topic>|<instance id>|<name>".
const serveEnv = "MSGBUS_TEST_SERVE"

// serveUntilKilled serves a testCore named as spec says, forever.
func serveUntilKilled(spec string) error {
	f := strings.Split(spec, "|")
	if len(f) != 4 {
		return fmt.Errorf("%s=%q: want broker|topic|instance|name", serveEnv, spec)
	}
	s, err := msgbus.NewServer(msgbus.ServerConfig{Brokers: []string{f[0]}, Topic: f[1], Partitions: 3, InstanceID: f[2]})
	if err != nil {
		return err
	}
	adapterv1.RegisterCoreServiceServer(s, &testCore{name: f[3]})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		return err
	}
	select {}
}

// serveProcess runs a server in a process of its own (this test binary),
// so that it can be killed as kill -9 kills: nothing left, nothing
// committed. kill kills it and waits for it to be gone.
func serveProcess(t testing.TB, broker, topic, instanceID, name string) (kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+strings.Join([]string{broker, topic, instanceID, name}, "|"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	return kill
}

// startBroker starts an embedded broker on a free port for one test.
func startBroker(t testing.TB) *broker.Broker {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Partitions: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("MSGBUS_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

var topicSeq atomic.Int64

// newTopic returns a topic name no other test uses.
func newTopic(prefix string) string {
	return fmt.Sprintf("%s.%d.%d", prefix, os.Getpid(), topicSeq.Add(1))
}

// deviceKey is the tests' KeyFunc: the device id of a message that has
// one. dial sets it unless a test sets another (noKey for none).
func deviceKey(m proto.Message) string {
	if d, ok := m.(interface{ GetDeviceId() string }); ok {
		return d.GetDeviceId()
	}
	return ""
}

// noKey gives no message a key.
func noKey(proto.Message) string { return "" }

func dial(t testing.TB, brokers []string, cfg msgbus.Config) *msgbus.Conn {
	t.Helper()
	cfg.Brokers = brokers
	if cfg.Key == nil {
		cfg.Key = deviceKey
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := msgbus.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serve starts a Server on cfg.Topic with the given services registered.
func serve(t testing.TB, brokers []string, cfg msgbus.ServerConfig, register func(*msgbus.Server)) *msgbus.Server {
	t.Helper()
	cfg.Brokers = brokers
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := msgbus.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	register(s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testCore is a CoreService whose methods the tests fill in. By default
// GetDevice answers with the device it was asked for.
type testCore struct {
	adapterv1.UnimplementedCoreServiceServer
	name      string
	getDevice func(context.Context, *adapterv1.DeviceRequest) (*voltv1.Device, error)
	reason    func(context.Context, *adapterv1.DeviceReasonUpdateRequest) (*emptypb.Empty, error)
}

func (c *testCore) GetDevice(ctx context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
	if c.getDevice != nil {
		return c.getDevice(ctx, r)
	}
	return &voltv1.Device{Id: r.GetDeviceId(), Reason: "served by " + c.name}, nil
}

func (c *testCore) DeviceReasonUpdate(ctx context.Context, r *adapterv1.DeviceReasonUpdateRequest) (*emptypb.Empty, error) {
	if c.reason != nil {
		return c.reason(ctx, r)
	}
	return &emptypb.Empty{}, nil
}

// eventually polls cond until it holds or d passes (nats-server's checkFor).
func eventually(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	wait := 5 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not after %v: %v", d, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
}
