package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
)

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

// newFakeNBI is a core (nbitest.Fake) holding the fixture.
func newFakeNBI() *nbitest.Fake {
	enabled, active, reachable := voltv1.AdminState_ADMIN_STATE_ENABLED, voltv1.OperStatus_OPER_STATUS_ACTIVE,
		voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE
	eapol := &openflowv1.Flow{
		Id: 11, TableId: 0, Priority: 1000, Cookie: 0x1,
		PacketCount: 7, ByteCount: 448, DurationSec: 75, InstallTimeUnixNano: 1,
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
	return &nbitest.Fake{
		Devices: map[string]*voltv1.Device{
			"olt1": {Id: "olt1", Type: "ponsim_olt", Root: true, LogicalDeviceId: ldID, SerialNumber: "PSMO00000001",
				HostAndPort: "127.0.0.1:50060", MacAddress: "aa:bb:cc:dd:ee:01",
				AdminState: enabled, OperStatus: active, ConnectStatus: reachable},
			"onu1": {Id: "onu1", Type: "ponsim_onu", ParentId: "olt1", ParentPortNo: ponOLT, SerialNumber: "PSMO00000101",
				ProxyAddress: &voltv1.ProxyAddress{DeviceId: "olt1", ChannelId: 1, OnuId: 1},
				AdminState:   enabled, OperStatus: active, ConnectStatus: reachable, Reason: "omci flows pushed"},
			"olt2": {Id: "olt2", Type: "ponsim_olt", Root: true, MacAddress: "aa:bb:cc:dd:ee:02",
				AdminState: voltv1.AdminState_ADMIN_STATE_PREPROVISIONED},
		},
		Ports: map[string][]*voltv1.Port{
			"olt1": {
				{DeviceId: "olt1", PortNo: nni, Label: "nni-0", Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI,
					AdminState: enabled, OperStatus: active, RxPackets: 3, RxBytes: 204, TxPackets: 5, TxBytes: 340, RxErrors: 1},
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
		Flows: map[string][]*openflowv1.Flow{
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
		Groups: map[string][]*openflowv1.Group{
			ldID: {{Desc: &openflowv1.GroupDesc{Type: openflowv1.GroupType_GROUP_TYPE_ALL, GroupId: 1,
				Buckets: []*openflowv1.Bucket{{Actions: []*openflowv1.Action{popVLAN(), output(uni, 0)}}}}}},
		},
		Meters: map[string][]*openflowv1.Meter{
			ldID: {{
				Config: &openflowv1.MeterConfig{MeterId: 1, Flags: 1 | 4 | 8, Bands: []*openflowv1.MeterBand{
					{Type: openflowv1.MeterBandType_METER_BAND_TYPE_DROP, Rate: 10000, BurstSize: 1000}}},
				Stats: &openflowv1.MeterStats{MeterId: 1, FlowCount: 2, PacketInCount: 7, ByteInCount: 448},
			}},
		},
		Logical: map[string]*voltv1.LogicalDevice{
			ldID: {Id: ldID, DatapathId: 0xaabbccddee01, RootDeviceId: "olt1",
				Desc: &openflowv1.Desc{MfrDesc: "OpenVOLT", SerialNum: "PSMO00000001"}},
		},
		LogicalPorts: map[string][]*voltv1.LogicalPort{
			ldID: {
				{Id: "nni-1", LogicalDeviceId: ldID, DeviceId: "olt1", DevicePortNo: nni, RootPort: true,
					OfpPort: &openflowv1.Port{PortNo: nni, Name: "nni-0", State: 4, HwAddr: []byte{0x02, 0x20, 0xef, 0xbd, 0xd3, 0xdf}},
					Stats:   &openflowv1.PortStats{PortNo: nni, RxPackets: 3, RxBytes: 204, TxPackets: 5, TxBytes: 340, RxDropped: 2}},
				{Id: "uni-4112", LogicalDeviceId: ldID, DeviceId: "onu1", DevicePortNo: uni,
					OfpPort: &openflowv1.Port{PortNo: uni, Name: "PSMO00000101-uni-0", State: 1}},
			},
		},
		Adapters: []*voltv1.Adapter{
			{Id: "ponsim_olt", Vendor: "OpenVOLT", Version: "0.1.0", Endpoint: "ponsim_olt", AdminAddress: "127.0.0.1:50061",
				DeviceTypes: []string{"ponsim_olt"}, LastSeen: timestamppb.New(time.Now().Add(-90 * time.Second))},
			{Id: "ponsim_onu", Vendor: "OpenVOLT", Version: "0.1.0", Endpoint: "ponsim_onu",
				DeviceTypes: []string{"ponsim_onu"}, LastSeen: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))},
		},
		Types: []*voltv1.DeviceType{
			{Id: "ponsim_olt", Adapter: "ponsim_olt", AcceptsBulkFlowUpdate: true,
				Operations: []string{"AdoptDevice", "DisableDevice", "ReenableDevice", "RebootDevice"}},
			{Id: "ponsim_onu", Adapter: "ponsim_onu", AcceptsAddRemoveFlowUpdates: true},
		},
	}
}

// serveNBI serves nbi on a random loopback port until the test ends.
func serveNBI(t *testing.T, nbi *nbitest.Fake) string {
	return serve(t, nbi.Register)
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
