package cli_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	corenbi "github.com/openvolt/openvolt/internal/core/nbi"
)

// fakeNBI is a VoltService over a few maps, enough to drive the client
// commands; the real service is tested in internal/core. Replies are clones,
// so a test may keep what it sent.
type fakeNBI struct {
	voltv1.UnimplementedVoltServiceServer

	mu           sync.Mutex // guards every field below
	devices      map[string]*voltv1.Device
	ports        map[string][]*voltv1.Port
	flows        map[string][]*openflowv1.Flow // by device or logical device id
	groups       map[string][]*openflowv1.Group
	meters       map[string][]*openflowv1.Meter
	logical      map[string]*voltv1.LogicalDevice
	logicalPorts map[string][]*voltv1.LogicalPort
	adapters     []*voltv1.Adapter
	types        []*voltv1.DeviceType
	creates      int             // CreateDevice calls, rejected ones included
	tableMods    []proto.Message // flow, group and meter table updates, in order

	// events are sent to every ReceiveChangeEvents caller that they match;
	// then the stream stays open until the caller leaves, or ends with
	// endWith (nil: a clean end, the client sees EOF) when endStream is set.
	events    []*voltv1.Event
	endStream bool
	endWith   error
}

// The fixture: an OLT with one ONU, a second OLT not yet enabled, and the
// logical device of the first.
const (
	nni    = 1            // NNI 0 of the OLT
	ponOLT = 0x200001     // PON 1 of the OLT
	ponONU = 0x300000     // the ONU's PON port
	uni    = 1<<12 | 1<<4 // UNI 0 of ONU 1 on PON 1: 4112
	vid100 = 0x1000 | 100 // OFPVID_PRESENT | 100
	ctrl   = 0xfffffffd   // OFPP_CONTROLLER
	ldID   = "0000aabbccddee01"
)

func newFakeNBI() *fakeNBI {
	enabled, active, reachable := voltv1.AdminState_ADMIN_STATE_ENABLED, voltv1.OperStatus_OPER_STATUS_ACTIVE,
		voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE
	eapol := &openflowv1.Flow{
		Id: 11, TableId: 0, Priority: 1000, Cookie: 0x1,
		Match:        match(inPort(uni), field(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, 0x888e)),
		Instructions: []*openflowv1.Instruction{applyActions(output(ctrl, 0xffff))},
	}
	upstream := &openflowv1.Flow{
		Id: 12, TableId: 0, Priority: 500, Cookie: 0x2,
		Match: match(inPort(uni), field(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0)),
		Instructions: []*openflowv1.Instruction{
			applyActions(pushVLAN(0x8100), setField(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, vid100), output(nni, 0)),
		},
	}
	return &fakeNBI{
		devices: map[string]*voltv1.Device{
			"olt1": {Id: "olt1", Type: "ponsim_olt", Root: true, LogicalDeviceId: ldID, SerialNumber: "PSMO00000001",
				HostAndPort: "127.0.0.1:50060", MacAddress: "aa:bb:cc:dd:ee:01",
				AdminState: enabled, OperStatus: active, ConnectStatus: reachable},
			"onu1": {Id: "onu1", Type: "ponsim_onu", ParentId: "olt1", ParentPortNo: ponOLT, SerialNumber: "PSMO00000101",
				ProxyAddress: &voltv1.ProxyAddress{DeviceId: "olt1", ChannelId: 1, OnuId: 1},
				AdminState:   enabled, OperStatus: active, ConnectStatus: reachable, Reason: "omci flows pushed"},
			"olt2": {Id: "olt2", Type: "ponsim_olt", Root: true, MacAddress: "aa:bb:cc:dd:ee:02",
				AdminState: voltv1.AdminState_ADMIN_STATE_PREPROVISIONED},
		},
		ports: map[string][]*voltv1.Port{
			"olt1": {
				{DeviceId: "olt1", PortNo: nni, Label: "nni-0", Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI,
					AdminState: enabled, OperStatus: active},
				{DeviceId: "olt1", PortNo: ponOLT, Label: "pon-1", Type: voltv1.PortType_PORT_TYPE_PON_OLT,
					AdminState: enabled, OperStatus: active, Peers: []*voltv1.PortPeer{{DeviceId: "onu1", PortNo: ponONU}}},
			},
			"onu1": {
				{DeviceId: "onu1", PortNo: ponONU, Label: "pon", Type: voltv1.PortType_PORT_TYPE_PON_ONU,
					AdminState: enabled, OperStatus: active, Peers: []*voltv1.PortPeer{{DeviceId: "olt1", PortNo: ponOLT}}},
				{DeviceId: "onu1", PortNo: uni, Label: "uni-0", Type: voltv1.PortType_PORT_TYPE_ETHERNET_UNI,
					AdminState: enabled, OperStatus: voltv1.OperStatus_OPER_STATUS_UNSPECIFIED},
			},
			"olt2": {},
		},
		flows: map[string][]*openflowv1.Flow{
			"olt1": {eapol, upstream},
			// Unsorted, as a table may hold them: table 1 first, low priority first.
			ldID: {
				{Id: 13, TableId: 1, Priority: 2000, Cookie: 0x3, Match: match(inPort(nni)),
					Instructions: []*openflowv1.Instruction{applyActions(output(uni, 0))}},
				{Id: 14, TableId: 0, Priority: 10, Cookie: 0x4, Match: match(inPort(nni)),
					Instructions: []*openflowv1.Instruction{applyActions(output(ctrl, 0xffff))}},
				eapol,
			},
		},
		groups: map[string][]*openflowv1.Group{
			ldID: {{Desc: &openflowv1.GroupDesc{Type: openflowv1.GroupType_GROUP_TYPE_ALL, GroupId: 1,
				Buckets: []*openflowv1.Bucket{{Actions: []*openflowv1.Action{popVLAN(), output(uni, 0)}}}}}},
		},
		meters: map[string][]*openflowv1.Meter{
			ldID: {{
				Config: &openflowv1.MeterConfig{MeterId: 1, Flags: 1 | 4 | 8, Bands: []*openflowv1.MeterBand{
					{Type: openflowv1.MeterBandType_METER_BAND_TYPE_DROP, Rate: 10000, BurstSize: 1000}}},
				Stats: &openflowv1.MeterStats{MeterId: 1, FlowCount: 2},
			}},
		},
		logical: map[string]*voltv1.LogicalDevice{
			ldID: {Id: ldID, DatapathId: 0xaabbccddee01, RootDeviceId: "olt1",
				Desc: &openflowv1.Desc{MfrDesc: "OpenVOLT", SerialNum: "PSMO00000001"}},
		},
		logicalPorts: map[string][]*voltv1.LogicalPort{
			ldID: {
				{Id: "nni-1", LogicalDeviceId: ldID, DeviceId: "olt1", DevicePortNo: nni, RootPort: true,
					OfpPort: &openflowv1.Port{PortNo: nni, Name: "nni-0", State: 4, HwAddr: []byte{0x02, 0x20, 0xef, 0xbd, 0xd3, 0xdf}}},
				{Id: "uni-4112", LogicalDeviceId: ldID, DeviceId: "onu1", DevicePortNo: uni,
					OfpPort: &openflowv1.Port{PortNo: uni, Name: "PSMO00000101-uni-0", State: 1}},
			},
		},
		adapters: []*voltv1.Adapter{
			{Id: "ponsim_olt", Vendor: "OpenVOLT", Version: "0.1.0", Endpoint: "ponsim_olt", AdminAddress: "127.0.0.1:50061",
				DeviceTypes: []string{"ponsim_olt"}, LastSeen: timestamppb.New(time.Now().Add(-90 * time.Second))},
			{Id: "ponsim_onu", Vendor: "OpenVOLT", Version: "0.1.0", Endpoint: "ponsim_onu",
				DeviceTypes: []string{"ponsim_onu"}, LastSeen: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))},
		},
		types: []*voltv1.DeviceType{
			{Id: "ponsim_olt", Adapter: "ponsim_olt", AcceptsBulkFlowUpdate: true,
				Operations: []string{"AdoptDevice", "DisableDevice", "ReenableDevice", "RebootDevice"}},
			{Id: "ponsim_onu", Adapter: "ponsim_onu", AcceptsAddRemoveFlowUpdates: true},
		},
	}
}

// serveNBI serves nbi on a random loopback port until the test ends.
func serveNBI(t *testing.T, nbi *fakeNBI) string {
	return serve(t, func(s grpc.ServiceRegistrar) { voltv1.RegisterVoltServiceServer(s, nbi) })
}

// run executes cmd with args in process and returns what it printed.
func run(t *testing.T, cmd *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runContext(t.Context(), cmd, args...)
}

func runContext(ctx context.Context, cmd *cobra.Command, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func notFound(kind, id string) error {
	return status.Errorf(codes.NotFound, "%s %q not found", kind, id)
}

func clones[T proto.Message](items []T) []T {
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = proto.Clone(it).(T)
	}
	return out
}

func (f *fakeNBI) deviceLocked(id string) (*voltv1.Device, error) {
	d, ok := f.devices[id]
	if !ok {
		return nil, notFound("device", id)
	}
	return d, nil
}

func (f *fakeNBI) ListDevices(_ context.Context, req *voltv1.ListDevicesRequest) (*voltv1.Devices, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []*voltv1.Device
	for _, id := range slices.Sorted(maps.Keys(f.devices)) {
		d := f.devices[id]
		if (req.GetType() == "" || d.GetType() == req.GetType()) && (req.GetParentId() == "" || d.GetParentId() == req.GetParentId()) {
			items = append(items, d)
		}
	}
	return &voltv1.Devices{Items: clones(items)}, nil
}

func (f *fakeNBI) GetDevice(_ context.Context, id *voltv1.ID) (*voltv1.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.deviceLocked(id.GetId())
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(d), nil
}

func (f *fakeNBI) CreateDevice(_ context.Context, d *voltv1.Device) (*voltv1.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates++
	if !slices.ContainsFunc(f.types, func(t *voltv1.DeviceType) bool { return t.GetId() == d.GetType() }) {
		return nil, status.Errorf(codes.InvalidArgument, "unknown device type %q (known: ponsim_olt, ponsim_onu)", d.GetType())
	}
	if d.GetId() == "" {
		d.Id = fmt.Sprintf("dev-%d", f.creates)
	}
	if _, ok := f.devices[d.GetId()]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "device %q already exists", d.GetId())
	}
	d.AdminState = voltv1.AdminState_ADMIN_STATE_PREPROVISIONED
	f.devices[d.GetId()] = d
	return proto.CloneOf(d), nil
}

// setAdmin moves a device from one admin state to another, or fails as the
// core does when it is not in the state the operation needs.
func (f *fakeNBI) setAdmin(id string, from []voltv1.AdminState, to voltv1.AdminState) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.deviceLocked(id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(from, d.GetAdminState()) {
		return nil, status.Errorf(codes.FailedPrecondition, "device %q is %s", id, d.GetAdminState())
	}
	d.AdminState = to
	return &emptypb.Empty{}, nil
}

func (f *fakeNBI) EnableDevice(_ context.Context, id *voltv1.ID) (*emptypb.Empty, error) {
	return f.setAdmin(id.GetId(), []voltv1.AdminState{voltv1.AdminState_ADMIN_STATE_PREPROVISIONED,
		voltv1.AdminState_ADMIN_STATE_DISABLED}, voltv1.AdminState_ADMIN_STATE_ENABLED)
}

func (f *fakeNBI) DisableDevice(_ context.Context, id *voltv1.ID) (*emptypb.Empty, error) {
	return f.setAdmin(id.GetId(), []voltv1.AdminState{voltv1.AdminState_ADMIN_STATE_ENABLED},
		voltv1.AdminState_ADMIN_STATE_DISABLED)
}

func (f *fakeNBI) RebootDevice(_ context.Context, id *voltv1.ID) (*emptypb.Empty, error) {
	return f.setAdmin(id.GetId(), []voltv1.AdminState{voltv1.AdminState_ADMIN_STATE_ENABLED},
		voltv1.AdminState_ADMIN_STATE_ENABLED)
}

func (f *fakeNBI) DeleteDevice(_ context.Context, id *voltv1.ID) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.deviceLocked(id.GetId()); err != nil {
		return nil, err
	}
	delete(f.devices, id.GetId())
	return &emptypb.Empty{}, nil
}

// perDevice serves a device's ports, flows, groups or meters: NotFound
// for an unknown device, none for a device without any.
func perDevice[T proto.Message](f *fakeNBI, id string, table map[string][]T) ([]T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.deviceLocked(id); err != nil {
		return nil, err
	}
	return clones(table[id]), nil
}

func (f *fakeNBI) ListDevicePorts(_ context.Context, id *voltv1.ID) (*voltv1.Ports, error) {
	items, err := perDevice(f, id.GetId(), f.ports)
	return &voltv1.Ports{Items: items}, err
}

func (f *fakeNBI) ListDeviceFlows(_ context.Context, id *voltv1.ID) (*openflowv1.Flows, error) {
	items, err := perDevice(f, id.GetId(), f.flows)
	return &openflowv1.Flows{Items: items}, err
}

func (f *fakeNBI) ListDeviceFlowGroups(_ context.Context, id *voltv1.ID) (*openflowv1.Groups, error) {
	items, err := perDevice(f, id.GetId(), f.groups)
	return &openflowv1.Groups{Items: items}, err
}

func (f *fakeNBI) ListDeviceMeters(_ context.Context, id *voltv1.ID) (*openflowv1.Meters, error) {
	items, err := perDevice(f, id.GetId(), f.meters)
	return &openflowv1.Meters{Items: items}, err
}

func (f *fakeNBI) ListLogicalDevices(context.Context, *emptypb.Empty) (*voltv1.LogicalDevices, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := slices.SortedFunc(maps.Values(f.logical), func(a, b *voltv1.LogicalDevice) int {
		return cmp.Compare(a.GetId(), b.GetId())
	})
	return &voltv1.LogicalDevices{Items: clones(items)}, nil
}

func (f *fakeNBI) GetLogicalDevice(_ context.Context, id *voltv1.ID) (*voltv1.LogicalDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ld, ok := f.logical[id.GetId()]
	if !ok {
		return nil, notFound("logical device", id.GetId())
	}
	return proto.CloneOf(ld), nil
}

// perLogical is perDevice for logical devices.
func perLogical[T proto.Message](f *fakeNBI, id string, table map[string][]T) ([]T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.logical[id]; !ok {
		return nil, notFound("logical device", id)
	}
	return clones(table[id]), nil
}

func (f *fakeNBI) ListLogicalDevicePorts(_ context.Context, id *voltv1.ID) (*voltv1.LogicalPorts, error) {
	items, err := perLogical(f, id.GetId(), f.logicalPorts)
	return &voltv1.LogicalPorts{Items: items}, err
}

func (f *fakeNBI) ListLogicalDeviceFlows(_ context.Context, id *voltv1.ID) (*openflowv1.Flows, error) {
	items, err := perLogical(f, id.GetId(), f.flows)
	return &openflowv1.Flows{Items: items}, err
}

func (f *fakeNBI) ListLogicalDeviceFlowGroups(_ context.Context, id *voltv1.ID) (*openflowv1.Groups, error) {
	items, err := perLogical(f, id.GetId(), f.groups)
	return &openflowv1.Groups{Items: items}, err
}

func (f *fakeNBI) ListLogicalDeviceMeters(_ context.Context, id *voltv1.ID) (*openflowv1.Meters, error) {
	items, err := perLogical(f, id.GetId(), f.meters)
	return &openflowv1.Meters{Items: items}, err
}

// setPortDown sets or clears OFPPC_PORT_DOWN on a logical port.
func (f *fakeNBI) setPortDown(id *voltv1.LogicalPortID, down bool) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.logical[id.GetLogicalDeviceId()]; !ok {
		return nil, notFound("logical device", id.GetLogicalDeviceId())
	}
	for _, p := range f.logicalPorts[id.GetLogicalDeviceId()] {
		if p.GetId() == id.GetPortId() {
			if down {
				p.OfpPort.Config |= 1
			} else {
				p.OfpPort.Config &^= 1
			}
			return &emptypb.Empty{}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "logical device %q has no port %q", id.GetLogicalDeviceId(), id.GetPortId())
}

func (f *fakeNBI) EnableLogicalDevicePort(_ context.Context, id *voltv1.LogicalPortID) (*emptypb.Empty, error) {
	return f.setPortDown(id, false)
}

func (f *fakeNBI) DisableLogicalDevicePort(_ context.Context, id *voltv1.LogicalPortID) (*emptypb.Empty, error) {
	return f.setPortDown(id, true)
}

func (f *fakeNBI) ListAdapters(context.Context, *emptypb.Empty) (*voltv1.Adapters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &voltv1.Adapters{Items: clones(f.adapters)}, nil
}

func (f *fakeNBI) ListDeviceTypes(context.Context, *emptypb.Empty) (*voltv1.DeviceTypes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &voltv1.DeviceTypes{Items: clones(f.types)}, nil
}

func (f *fakeNBI) ReceiveChangeEvents(req *voltv1.ReceiveChangeEventsRequest, stream voltv1.VoltService_ReceiveChangeEventsServer) error {
	f.mu.Lock()
	events := clones(f.events)
	end, endWith := f.endStream, f.endWith
	f.mu.Unlock()
	filter, err := corenbi.EventFilter(req) // the core's own filter
	if err != nil {
		return err
	}
	for _, ev := range events {
		if filter != nil && !filter(ev) {
			continue
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	if end {
		return endWith
	}
	<-stream.Context().Done()
	return stream.Context().Err()
}

// Flow building blocks for the fixture.

func match(fields ...*openflowv1.MatchField) *openflowv1.Match {
	return &openflowv1.Match{Fields: fields}
}

func field(t openflowv1.MatchFieldType, v uint64) *openflowv1.MatchField {
	return &openflowv1.MatchField{Type: t, Value: v}
}

func inPort(p uint32) *openflowv1.MatchField {
	return field(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, uint64(p))
}

func applyActions(actions ...*openflowv1.Action) *openflowv1.Instruction {
	return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_ApplyActions{
		ApplyActions: &openflowv1.InstructionActions{Actions: actions}}}
}

func output(port, maxLen uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: port, MaxLen: maxLen}}}
}

func pushVLAN(tpid uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_PushVlan{PushVlan: &openflowv1.ActionPushVlan{Ethertype: tpid}}}
}

func popVLAN() *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_PopVlan{PopVlan: &openflowv1.ActionPopVlan{}}}
}

func setField(t openflowv1.MatchFieldType, v uint64) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{Field: field(t, v)}}}
}

// lines splits output into its lines, without the final newline.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func (f *fakeNBI) tableMod(id string, m proto.Message) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.logical[id]; !ok {
		return nil, notFound("logical device", id)
	}
	f.tableMods = append(f.tableMods, m)
	return &emptypb.Empty{}, nil
}

func (f *fakeNBI) UpdateLogicalDeviceFlowTable(_ context.Context, req *voltv1.FlowTableUpdate) (*emptypb.Empty, error) {
	return f.tableMod(req.GetId(), req)
}

func (f *fakeNBI) UpdateLogicalDeviceFlowGroupTable(_ context.Context, req *voltv1.FlowGroupTableUpdate) (*emptypb.Empty, error) {
	return f.tableMod(req.GetId(), req)
}

func (f *fakeNBI) UpdateLogicalDeviceMeterTable(_ context.Context, req *voltv1.MeterModUpdate) (*emptypb.Empty, error) {
	return f.tableMod(req.GetId(), req)
}
