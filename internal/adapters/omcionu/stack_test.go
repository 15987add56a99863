// The tests of this package run the adapter against ponsim's openolt face
// (OMCI simulator included) through the real transports: the core on a real
// etcd and the embedded Kafka-protocol broker, the openolt and omci_onu
// adapters over Kafka, ponsim on gRPC.
package omcionu_test

import (
	"context"
	"fmt"
	"os"
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
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
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

// stack is a core on a real etcd and broker with the openolt and omci_onu
// adapters.
type stack struct {
	t       testing.TB
	logs    *logging.Registry
	brokers []string
	kv      kvstore.Store
	nbi     voltv1.VoltServiceClient
	onuOpts omcionu.Options
	onuAd   *daemon
	// olt is the openolt adapter's AdapterService on its gRPC port.
	olt adapterv1.AdapterServiceClient
}

func newStack(t testing.TB, onuOpts omcionu.Options) *stack {
	return newStackHB(t, onuOpts, 200*time.Millisecond)
}

// newStackHB is newStack with the OLT's heartbeat interval.
func newStackHB(t testing.TB, onuOpts omcionu.Options, heartbeat time.Duration) *stack {
	t.Helper()
	s := &stack{t: t, logs: testLogs(t), kv: kvstoretest.NewEtcdStore(t)}
	onuOpts.KV = s.kv
	s.onuOpts = onuOpts
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s.brokers = b.Addrs()
	var nbiAddr string
	_, nbiAddr = start(t, "core", func(ctx context.Context, ready func(string)) error {
		return core.Run(ctx, core.Config{NBI: "127.0.0.1:0", KV: s.kv, Brokers: s.brokers,
			AdapterTimeout: 10 * time.Second, Logs: s.logs, Ready: ready})
	})
	cc, err := grpc.NewClient(nbiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	s.nbi = voltv1.NewVoltServiceClient(cc)
	_, oltAddr := start(t, "openolt adapter", func(ctx context.Context, ready func(string)) error {
		return openolt.Run(ctx, adapter.Config{Brokers: s.brokers, Logs: s.logs, Ready: ready},
			openolt.Options{KV: s.kv, HeartbeatInterval: heartbeat, DialTimeout: 2 * time.Second})
	})
	occ, err := grpc.NewClient(oltAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { occ.Close() })
	s.olt = adapterv1.NewAdapterServiceClient(occ)
	s.startONUAdapter()
	testkit.Eventually(t, "adapters registered", func() error {
		types, err := s.nbi.ListDeviceTypes(s.ctx(), &emptypb.Empty{})
		if err != nil {
			return err
		}
		if n := len(types.GetItems()); n != 2 {
			return fmt.Errorf("%d device types", n)
		}
		return nil
	})
	return s
}

func (s *stack) startONUAdapter() {
	s.onuAd, _ = start(s.t, "omci_onu adapter", func(ctx context.Context, ready func(string)) error {
		return omcionu.Run(ctx, adapter.Config{Brokers: s.brokers, Logs: s.logs, Ready: ready}, s.onuOpts)
	})
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

// sim is a ponsim with its openolt face.
type sim struct {
	addr string
	sim  *ponsim.Sim
	face *face.Server
}

func (s *stack) newSim(pons, onus, unis int, dropRate float64) *sim {
	s.t.Helper()
	return s.newSimWith(pons, onus, face.Config{UNIsPerONU: unis, OMCIDropRate: dropRate})
}

// newSimWith is newSim with the openolt face's configuration.
func (s *stack) newSimWith(pons, onus int, fc face.Config) *sim {
	s.t.Helper()
	p := &sim{addr: testpeer.ReserveAddr(s.t)}
	ps, err := ponsim.New(ponsim.Config{Name: "olt", PONPorts: pons, ONUsPerPON: onus, RebootDelay: 100 * time.Millisecond})
	if err != nil {
		s.t.Fatal(err)
	}
	f, err := face.Attach(ps, fc)
	if err != nil {
		s.t.Fatal(err)
	}
	p.sim, p.face = ps, f
	start(s.t, "ponsim", func(ctx context.Context, ready func(string)) error {
		return ps.Serve(ctx, p.addr, s.logs, ready)
	})
	return p
}

func (s *stack) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	s.t.Cleanup(cancel)
	return ctx
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

func (s *stack) children(id string) []*voltv1.Device {
	s.t.Helper()
	kids, err := s.nbi.ListDevices(s.ctx(), &voltv1.ListDevicesRequest{ParentId: id})
	if err != nil {
		s.t.Fatalf("list children of %s: %v", id, err)
	}
	return kids.GetItems()
}

// waitONUs waits until want ONUs of oltID are ACTIVE and REACHABLE with
// reason r and the logical device has unis UNI logical ports per ONU.
func (s *stack) waitONUs(oltID string, want, unis int, r string) {
	s.t.Helper()
	testkit.Eventually(s.t, "ONUs active with UNI logical ports", func() error {
		kids := s.children(oltID)
		active := 0
		for _, k := range kids {
			if k.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE &&
				k.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE && k.GetReason() == r {
				active++
			}
		}
		if len(kids) != want || active != want {
			ex := ""
			if len(kids) > 0 {
				ex = fmt.Sprintf(" (e.g. %s/%s %q)", kids[0].GetOperStatus(), kids[0].GetConnectStatus(), kids[0].GetReason())
			}
			return fmt.Errorf("%d children, %d active with reason %q, want %d%s", len(kids), active, r, want, ex)
		}
		return s.uniLogicalPorts(oltID, want*unis)
	})
}

func (s *stack) uniLogicalPorts(oltID string, want int) error {
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		return err
	}
	if olt.GetLogicalDeviceId() == "" {
		return fmt.Errorf("OLT %s has no logical device", oltID)
	}
	ps, err := s.nbi.ListLogicalDevicePorts(s.ctx(), &voltv1.ID{Id: olt.GetLogicalDeviceId()})
	if err != nil {
		return err
	}
	n := 0
	for _, p := range ps.GetItems() {
		if !p.GetRootPort() {
			n++
		}
	}
	if n != want {
		return fmt.Errorf("%d UNI logical ports, want %d", n, want)
	}
	return nil
}
