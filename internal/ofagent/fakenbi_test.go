package ofagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testkit"
)

// fakeNBI is a core's NBI with just enough behind it for the agent: logical
// devices and ports set by the test, flow, group and meter tables that take
// mods simply (add replaces the same table, priority and match; deletes
// match by table and, when strict, priority and match), event and
// packet-in streams the test publishes to, and a record of packet-outs and
// port changes. Hooks let a test fail or hold a mod.
type fakeNBI struct {
	voltv1.UnimplementedVoltServiceServer

	mu         sync.Mutex // guards everything below
	lds        []*voltv1.LogicalDevice
	ports      map[string][]*voltv1.LogicalPort
	flows      map[string][]*openflowv1.Flow
	groups     map[string][]*openflowv1.Group
	meters     map[string][]*openflowv1.Meter
	flowCalls  []*voltv1.FlowTableUpdate // in the order they were applied
	groupCalls []*voltv1.FlowGroupTableUpdate
	packetOuts []*voltv1.PacketOut
	portCalls  []string
	eventSubs  map[chan *voltv1.Event]struct{}
	pinSubs    map[chan *voltv1.PacketIn]struct{}
	inFlight   int   // flow-mods received and not yet done
	batches    []int // the size of each batch call

	// flowHook, when set, runs before a flow-mod is applied; an error
	// refuses it.
	flowHook func(ctx context.Context, req *voltv1.FlowTableUpdate) error
	// countOnly makes flow-mods only count (benchmarks).
	countOnly bool
	flowCount int
}

func newFakeNBI() *fakeNBI {
	return &fakeNBI{
		ports:     map[string][]*voltv1.LogicalPort{},
		flows:     map[string][]*openflowv1.Flow{},
		groups:    map[string][]*openflowv1.Group{},
		meters:    map[string][]*openflowv1.Meter{},
		eventSubs: map[chan *voltv1.Event]struct{}{},
		pinSubs:   map[chan *voltv1.PacketIn]struct{}{},
	}
}

// serve runs the fake on a loopback port until the test ends.
func (f *fakeNBI) serve(t testing.TB) string {
	t.Helper()
	addr, _ := f.serveAt(t, "127.0.0.1:0")
	return addr
}

// serveAt runs the fake on addr until the test ends or stop is called.
func (f *fakeNBI) serveAt(t testing.TB, addr string) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	voltv1.RegisterVoltServiceServer(srv, f)
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

// testLD is a logical device like the core's: two tables, an NNI and two
// UNIs.
func testLD(id string, dpid uint64) (*voltv1.LogicalDevice, []*voltv1.LogicalPort) {
	ld := &voltv1.LogicalDevice{
		Id: id, DatapathId: dpid, RootDeviceId: "olt-" + id,
		Desc: &openflowv1.Desc{MfrDesc: "OpenVOLT", HwDesc: "ponsim", SwDesc: "test", SerialNum: "S" + id, DpDesc: id},
		SwitchFeatures: &openflowv1.SwitchFeatures{
			DatapathId: dpid, NBuffers: 256, NTables: 2, Capabilities: 0xf,
		},
	}
	port := func(no uint32, name string, root bool) *voltv1.LogicalPort {
		return &voltv1.LogicalPort{
			Id: name, LogicalDeviceId: id, RootPort: root, DeviceId: "dev", DevicePortNo: no,
			OfpPort: &openflowv1.Port{
				PortNo: no, Name: name, HwAddr: []byte{0, 0, 0, 0, byte(no >> 8), byte(no)},
				State: 4, Curr: 1<<5 | 1<<12, CurrSpeed: 1000000, MaxSpeed: 1000000,
			},
			Stats: &openflowv1.PortStats{PortNo: no, RxPackets: uint64(no), TxPackets: 2 * uint64(no)},
		}
	}
	return ld, []*voltv1.LogicalPort{port(1, "nni-1", true), port(16, "uni-16", false), port(32, "uni-32", false)}
}

func (f *fakeNBI) addLD(ld *voltv1.LogicalDevice, ports []*voltv1.LogicalPort) {
	f.mu.Lock()
	f.lds = append(f.lds, ld)
	f.ports[ld.GetId()] = ports
	f.mu.Unlock()
	f.publish(&voltv1.Event{LogicalDeviceId: ld.GetId(), Payload: &voltv1.Event_LogicalDevice{
		LogicalDevice: &voltv1.LogicalDeviceChange{Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED, LogicalDevice: ld}}})
}

func (f *fakeNBI) removeLD(id string) {
	f.mu.Lock()
	var ld *voltv1.LogicalDevice
	for i, l := range f.lds {
		if l.GetId() == id {
			ld = l
			f.lds = append(f.lds[:i], f.lds[i+1:]...)
			break
		}
	}
	delete(f.ports, id)
	f.mu.Unlock()
	f.publish(&voltv1.Event{LogicalDeviceId: id, Payload: &voltv1.Event_LogicalDevice{
		LogicalDevice: &voltv1.LogicalDeviceChange{Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, LogicalDevice: ld}}})
}

func (f *fakeNBI) publish(ev *voltv1.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.eventSubs {
		ch <- ev
	}
}

// publishPacketIn sends pi on the packet-in streams open now: like the
// core, the fake keeps nothing for a stream opened later.
func (f *fakeNBI) publishPacketIn(pi *voltv1.PacketIn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.pinSubs {
		ch <- pi
	}
}

// waitPacketInStreams waits until n packet-in streams are open. The agent
// is ready once it has read the logical devices; its packet-in stream
// opens beside that and may not be in place yet.
func (f *fakeNBI) waitPacketInStreams(t testing.TB, n int) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%d packet-in streams", n), func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.pinSubs) != n {
			return fmt.Errorf("%d packet-in streams open", len(f.pinSubs))
		}
		return nil
	})
}

func (f *fakeNBI) known(id string) error {
	for _, l := range f.lds {
		if l.GetId() == id {
			return nil
		}
	}
	return status.Errorf(codes.NotFound, "logical device %q not found", id)
}

func (f *fakeNBI) ListLogicalDevices(context.Context, *emptypb.Empty) (*voltv1.LogicalDevices, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &voltv1.LogicalDevices{Items: append([]*voltv1.LogicalDevice(nil), f.lds...)}, nil
}

func (f *fakeNBI) GetLogicalDevice(_ context.Context, req *voltv1.ID) (*voltv1.LogicalDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.lds {
		if l.GetId() == req.GetId() {
			return l, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "logical device %q not found", req.GetId())
}

func (f *fakeNBI) ListLogicalDevicePorts(_ context.Context, req *voltv1.ID) (*voltv1.LogicalPorts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.known(req.GetId()); err != nil {
		return nil, err
	}
	return &voltv1.LogicalPorts{Items: append([]*voltv1.LogicalPort(nil), f.ports[req.GetId()]...)}, nil
}

func (f *fakeNBI) ListLogicalDeviceFlows(_ context.Context, req *voltv1.ID) (*openflowv1.Flows, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &openflowv1.Flows{Items: append([]*openflowv1.Flow(nil), f.flows[req.GetId()]...)}, nil
}

func (f *fakeNBI) ListLogicalDeviceFlowGroups(_ context.Context, req *voltv1.ID) (*openflowv1.Groups, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &openflowv1.Groups{Items: append([]*openflowv1.Group(nil), f.groups[req.GetId()]...)}, nil
}

func (f *fakeNBI) ListLogicalDeviceMeters(_ context.Context, req *voltv1.ID) (*openflowv1.Meters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &openflowv1.Meters{Items: append([]*openflowv1.Meter(nil), f.meters[req.GetId()]...)}, nil
}

func (f *fakeNBI) UpdateLogicalDeviceFlowTable(ctx context.Context, req *voltv1.FlowTableUpdate) (*emptypb.Empty, error) {
	f.mu.Lock()
	f.inFlight++
	f.mu.Unlock()
	if err := f.flowMod(ctx, req); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// UpdateLogicalDeviceFlowTables applies a batch one mod after the other, as
// the core does; every mod of it is in flight from the start of the call.
func (f *fakeNBI) UpdateLogicalDeviceFlowTables(ctx context.Context, req *voltv1.FlowTableUpdates) (*voltv1.FlowTableUpdateResults, error) {
	f.mu.Lock()
	if f.countOnly {
		f.flowCount += len(req.GetFlowMods())
		f.mu.Unlock()
		return &voltv1.FlowTableUpdateResults{}, nil
	}
	if err := f.known(req.GetId()); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	f.inFlight += len(req.GetFlowMods())
	f.batches = append(f.batches, len(req.GetFlowMods()))
	f.mu.Unlock()
	res := &voltv1.FlowTableUpdateResults{}
	for i, fm := range req.GetFlowMods() {
		if err := f.flowMod(ctx, &voltv1.FlowTableUpdate{Id: req.GetId(), FlowMod: fm}); err != nil {
			st := status.Convert(err).Proto()
			res.Failures = append(res.Failures, &voltv1.FlowModFailure{
				Index: uint32(i), Status: &voltv1.Status{Code: st.GetCode(), Message: st.GetMessage(), Details: st.GetDetails()},
			})
		}
	}
	return res, nil
}

// flowMod applies one flow-mod that already counts as in flight.
func (f *fakeNBI) flowMod(ctx context.Context, req *voltv1.FlowTableUpdate) error {
	f.mu.Lock()
	hook := f.flowHook
	f.mu.Unlock()
	var err error
	if hook != nil {
		err = hook(ctx, req)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if err != nil {
		return err
	}
	if f.countOnly {
		f.flowCount++
		return nil
	}
	if err := f.known(req.GetId()); err != nil {
		return err
	}
	f.flowCalls = append(f.flowCalls, req)
	fm := req.GetFlowMod()
	same := func(fl *openflowv1.Flow) bool {
		return fl.GetTableId() == fm.GetTableId() && fl.GetPriority() == fm.GetPriority() && proto.Equal(fl.GetMatch(), fm.GetMatch())
	}
	flows := f.flows[req.GetId()]
	keep := flows[:0]
	switch fm.GetCommand() {
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD:
		for _, fl := range flows {
			if !same(fl) {
				keep = append(keep, fl)
			}
		}
		keep = append(keep, &openflowv1.Flow{
			Id: uint64(len(f.flowCalls)), TableId: fm.GetTableId(), Priority: fm.GetPriority(), Cookie: fm.GetCookie(),
			Flags: fm.GetFlags(), IdleTimeout: fm.GetIdleTimeout(), HardTimeout: fm.GetHardTimeout(),
			Match: fm.GetMatch(), Instructions: fm.GetInstructions(), PacketCount: 7, ByteCount: 700,
		})
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT:
		for _, fl := range flows {
			if !same(fl) {
				keep = append(keep, fl)
			}
		}
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE:
		for _, fl := range flows {
			if fm.GetTableId() != 0xff && fl.GetTableId() != fm.GetTableId() {
				keep = append(keep, fl)
			}
		}
	default:
		return status.Error(codes.InvalidArgument, "flow-mod command not supported by the fake")
	}
	f.flows[req.GetId()] = keep
	return nil
}

func (f *fakeNBI) UpdateLogicalDeviceFlowGroupTable(_ context.Context, req *voltv1.FlowGroupTableUpdate) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groupCalls = append(f.groupCalls, req)
	gm := req.GetGroupMod()
	gs := f.groups[req.GetId()]
	for i, g := range gs {
		if g.GetDesc().GetGroupId() == gm.GetGroupId() {
			if gm.GetCommand() == openflowv1.GroupModCommand_GROUP_MOD_COMMAND_ADD {
				return nil, status.Errorf(codes.AlreadyExists, "logical device %s: group %d already exists", req.GetId(), gm.GetGroupId())
			}
			f.groups[req.GetId()] = append(gs[:i], gs[i+1:]...)
			break
		}
	}
	if gm.GetCommand() != openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE {
		f.groups[req.GetId()] = append(f.groups[req.GetId()], &openflowv1.Group{
			Desc:  &openflowv1.GroupDesc{Type: gm.GetType(), GroupId: gm.GetGroupId(), Buckets: gm.GetBuckets()},
			Stats: &openflowv1.GroupStats{GroupId: gm.GetGroupId(), PacketCount: 3},
		})
	}
	return &emptypb.Empty{}, nil
}

func (f *fakeNBI) UpdateLogicalDeviceMeterTable(_ context.Context, req *voltv1.MeterModUpdate) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mm := req.GetMeterMod()
	ms := f.meters[req.GetId()]
	for i, m := range ms {
		if m.GetConfig().GetMeterId() == mm.GetMeterId() {
			if mm.GetCommand() == openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD {
				return nil, status.Errorf(codes.AlreadyExists, "logical device %s: meter %d already exists", req.GetId(), mm.GetMeterId())
			}
			f.meters[req.GetId()] = append(ms[:i], ms[i+1:]...)
			break
		}
	}
	if mm.GetCommand() != openflowv1.MeterModCommand_METER_MOD_COMMAND_DELETE {
		f.meters[req.GetId()] = append(f.meters[req.GetId()], &openflowv1.Meter{
			Config: &openflowv1.MeterConfig{Flags: mm.GetFlags(), MeterId: mm.GetMeterId(), Bands: mm.GetBands()},
			Stats:  &openflowv1.MeterStats{MeterId: mm.GetMeterId(), FlowCount: 1},
		})
	}
	return &emptypb.Empty{}, nil
}

func (f *fakeNBI) EnableLogicalDevicePort(_ context.Context, req *voltv1.LogicalPortID) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.portCalls = append(f.portCalls, "enable "+req.GetPortId())
	return &emptypb.Empty{}, nil
}

func (f *fakeNBI) DisableLogicalDevicePort(_ context.Context, req *voltv1.LogicalPortID) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.portCalls = append(f.portCalls, "disable "+req.GetPortId())
	return &emptypb.Empty{}, nil
}

func (f *fakeNBI) StreamPacketsOut(stream grpc.ClientStreamingServer[voltv1.PacketOut, emptypb.Empty]) error {
	for {
		po, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&emptypb.Empty{})
		}
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.packetOuts = append(f.packetOuts, po)
		f.mu.Unlock()
	}
}

func (f *fakeNBI) ReceivePacketsIn(_ *voltv1.ReceivePacketsInRequest, stream grpc.ServerStreamingServer[voltv1.PacketIn]) error {
	ch := make(chan *voltv1.PacketIn, 100)
	f.mu.Lock()
	f.pinSubs[ch] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.pinSubs, ch)
		f.mu.Unlock()
	}()
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case pi := <-ch:
			if err := stream.Send(pi); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (f *fakeNBI) ReceiveChangeEvents(_ *voltv1.ReceiveChangeEventsRequest, stream grpc.ServerStreamingServer[voltv1.Event]) error {
	ch := make(chan *voltv1.Event, 100)
	f.mu.Lock()
	f.eventSubs[ch] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.eventSubs, ch)
		f.mu.Unlock()
	}()
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case ev := <-ch:
			if err := stream.Send(ev); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return nil
		}
	}
}
