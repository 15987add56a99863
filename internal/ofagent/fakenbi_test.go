package ofagent

import (
	"fmt"
	"testing"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/testkit"
)

// newFakeNBI is an empty fake core (nbitest.Fake): the tests add logical
// devices and hooks.
func newFakeNBI() *nbitest.Fake { return nbitest.New() }

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

// waitPacketInStreams waits until n packet-in streams are open on f. The
// agent is ready once it has read the logical devices; its packet-in
// stream opens beside that and may not be in place yet.
func waitPacketInStreams(t testing.TB, f *nbitest.Fake, n int) {
	t.Helper()
	probe := &voltv1.Event{Payload: &voltv1.Event_PacketIn{PacketIn: &voltv1.PacketIn{}}}
	testkit.Eventually(t, fmt.Sprintf("%d packet-in streams", n), func() error {
		if got := f.Streams(probe); got != n {
			return fmt.Errorf("%d packet-in streams open", got)
		}
		return nil
	})
}
