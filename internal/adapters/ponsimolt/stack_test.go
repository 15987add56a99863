// The tests of this package run the whole system through its real
// transports: the core (core.Run) on a real etcd and the embedded
// Kafka-protocol broker, the ponsim simulator on gRPC, and the ponsim_olt
// and ponsim_onu adapters over Kafka.
package ponsimolt_test

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
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/adapters/ponsimonu"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
	"github.com/openvolt/openvolt/logging"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// etcd's and grpc's process-wide background goroutines.
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

// start runs run until stop; it returns once ready was called, or fails
// the test when run returns first.
func start(t *testing.T, name string, run func(ctx context.Context, ready func(string)) error) (*daemon, string) {
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

func (d *daemon) stop(t *testing.T, name string) {
	d.once.Do(func() {
		d.cancel()
		if err := <-d.done; err != nil {
			t.Errorf("%s stopped with %v", name, err)
		}
	})
}

// stack is a core on a real etcd and broker, with both ponsim adapters.
type stack struct {
	t       *testing.T
	logs    *logging.Registry
	brokers []string
	kv      kvstore.Store
	nbi     voltv1.VoltServiceClient
	nbiAddr string
	core    *daemon
	olt     *daemon // the ponsim_olt adapter
	onu     *daemon // the ponsim_onu adapter
}

// statsInterval is how often the adapters report counters in tests.
const statsInterval = 200 * time.Millisecond

// newStack starts etcd, a broker, the core and both adapters.
func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{t: t, logs: testLogs(t), kv: kvstoretest.NewEtcdStore(t)}
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s.brokers = b.Addrs()

	s.startCore()
	s.olt = s.startAdapter("ponsim_olt", ponsimolt.Run)
	s.onu = s.startAdapter("ponsim_onu", ponsimonu.Run)
	s.waitRegistered()
	return s
}

// waitRegistered waits until the core knows both device types.
func (s *stack) waitRegistered() {
	s.t.Helper()
	testkit.Eventually(s.t, "adapters registered", func() error {
		types, err := s.nbi.ListDeviceTypes(s.ctx(), &emptypb.Empty{})
		if err != nil {
			return err
		}
		if n := len(types.GetItems()); n != 2 {
			return fmt.Errorf("%d device types", n)
		}
		return nil
	})
}

// startCore starts a core on the stack's store and broker and points the
// NBI client at it.
func (s *stack) startCore() {
	s.t.Helper()
	var nbiAddr string
	s.core, nbiAddr = start(s.t, "core", func(ctx context.Context, ready func(string)) error {
		return core.Run(ctx, core.Config{
			NBI:            "127.0.0.1:0",
			KV:             s.kv,
			Brokers:        s.brokers,
			AdapterTimeout: 10 * time.Second,
			Logs:           s.logs,
			Ready:          ready,
		})
	})
	cc, err := grpc.NewClient(nbiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { cc.Close() })
	s.nbi = voltv1.NewVoltServiceClient(cc)
	s.nbiAddr = nbiAddr
}

func (s *stack) startAdapter(name string, run func(context.Context, adapter.Config) error) *daemon {
	d, _ := start(s.t, name+" adapter", func(ctx context.Context, ready func(string)) error {
		return run(ctx, adapter.Config{Brokers: s.brokers, Logs: s.logs, Ready: ready, StatsInterval: statsInterval})
	})
	return d
}

// testLogs returns a registry whose lines go to the test log when the test
// fails (VOLT_E2E_LOG=debug for more).
func testLogs(t *testing.T) *logging.Registry {
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

// sim is a ponsim on a fixed address that can stop and start again.
type sim struct {
	s    *stack
	name string
	cfg  ponsim.Config
	addr string
	d    *daemon
}

// newSim returns a ponsim with pons × onus ONUs on an address reserved for
// the test (testpeer.ReserveAddr: no one else takes it while ponsim is not
// started or stopped), not started.
func (s *stack) newSim(name string, pons, onus int) *sim {
	return &sim{s: s, name: name, addr: testpeer.ReserveAddr(s.t), cfg: ponsim.Config{Name: name, PONPorts: pons, ONUsPerPON: onus, RebootDelay: 100 * time.Millisecond}}
}

func (p *sim) start() {
	p.s.t.Helper()
	var addr string
	p.d, addr = start(p.s.t, "ponsim "+p.name, func(ctx context.Context, ready func(string)) error {
		return ponsim.Serve(ctx, p.cfg, p.addr, p.s.logs, ready)
	})
	if addr != p.addr {
		p.s.t.Fatalf("ponsim %s listens on %s, want %s", p.name, addr, p.addr)
	}
}

func (p *sim) stop() { p.d.stop(p.s.t, "ponsim "+p.name) }

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

func (s *stack) ports(id string) []*voltv1.Port {
	s.t.Helper()
	ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: id})
	if err != nil {
		s.t.Fatalf("ports of %s: %v", id, err)
	}
	return ps.GetItems()
}

// createOLT creates a ponsim_olt device for addr and enables it.
func (s *stack) createOLT(addr string) string {
	s.t.Helper()
	d, err := s.nbi.CreateDevice(s.ctx(), &voltv1.Device{Type: ponsimolt.DeviceType, HostAndPort: addr})
	if err != nil {
		s.t.Fatalf("create OLT %s: %v", addr, err)
	}
	if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: d.GetId()}); err != nil {
		s.t.Fatalf("enable OLT %s: %v", d.GetId(), err)
	}
	return d.GetId()
}

const ofppsLive = 4

// liveUNIs counts the live logical ports of a logical device.
func (s *stack) livePorts(ldID string) (live, all int) {
	s.t.Helper()
	ps, err := s.nbi.ListLogicalDevicePorts(s.ctx(), &voltv1.ID{Id: ldID})
	if err != nil {
		s.t.Fatalf("logical ports of %s: %v", ldID, err)
	}
	for _, p := range ps.GetItems() {
		if p.GetOfpPort().GetState()&ofppsLive != 0 {
			live++
		}
	}
	return live, len(ps.GetItems())
}

// waitActive waits until the OLT is ACTIVE and REACHABLE with onus
// children ACTIVE and a logical device with a live port for its NNI and
// each UNI; it returns the logical device id.
func (s *stack) waitActive(oltID string, onus int) string {
	s.t.Helper()
	var ldID string
	testkit.Eventually(s.t, "OLT "+oltID+" and its ONUs active", func() error {
		olt := s.device(oltID)
		if olt.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE ||
			olt.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE || olt.GetLogicalDeviceId() == "" {
			return fmt.Errorf("OLT %s/%s/%s (%s)", olt.GetAdminState(), olt.GetOperStatus(), olt.GetConnectStatus(), olt.GetReason())
		}
		if err := s.activeChildren(oltID, onus); err != nil {
			return err
		}
		ldID = olt.GetLogicalDeviceId()
		if live, all := s.livePorts(ldID); live != onus+1 || all != onus+1 {
			return fmt.Errorf("%d of %d logical ports live, want %d", live, all, onus+1)
		}
		return nil
	})
	return ldID
}

func (s *stack) activeChildren(oltID string, want int) error {
	kids := s.children(oltID)
	active := 0
	for _, k := range kids {
		if k.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED &&
			k.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE &&
			k.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
			active++
		}
	}
	if len(kids) != want || active != want {
		return fmt.Errorf("%d children, %d active and reachable, want %d", len(kids), active, want)
	}
	return nil
}

// mentioning returns the keys (and values) that mention any of ids.
func (s *stack) mentioning(ids ...string) []string {
	s.t.Helper()
	kvs, err := s.kv.List(s.ctx(), "/volt/")
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, kv := range kvs {
		for _, id := range ids {
			if strings.Contains(kv.Key, id) || strings.Contains(string(kv.Value), id) {
				out = append(out, kv.Key)
				break
			}
		}
	}
	return out
}
