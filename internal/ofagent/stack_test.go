package ofagent

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
	"github.com/openvolt/openvolt/msgbus"
)

// realStack is the whole system run in-process (internal/stack: embedded
// etcd, broker, core, one ponsim OLT with two ONUs, both adapters) with the
// OLT provisioned and active. The tests of this package share one: it takes
// seconds to start.
type realStack struct {
	addrs stack.Addrs
	cc    *grpc.ClientConn
	nbi   voltv1.VoltServiceClient
	olt   string
	ld    *voltv1.LogicalDevice
	nni   uint32
	unis  []uint32 // sorted
	dir   string
	stop  func()
}

var shared struct {
	once sync.Once
	s    *realStack
	err  error
}

// getStack returns the shared stack, starting it on first use.
func getStack(t testing.TB) *realStack {
	t.Helper()
	if testing.Short() {
		t.Skip("the real stack is skipped in -short mode")
	}
	shared.once.Do(func() { shared.s, shared.err = startStack() })
	if shared.err != nil {
		t.Fatalf("start the stack: %v", shared.err)
	}
	return shared.s
}

func stopSharedStack() {
	if shared.s != nil {
		shared.s.stop()
	}
}

func startStack() (*realStack, error) {
	dir, err := os.MkdirTemp("", "ofagent-stack-")
	if err != nil {
		return nil, err
	}
	logs := logging.Discard()
	if os.Getenv("OFAGENT_TEST_LOGS") != "" {
		logs, _ = logging.New(logging.Config{Level: os.Getenv("OFAGENT_TEST_LOGS"), Format: "text"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan stack.Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- stack.Run(ctx, stack.Config{
			DataDir: dir, NBI: "127.0.0.1:0", EtcdListen: "http://127.0.0.1:0", BrokerListen: "127.0.0.1:0",
			PonSims: []stack.PonSim{{Name: "oftest", GRPC: "127.0.0.1:0", PONPorts: 1, ONUsPerPON: 2}},
			Logs:    logs,
		}, func(a stack.Addrs) { ready <- a })
	}()
	s := &realStack{dir: dir}
	s.stop = func() {
		if s.cc != nil {
			s.cc.Close()
		}
		cancel()
		<-done
		os.RemoveAll(dir)
	}
	select {
	case s.addrs = <-ready:
	case err := <-done:
		cancel()
		os.RemoveAll(dir)
		return nil, err
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("stack did not start")
	}
	if s.cc, err = grpc.NewClient(s.addrs.NBI, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		s.stop()
		return nil, err
	}
	s.nbi = voltv1.NewVoltServiceClient(s.cc)
	pctx, pcancel := context.WithTimeout(ctx, 90*time.Second)
	defer pcancel()
	if s.olt, err = stack.Provision(pctx, s.nbi, s.addrs.PonSims[0]); err != nil {
		s.stop()
		return nil, err
	}
	if _, err := stack.WaitFor(pctx, s.nbi, 50*time.Millisecond, func(st stack.Status) bool {
		return st.ONUs == 2 && st.ActiveONUs == 2 && st.UNIPorts == 2 && st.NNIPorts == 1
	}); err != nil {
		s.stop()
		return nil, err
	}
	olt, err := s.nbi.GetDevice(pctx, &voltv1.ID{Id: s.olt})
	if err != nil {
		s.stop()
		return nil, err
	}
	if s.ld, err = s.nbi.GetLogicalDevice(pctx, &voltv1.ID{Id: olt.GetLogicalDeviceId()}); err != nil {
		s.stop()
		return nil, err
	}
	ports, err := s.nbi.ListLogicalDevicePorts(pctx, &voltv1.ID{Id: s.ld.GetId()})
	if err != nil {
		s.stop()
		return nil, err
	}
	for _, p := range ports.GetItems() {
		if p.GetRootPort() {
			s.nni = p.GetOfpPort().GetPortNo()
		} else {
			s.unis = append(s.unis, p.GetOfpPort().GetPortNo())
		}
	}
	sort.Slice(s.unis, func(i, j int) bool { return s.unis[i] < s.unis[j] })
	return s, nil
}

func (s *realStack) ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// agent runs an agent in front of the stack's NBI.
func (s *realStack) agent(t testing.TB, controllers ...string) *runningAgent {
	t.Helper()
	return startAgent(t, Config{Server: s.addrs.NBI, Listen: "127.0.0.1:0", Controllers: controllers, MaxBackoff: 500 * time.Millisecond})
}

// clearTables deletes every flow, group and meter of the logical device,
// now and when the test ends.
func (s *realStack) clearTables(t testing.TB) {
	t.Helper()
	clear := func() {
		ctx := s.ctx(t)
		if _, err := s.nbi.UpdateLogicalDeviceFlowTable(ctx, &voltv1.FlowTableUpdate{Id: s.ld.GetId(), FlowMod: &openflowv1.FlowMod{
			Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, TableId: 0xff, OutPort: 0xffffffff, OutGroup: 0xffffffff,
		}}); err != nil {
			t.Errorf("delete all flows: %v", err)
		}
		gs, _ := s.nbi.ListLogicalDeviceFlowGroups(ctx, &voltv1.ID{Id: s.ld.GetId()})
		for _, g := range gs.GetItems() {
			_, _ = s.nbi.UpdateLogicalDeviceFlowGroupTable(ctx, &voltv1.FlowGroupTableUpdate{Id: s.ld.GetId(), GroupMod: &openflowv1.GroupMod{
				Command: openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE, GroupId: g.GetDesc().GetGroupId()}})
		}
		ms, _ := s.nbi.ListLogicalDeviceMeters(ctx, &voltv1.ID{Id: s.ld.GetId()})
		for _, m := range ms.GetItems() {
			_, _ = s.nbi.UpdateLogicalDeviceMeterTable(ctx, &voltv1.MeterModUpdate{Id: s.ld.GetId(), MeterMod: &openflowv1.MeterMod{
				Command: openflowv1.MeterModCommand_METER_MOD_COMMAND_DELETE, MeterId: m.GetConfig().GetMeterId()}})
		}
	}
	clear()
	t.Cleanup(clear)
}

func (s *realStack) logicalFlows(t testing.TB) []*openflowv1.Flow {
	t.Helper()
	fl, err := s.nbi.ListLogicalDeviceFlows(s.ctx(t), &voltv1.ID{Id: s.ld.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	return fl.GetItems()
}

// deviceFlows counts the flows the core gave the OLT and each ONU.
func (s *realStack) deviceFlows(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	devs, err := s.nbi.ListDevices(s.ctx(t), &voltv1.ListDevicesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs.GetItems() {
		fl, err := s.nbi.ListDeviceFlows(s.ctx(t), &voltv1.ID{Id: d.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		out[d.GetId()] = len(fl.GetItems())
	}
	return out
}

// sendPacketIn has the core publish a packet-in from logical port n, as an
// adapter does: CoreService.SendPacketIn over the message bus.
func (s *realStack) sendPacketIn(t testing.TB, n uint32, frame []byte) {
	t.Helper()
	ctx := s.ctx(t)
	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: s.addrs.Brokers, Name: "ofagent-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cs := adapterv1.NewCoreServiceClient(conn.To(core.DefaultTopic))
	if _, err := cs.SendPacketIn(ctx, &adapterv1.PacketInRequest{DeviceId: s.olt, PortNo: n, Packet: frame}); err != nil {
		t.Fatalf("SendPacketIn: %v", err)
	}
}
