package core_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
	"github.com/openvolt/openvolt/internal/testkit"
)

// stack is a core with a real broker and a real etcd.
type stack struct {
	t       *testing.T
	brokers []string
	kv      kvstore.Store
	nbi     voltv1.VoltServiceClient
	stop    func()
}

func startBroker(t testing.TB) []string {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.Addrs()
}

// startCore runs a core on kv and brokers and returns an NBI client and a
// function that stops the core and waits for it.
func startCore(t testing.TB, kv kvstore.Store, brokers []string, adapterTimeout time.Duration) (voltv1.VoltServiceClient, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- core.Run(ctx, core.Config{
			NBI:            "127.0.0.1:0",
			KV:             kv,
			Brokers:        brokers,
			AdapterTimeout: adapterTimeout,
			Ready:          func(addr string) { ready <- addr },
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("core stopped: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("core did not start")
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cc.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("core stopped with %v", err)
		}
	}
	t.Cleanup(stop)
	return voltv1.NewVoltServiceClient(cc), stop
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{t: t, brokers: startBroker(t), kv: kvstoretest.NewEtcdStore(t)}
	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)
	return s
}

// subscribe opens a change-event stream and waits until the core has it in
// place, so no event published after it returns is missed.
func (s *stack) subscribe(c context.Context, req *voltv1.ReceiveChangeEventsRequest) grpc.ServerStreamingClient[voltv1.Event] {
	s.t.Helper()
	events, err := s.nbi.ReceiveChangeEvents(c, req)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := events.Header(); err != nil {
		s.t.Fatalf("event stream: %v", err)
	}
	return events
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func (s *stack) device(id string) *voltv1.Device {
	d, err := s.nbi.GetDevice(ctx(s.t), &voltv1.ID{Id: id})
	if err != nil {
		s.t.Fatalf("get device %s: %v", id, err)
	}
	return d
}

func (s *stack) createOLT(addr string) string {
	d, err := s.nbi.CreateDevice(ctx(s.t), &voltv1.Device{Type: "test_olt", HostAndPort: addr})
	if err != nil {
		s.t.Fatalf("create: %v", err)
	}
	return d.GetId()
}

// waitActive waits until the OLT and its onus children are ACTIVE and its
// logical device has 1 NNI and onus UNI ports; it returns the logical
// device id.
func (s *stack) waitActive(oltID string, onus int) string {
	var ldID string
	testkit.Eventually(s.t, "OLT and ONUs active with logical ports", func() error {
		olt := s.device(oltID)
		if olt.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE || olt.GetLogicalDeviceId() == "" {
			return fmt.Errorf("olt %s", olt.GetOperStatus())
		}
		kids, err := s.nbi.ListDevices(ctx(s.t), &voltv1.ListDevicesRequest{ParentId: oltID})
		if err != nil {
			return err
		}
		active := 0
		for _, k := range kids.GetItems() {
			if k.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE && k.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED {
				active++
			}
		}
		if len(kids.GetItems()) != onus || active != onus {
			return fmt.Errorf("%d children, %d active, want %d", len(kids.GetItems()), active, onus)
		}
		ports, err := s.nbi.ListLogicalDevicePorts(ctx(s.t), &voltv1.ID{Id: olt.GetLogicalDeviceId()})
		if err != nil {
			return err
		}
		if n := len(ports.GetItems()); n != onus+1 {
			return fmt.Errorf("%d logical ports, want %d", n, onus+1)
		}
		ldID = olt.GetLogicalDeviceId()
		return nil
	})
	return ldID
}

const ofppsLive = 4

func (s *stack) livePorts(ldID string) int {
	ports, err := s.nbi.ListLogicalDevicePorts(ctx(s.t), &voltv1.ID{Id: ldID})
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, p := range ports.GetItems() {
		if p.GetOfpPort().GetState()&ofppsLive != 0 {
			n++
		}
	}
	return n
}

func TestLifecycle(t *testing.T) {
	s := newStack(t)
	const onus = 4
	events := s.subscribe(ctx(t), &voltv1.ReceiveChangeEventsRequest{})
	oltAd := startAdapter(t, s.brokers, "test_olt", onus, nil)
	onuAd := startAdapter(t, s.brokers, "test_onu", 0, nil)

	id := s.createOLT("10.0.0.1:50060")
	if d := s.device(id); d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_PREPROVISIONED {
		t.Fatalf("created device is %s, want PREPROVISIONED", d.GetAdminState())
	}
	// The first events on the stream are the creation.
	ev, err := events.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ev.GetDevice().GetKind() != voltv1.ChangeKind_CHANGE_KIND_ADDED || ev.GetDeviceId() != id {
		t.Fatalf("first event %v, want device %s added", ev, id)
	}

	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	ldID := s.waitActive(id, onus)
	ld, err := s.nbi.GetLogicalDevice(ctx(t), &voltv1.ID{Id: ldID})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ld.GetDatapathId(), uint64(0x0a0000000001); got != want {
		t.Errorf("datapath id %#x, want %#x (from the OLT MAC)", got, want)
	}
	if n := s.livePorts(ldID); n != onus+1 {
		t.Errorf("%d live logical ports, want %d", n, onus+1)
	}

	// Disable cascades to the children and takes every logical port down.
	if _, err := s.nbi.DisableDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	kids, _ := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{ParentId: id})
	for _, k := range kids.GetItems() {
		if k.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED {
			t.Errorf("child %s is %s after disabling its parent", k.GetId(), k.GetAdminState())
		}
	}
	if n := s.livePorts(ldID); n != 0 {
		t.Errorf("%d live logical ports after disable, want 0", n)
	}
	if got := onuAd.callCount("disable"); got != onus {
		t.Errorf("ONU adapter saw %d disables, want %d", got, onus)
	}
	// Re-enable brings them back.
	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	if n := s.livePorts(ldID); n != onus+1 {
		t.Errorf("%d live logical ports after re-enable, want %d", n, onus+1)
	}

	// A rebooted ONU's UNI goes and comes back.
	onu := kids.GetItems()[0].GetId()
	if _, err := s.nbi.RebootDevice(ctx(t), &voltv1.ID{Id: onu}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "ONU back after reboot", func() error {
		if onuAd.callCount("reboot") != 1 {
			return fmt.Errorf("reboot not seen")
		}
		if d := s.device(onu); d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE {
			return fmt.Errorf("onu %s", d.GetOperStatus())
		}
		if n := s.livePorts(ldID); n != onus+1 {
			return fmt.Errorf("%d live ports", n)
		}
		return nil
	})

	// Delete removes the children, the logical device and every KV entry.
	if _, err := s.nbi.DeleteDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.nbi.GetLogicalDevice(ctx(t), &voltv1.ID{Id: ldID}); status.Code(err) != codes.NotFound {
		t.Errorf("logical device after delete: %v, want NotFound", err)
	}
	all, _ := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{})
	if len(all.GetItems()) != 0 {
		t.Errorf("%d devices left after delete", len(all.GetItems()))
	}
	kvs, err := s.kv.List(ctx(t), "/volt/")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		if !strings.HasPrefix(kv.Key, "/volt/adapters/") && !strings.HasPrefix(kv.Key, "/volt/device_types/") {
			t.Errorf("left in the store after delete: %s", kv.Key)
		}
	}
	if oltAd.callCount("delete") != 1 || onuAd.callCount("delete") != onus {
		t.Errorf("adapters saw %d OLT and %d ONU deletes, want 1 and %d", oltAd.callCount("delete"), onuAd.callCount("delete"), onus)
	}
}

// snapshot is everything the NBI shows, for comparing across restarts.
func (s *stack) snapshot() []proto.Message {
	var out []proto.Message
	devs, err := s.nbi.ListDevices(ctx(s.t), &voltv1.ListDevicesRequest{})
	if err != nil {
		s.t.Fatal(err)
	}
	out = append(out, devs)
	for _, d := range devs.GetItems() {
		ports, err := s.nbi.ListDevicePorts(ctx(s.t), &voltv1.ID{Id: d.GetId()})
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, ports)
	}
	lds, err := s.nbi.ListLogicalDevices(ctx(s.t), &emptypb.Empty{})
	if err != nil {
		s.t.Fatal(err)
	}
	out = append(out, lds)
	for _, ld := range lds.GetItems() {
		ports, err := s.nbi.ListLogicalDevicePorts(ctx(s.t), &voltv1.ID{Id: ld.GetId()})
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, ports)
	}
	return out
}

func TestRestartRecovery(t *testing.T) {
	s := newStack(t)
	const onus = 3
	oltAd := startAdapter(t, s.brokers, "test_olt", onus, nil)
	startAdapter(t, s.brokers, "test_onu", 0, nil)
	id := s.createOLT("10.0.0.2:50060")
	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	s.waitActive(id, onus)
	pre := s.createOLT("10.0.0.3:50060") // stays pre-provisioned
	before := s.snapshot()

	s.stop()
	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)
	// The restarted core asks the adapters to reconcile what they adopted
	// (not the pre-provisioned device); their answers change nothing.
	testkit.Eventually(t, "reconcile after restart", func() error {
		if oltAd.reconcileCount(id) == 0 {
			return fmt.Errorf("OLT not reconciled")
		}
		return nil
	})
	if oltAd.reconcileCount(pre) != 0 {
		t.Errorf("pre-provisioned device was reconciled")
	}
	s.waitActive(id, onus)
	after := s.snapshot()
	if len(before) != len(after) {
		t.Fatalf("snapshot sizes differ: %d before, %d after", len(before), len(after))
	}
	for i := range before {
		if !proto.Equal(stripTimes(before[i]), stripTimes(after[i])) {
			t.Errorf("state differs after restart:\nbefore %v\nafter  %v", before[i], after[i])
		}
	}
}

// stripTimes clears update times, which reconcile may legitimately touch.
func stripTimes(m proto.Message) proto.Message {
	m = proto.Clone(m)
	if devs, ok := m.(*voltv1.Devices); ok {
		for _, d := range devs.GetItems() {
			d.Updated = nil
		}
	}
	return m
}
