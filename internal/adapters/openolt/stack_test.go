// The tests of this package run the adapter against ponsim's openolt face
// through the real transports: the core on a real etcd and the embedded
// Kafka-protocol broker, the adapter over Kafka, ponsim on gRPC.
package openolt_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
	"github.com/openvolt/openvolt/logging"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
		goleak.IgnoreTopFunction("go.etcd.io/etcd/client/pkg/v3/logutil.(*MergeLogger).outputLoop"),
	)
}

// daemon is one part run in a goroutine: stop cancels it and waits.
type daemon struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func start(t testing.TB, name string, run func(ctx context.Context, ready func(string)) error) (*daemon, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{cancel: cancel, done: make(chan error, 1)}
	readyc := make(chan string, 1)
	go func() { d.done <- run(ctx, func(addr string) { readyc <- addr }) }()
	select {
	case addr := <-readyc:
		t.Cleanup(func() { d.stop(t, name) })
		return d, addr
	case err := <-d.done:
		cancel()
		t.Fatalf("%s stopped before it was ready: %v", name, err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("%s did not start", name)
	}
	return nil, ""
}

func (d *daemon) stop(t testing.TB, name string) {
	d.once.Do(func() {
		d.cancel()
		if err := <-d.done; err != nil {
			t.Errorf("%s stopped with %v", name, err)
		}
	})
}

// stack is a core on a real etcd and broker with the openolt adapter.
type stack struct {
	t       testing.TB
	logs    *logging.Registry
	brokers []string
	kv      kvstore.Store
	nbi     voltv1.VoltServiceClient
	core    *daemon
	adapter *daemon
	// direct is the adapter's AdapterService on its gRPC port.
	direct adapterv1.AdapterServiceClient
}

func newStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{t: t, logs: testLogs(t), kv: kvstoretest.NewEtcdStore(t)}
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s.brokers = b.Addrs()
	s.startCore()
	s.startAdapter()
	testkit.Eventually(t, "adapter registered", func() error {
		types, err := s.nbi.ListDeviceTypes(s.ctx(), &emptypb.Empty{})
		if err != nil {
			return err
		}
		if n := len(types.GetItems()); n != 1 {
			return fmt.Errorf("%d device types", n)
		}
		return nil
	})
	return s
}

func (s *stack) startCore() {
	s.t.Helper()
	var nbiAddr string
	s.core, nbiAddr = start(s.t, "core", func(ctx context.Context, ready func(string)) error {
		return core.Run(ctx, core.Config{NBI: "127.0.0.1:0", KV: s.kv, Brokers: s.brokers,
			AdapterTimeout: 10 * time.Second, Logs: s.logs, Ready: ready})
	})
	cc, err := grpc.NewClient(nbiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { cc.Close() })
	s.nbi = voltv1.NewVoltServiceClient(cc)
}

func (s *stack) startAdapter() {
	s.t.Helper()
	var addr string
	s.adapter, addr = start(s.t, "openolt adapter", func(ctx context.Context, ready func(string)) error {
		return openolt.Run(ctx, adapter.Config{Brokers: s.brokers, Logs: s.logs, Ready: ready},
			openolt.Options{KV: s.kv, HeartbeatInterval: 100 * time.Millisecond, DialTimeout: 2 * time.Second, NoONUAdapter: true})
	})
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { cc.Close() })
	s.direct = adapterv1.NewAdapterServiceClient(cc)
}

func testLogs(t testing.TB) *logging.Registry {
	level := os.Getenv("VOLT_E2E_LOG")
	if level == "" {
		level = "info"
	}
	reg, buf := logging.Capture(level)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range buf.Lines() {
				t.Log(l)
			}
		}
	})
	return reg
}

// olt is a ponsim with its openolt face on a reserved address.
type olt struct {
	s    *stack
	name string
	addr string
	cfg  ponsim.Config
	sim  *ponsim.Sim
	face *face.Server
	d    *daemon
	// statsEvery is how often the face sends port statistics (0: its
	// default).
	statsEvery time.Duration
}

func (s *stack) newOLT(name string, pons, onus int) *olt {
	return &olt{s: s, name: name, addr: testpeer.ReserveAddr(s.t),
		cfg: ponsim.Config{Name: name, PONPorts: pons, ONUsPerPON: onus, RebootDelay: 100 * time.Millisecond}}
}

func (p *olt) start() {
	p.s.t.Helper()
	sim, err := ponsim.New(p.cfg)
	if err != nil {
		p.s.t.Fatal(err)
	}
	f, err := face.Attach(sim, face.Config{StatsInterval: p.statsEvery})
	if err != nil {
		p.s.t.Fatal(err)
	}
	p.sim, p.face = sim, f
	var addr string
	p.d, addr = start(p.s.t, "ponsim "+p.name, func(ctx context.Context, ready func(string)) error {
		return sim.Serve(ctx, p.addr, p.s.logs, ready)
	})
	if addr != p.addr {
		p.s.t.Fatalf("ponsim %s listens on %s, want %s", p.name, addr, p.addr)
	}
}

func (p *olt) stop() { p.d.stop(p.s.t, "ponsim "+p.name) }

func (s *stack) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	s.t.Cleanup(cancel)
	return ctx
}

func (s *stack) device(id string) *voltv1.Device {
	s.t.Helper()
	d, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: id})
	if err != nil {
		s.t.Fatalf("get device %s: %v", id, err)
	}
	return d
}

func (s *stack) children(id string) []*voltv1.Device {
	s.t.Helper()
	kids, err := s.nbi.ListDevices(s.ctx(), &voltv1.ListDevicesRequest{ParentId: id})
	if err != nil {
		s.t.Fatalf("list children of %s: %v", id, err)
	}
	return kids.GetItems()
}

func (s *stack) create(addr string) string {
	s.t.Helper()
	d, err := s.nbi.CreateDevice(s.ctx(), &voltv1.Device{Type: openolt.DeviceType, HostAndPort: addr})
	if err != nil {
		s.t.Fatalf("create OLT %s: %v", addr, err)
	}
	if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: d.GetId()}); err != nil {
		s.t.Fatalf("enable OLT %s: %v", d.GetId(), err)
	}
	return d.GetId()
}

func state(d *voltv1.Device) string {
	return fmt.Sprintf("%s/%s/%s", d.GetAdminState(), d.GetOperStatus(), d.GetConnectStatus())
}

// waitActive waits until the OLT is ACTIVE and REACHABLE with its ports
// and onus children ACTIVE and REACHABLE.
func (s *stack) waitActive(oltID string, pons, onus int) {
	s.t.Helper()
	testkit.Eventually(s.t, "OLT "+oltID+" and its ONUs active", func() error {
		d := s.device(oltID)
		if d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE || d.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
			return fmt.Errorf("OLT %s (%s)", state(d), d.GetReason())
		}
		ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: oltID})
		if err != nil {
			return err
		}
		if len(ps.GetItems()) != pons+1 {
			return fmt.Errorf("%d ports, want %d", len(ps.GetItems()), pons+1)
		}
		return s.activeChildren(oltID, onus)
	})
}

func (s *stack) activeChildren(oltID string, want int) error {
	kids := s.children(oltID)
	active := 0
	for _, k := range kids {
		if k.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE &&
			k.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
			active++
		}
	}
	if len(kids) != want || active != want {
		return fmt.Errorf("%d children, %d active and reachable, want %d", len(kids), active, want)
	}
	return nil
}

// resources returns the ids the adapter holds for oltID, as
// "<pon>/<pool>/<id>" → owner.
func (s *stack) resources(oltID string) map[string]string {
	s.t.Helper()
	prefix := "/volt/openolt/" + oltID + "/resources/"
	kvs, err := s.kv.List(s.ctx(), prefix)
	if err != nil {
		s.t.Fatal(err)
	}
	out := make(map[string]string)
	for _, kv := range kvs {
		out[strings.TrimPrefix(kv.Key, prefix)] = string(kv.Value)
	}
	return out
}
