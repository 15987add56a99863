package logicaldevice_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/device"
	"github.com/openvolt/openvolt/internal/core/logicaldevice"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/logging"
)

// The device manager drives the logical side through this interface.
var _ device.Logical = (*logicaldevice.Manager)(nil)

func TestNewValidatesConfig(t *testing.T) {
	_, err := logicaldevice.New(logicaldevice.Config{})
	if err == nil || !strings.Contains(err.Error(), "Store") || !strings.Contains(err.Error(), "Devices") {
		t.Fatalf("New(empty config) = %v, want an error naming Store and Devices", err)
	}
}

func TestRootActiveCreatesLogicalDevice(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mac      string
		wantDPID uint64 // 0: hashed from the id, checked for range and stability
	}{
		{"from MAC", "00:0c:e2:31:40:0a", 0x000ce231400a},
		{"upper-case MAC", "AA:BB:CC:DD:EE:FF", 0xaabbccddeeff},
		{"no MAC", "", 0},
		{"unusable MAC", "not-a-mac", 0},
		{"zero MAC", "00:00:00:00:00:00", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := memEnv(t)
			ctx := t.Context()
			root := olt("olt-1", tc.mac)
			ports := []*voltv1.Port{
				nni("olt-1", 0),
				withOfp(nni("olt-1", 1), &openflowv1.Port{HwAddr: []byte{1, 2, 3, 4, 5, 6}, CurrSpeed: 10_000_000}),
				oltPON("olt-1", 0), // never a logical port
			}
			ports[0].Label = "nni-west"
			e.devs.set(root, ports...)

			ldID, err := e.m.DeviceActive(ctx, root, ports)
			if err != nil {
				t.Fatal(err)
			}
			if len(ldID) != 16 {
				t.Errorf("logical device id %q: want 16 hex characters", ldID)
			}
			ld, err := e.m.Get(ldID)
			if err != nil {
				t.Fatal(err)
			}
			dpid := ld.GetDatapathId()
			if tc.wantDPID != 0 && dpid != tc.wantDPID {
				t.Errorf("datapath id %#x, want %#x", dpid, tc.wantDPID)
			}
			if tc.wantDPID == 0 {
				if dpid == 0 || dpid >= 1<<48 {
					t.Errorf("hashed datapath id %#x: want a non-zero 48-bit number", dpid)
				}
				// The same root on a fresh core gets the same one.
				e2 := memEnv(t)
				id2, err := e2.m.DeviceActive(ctx, root, ports)
				if err != nil {
					t.Fatal(err)
				}
				if ld2, _ := e2.m.Get(id2); ld2.GetDatapathId() != dpid {
					t.Errorf("datapath id not stable: %#x then %#x", dpid, ld2.GetDatapathId())
				}
			}
			want := &voltv1.LogicalDevice{
				Id:         ldID,
				DatapathId: dpid,
				Desc: &openflowv1.Desc{
					MfrDesc: "ponsim", HwDesc: "olt-9", SwDesc: "1.2.3", SerialNum: "SN-olt-1",
					DpDesc: "OpenVOLT logical device for olt-1",
				},
				SwitchFeatures: &openflowv1.SwitchFeatures{DatapathId: dpid, NBuffers: 256, NTables: 2, Capabilities: 1 | 2 | 4 | 8},
				RootDeviceId:   "olt-1",
			}
			if diff := cmp.Diff(want, ld, protocmp.Transform()); diff != "" {
				t.Errorf("logical device (-want +got):\n%s", diff)
			}
			stored, err := e.st.LogicalDevices.Get(ctx, ldID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, stored, protocmp.Transform()); diff != "" {
				t.Errorf("stored logical device (-want +got):\n%s", diff)
			}
			if id, ok := e.m.ByRoot("olt-1"); !ok || id != ldID {
				t.Errorf("ByRoot = %q, %v; want %q", id, ok, ldID)
			}
			if got := e.m.List(); len(got) != 1 || got[0].GetId() != ldID {
				t.Errorf("List = %v", got)
			}

			lps, err := e.m.Ports(ldID)
			if err != nil {
				t.Fatal(err)
			}
			if len(lps) != 2 {
				t.Fatalf("%d logical ports, want the 2 NNIs", len(lps))
			}
			wantNNI0 := &voltv1.LogicalPort{
				Id: "nni-1",
				OfpPort: &openflowv1.Port{
					PortNo: portno.NNI(0), HwAddr: lps[0].GetOfpPort().GetHwAddr(), Name: "nni-west",
					State: 4, Curr: 0x1020, Advertised: 0x1020, Supported: 0x1020, CurrSpeed: 1_000_000, MaxSpeed: 1_000_000,
				},
				DeviceId: "olt-1", DevicePortNo: portno.NNI(0), RootPort: true, LogicalDeviceId: ldID,
			}
			if diff := cmp.Diff(wantNNI0, lps[0], protocmp.Transform()); diff != "" {
				t.Errorf("NNI 0 (-want +got):\n%s", diff)
			}
			if hw := lps[0].GetOfpPort().GetHwAddr(); len(hw) != 6 || hw[0]&0x03 != 0x02 {
				t.Errorf("derived hw_addr % x: want 6 bytes, locally administered unicast", hw)
			}
			if of := lps[1].GetOfpPort(); !bytes.Equal(of.GetHwAddr(), []byte{1, 2, 3, 4, 5, 6}) ||
				of.GetCurrSpeed() != 10_000_000 || of.GetName() != "nni-2" {
				t.Errorf("NNI 1 ignores the adapter's OpenFlow view: %v", of)
			}
			if diff := cmp.Diff(e.ports(t, ldID), e.storedPorts(t, ldID)); diff != "" {
				t.Errorf("stored ports (-memory +store):\n%s", diff)
			}
			wantEvents := []string{
				"ADDED logical device of olt-1",
				"ADDED port nni-1 olt-1 LIVE",
				"ADDED port nni-2 olt-1 LIVE",
			}
			if diff := cmp.Diff(wantEvents, e.rec.take(t)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}

			// Re-activation keeps the logical device and changes nothing.
			again, err := e.m.DeviceActive(ctx, root, ports)
			if err != nil || again != ldID {
				t.Errorf("re-activation = %q, %v; want %q", again, err, ldID)
			}
			if evs := e.rec.take(t); len(evs) != 0 {
				t.Errorf("re-activation published %q", evs)
			}
		})
	}
}

// activeOLT sets up an active OLT with two NNIs and returns its logical
// device id.
func activeOLT(t *testing.T, e *env, id string) string {
	t.Helper()
	root := olt(id, "")
	ports := []*voltv1.Port{nni(id, 0), nni(id, 1), oltPON(id, 0)}
	e.devs.set(root, ports...)
	ldID, err := e.m.DeviceActive(t.Context(), root, ports)
	if err != nil {
		t.Fatal(err)
	}
	e.rec.take(t)
	return ldID
}

// activate makes a child ACTIVE, as the device manager would.
func activate(t *testing.T, e *env, d *voltv1.Device, ports ...*voltv1.Port) {
	t.Helper()
	e.devs.set(d, ports...)
	if id, err := e.m.DeviceActive(t.Context(), d, ports); err != nil || id != "" {
		t.Fatalf("DeviceActive(%s) = %q, %v", d.GetId(), id, err)
	}
}

func TestChildrenComeAndGo(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")

	onu1, onu2 := onu("onu1", "olt"), onu("onu2", "olt")
	activate(t, e, onu1, onuPON("onu1"), uni("onu1", 0, 1, 0))
	activate(t, e, onu2, onuPON("onu2"), uni("onu2", 0, 2, 0), uni("onu2", 0, 2, 1))
	want := []string{
		"nni-1 olt LIVE",
		"nni-2 olt LIVE",
		"uni-16 onu1 LIVE",
		"uni-32 onu2 LIVE",
		"uni-33 onu2 LIVE",
	}
	if diff := cmp.Diff(want, e.ports(t, ldID)); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.storedPorts(t, ldID)); diff != "" {
		t.Errorf("stored ports (-want +got):\n%s", diff)
	}
	lp, err := e.m.Port(ldID, "uni-32")
	if err != nil {
		t.Fatal(err)
	}
	if lp.GetRootPort() || lp.GetDevicePortNo() != portno.UNI(0, 2, 0) || lp.GetLogicalDeviceId() != ldID {
		t.Errorf("UNI port %v", lp)
	}
	if diff := cmp.Diff([]string{
		"ADDED port uni-16 onu1 LIVE",
		"ADDED port uni-32 onu2 LIVE",
		"ADDED port uni-33 onu2 LIVE",
	}, e.rec.take(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// onu2 leaves ACTIVE: its ports go, from memory and the store.
	if err := e.m.DeviceGone(ctx, with(onu2, enabled, inactive)); err != nil {
		t.Fatal(err)
	}
	want = []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE"}
	if diff := cmp.Diff(want, e.ports(t, ldID)); diff != "" {
		t.Errorf("ports after onu2 gone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.storedPorts(t, ldID)); diff != "" {
		t.Errorf("stored ports after onu2 gone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{
		"REMOVED port uni-32 onu2 LIVE",
		"REMOVED port uni-33 onu2 LIVE",
	}, e.rec.take(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, err := e.m.Port(ldID, "uni-32"); !errors.Is(err, coreerr.ErrNotFound) {
		t.Errorf("Port(removed) = %v, want NotFound", err)
	}
	// Gone twice, or a child of an OLT without a logical device: nothing.
	if err := e.m.DeviceGone(ctx, onu2); err != nil {
		t.Error(err)
	}
	if err := e.m.DeviceGone(ctx, onu("stray", "no-such-olt")); err != nil {
		t.Error(err)
	}
	if evs := e.rec.take(t); len(evs) != 0 {
		t.Errorf("no-op DeviceGone published %q", evs)
	}
}

func TestChildActiveBeforeRoot(t *testing.T) {
	e := memEnv(t)
	early := onu("early", "olt")
	activate(t, e, early, uni("early", 1, 1, 0))
	e.devs.set(with(onu("off", "olt"), disabled, active), uni("off", 1, 2, 0))
	e.devs.set(with(onu("discovered", "olt"), enabled, voltv1.OperStatus_OPER_STATUS_DISCOVERED), uni("discovered", 1, 3, 0))
	if got := e.m.List(); len(got) != 0 {
		t.Fatalf("a child created a logical device: %v", got)
	}

	ldID := activeOLT(t, e, "olt")
	want := []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-4112 early LIVE"}
	if diff := cmp.Diff(want, e.ports(t, ldID)); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	// The child's own activation arriving late adds nothing twice.
	activate(t, e, early, uni("early", 1, 1, 0))
	if evs := e.rec.take(t); len(evs) != 0 {
		t.Errorf("second add published %q", evs)
	}
}

func TestPortsDownAndUp(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	o := onu("onu1", "olt")
	activate(t, e, o, uni("onu1", 0, 1, 0), uni("onu1", 0, 1, 1))
	e.rec.take(t)

	steps := []struct {
		name       string
		do         func() error
		wantPorts  []string
		wantEvents []string
	}{
		{
			name:      "child disabled",
			do:        func() error { return e.m.SetPortsUp(ctx, with(o, disabled, active), false) },
			wantPorts: []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 DOWN", "uni-17 onu1 DOWN"},
			wantEvents: []string{
				"MODIFIED port uni-16 onu1 DOWN",
				"MODIFIED port uni-17 onu1 DOWN",
			},
		},
		{
			name:      "child down again: nothing to do",
			do:        func() error { return e.m.SetPortsUp(ctx, with(o, disabled, active), false) },
			wantPorts: []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 DOWN", "uni-17 onu1 DOWN"},
		},
		{
			name: "child re-enabled, one UNI reported down by its adapter",
			do: func() error {
				p := uni("onu1", 0, 1, 1)
				p.OperStatus = inactive
				e.devs.set(o, uni("onu1", 0, 1, 0), p)
				return e.m.SetPortsUp(ctx, o, true)
			},
			wantPorts:  []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE", "uni-17 onu1 DOWN"},
			wantEvents: []string{"MODIFIED port uni-16 onu1 LIVE"},
		},
		{
			name: "UNI link comes back",
			do: func() error {
				e.devs.set(o, uni("onu1", 0, 1, 0), uni("onu1", 0, 1, 1))
				return e.m.PortChanged(ctx, o, uni("onu1", 0, 1, 1))
			},
			wantPorts:  []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE", "uni-17 onu1 LIVE"},
			wantEvents: []string{"MODIFIED port uni-17 onu1 LIVE"},
		},
		{
			name: "new UNI on an active child",
			do: func() error {
				e.devs.set(o, uni("onu1", 0, 1, 0), uni("onu1", 0, 1, 1), uni("onu1", 0, 1, 2))
				return e.m.PortChanged(ctx, o, uni("onu1", 0, 1, 2))
			},
			wantPorts:  []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE", "uni-17 onu1 LIVE", "uni-18 onu1 LIVE"},
			wantEvents: []string{"ADDED port uni-18 onu1 LIVE"},
		},
		{
			name:      "PON port changes are not logical",
			do:        func() error { return e.m.PortChanged(ctx, o, onuPON("onu1")) },
			wantPorts: []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE", "uni-17 onu1 LIVE", "uni-18 onu1 LIVE"},
		},
		{
			name: "a child not yet active gains no port",
			do: func() error {
				return e.m.PortChanged(ctx, with(onu("onu2", "olt"), enabled, voltv1.OperStatus_OPER_STATUS_ACTIVATING), uni("onu2", 0, 2, 0))
			},
			wantPorts: []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE", "uni-17 onu1 LIVE", "uni-18 onu1 LIVE"},
		},
		{
			name:       "OLT unreachable: its NNIs go down, the UNIs are the ONUs' own",
			do:         func() error { return e.m.SetPortsUp(ctx, olt("olt", ""), false) },
			wantPorts:  []string{"nni-1 olt DOWN", "nni-2 olt DOWN", "uni-16 onu1 LIVE", "uni-17 onu1 LIVE", "uni-18 onu1 LIVE"},
			wantEvents: []string{"MODIFIED port nni-1 olt DOWN", "MODIFIED port nni-2 olt DOWN"},
		},
		{
			name: "OLT re-activated after a reboot: the NNIs come up",
			do: func() error {
				id, err := e.m.DeviceActive(ctx, olt("olt", ""), []*voltv1.Port{nni("olt", 0), nni("olt", 1)})
				if id != ldID {
					t.Errorf("re-activation made logical device %q, want %q", id, ldID)
				}
				return err
			},
			wantPorts:  []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 LIVE", "uni-17 onu1 LIVE", "uni-18 onu1 LIVE"},
			wantEvents: []string{"MODIFIED port nni-1 olt LIVE", "MODIFIED port nni-2 olt LIVE"},
		},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.wantPorts, e.ports(t, ldID)); diff != "" {
			t.Errorf("%s: ports (-want +got):\n%s", s.name, diff)
		}
		if diff := cmp.Diff(s.wantPorts, e.storedPorts(t, ldID)); diff != "" {
			t.Errorf("%s: stored ports (-want +got):\n%s", s.name, diff)
		}
		if diff := cmp.Diff(s.wantEvents, e.rec.take(t), cmpEmpty); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", s.name, diff)
		}
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.Transformer("nonNil", func(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
})

func TestEnableDisablePort(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	o := onu("onu1", "olt")
	activate(t, e, o, uni("onu1", 0, 1, 0))
	e.rec.take(t)

	steps := []struct {
		name      string
		do        func() error
		wantState string
		wantEvent []string
	}{
		{"disable", func() error { return e.m.DisablePort(ctx, ldID, "uni-16") }, "DISABLED", []string{"MODIFIED port uni-16 onu1 DISABLED"}},
		{"disable again", func() error { return e.m.DisablePort(ctx, ldID, "uni-16") }, "DISABLED", nil},
		{"device ports up keep it disabled", func() error { return e.m.SetPortsUp(ctx, o, true) }, "DISABLED", nil},
		{"port change keeps it disabled", func() error { return e.m.PortChanged(ctx, o, uni("onu1", 0, 1, 0)) }, "DISABLED", nil},
		{"enable", func() error { return e.m.EnablePort(ctx, ldID, "uni-16") }, "LIVE", []string{"MODIFIED port uni-16 onu1 LIVE"}},
		{"enable again", func() error { return e.m.EnablePort(ctx, ldID, "uni-16") }, "LIVE", nil},
		{"disable, device goes down, enable: not live", func() error {
			if err := e.m.DisablePort(ctx, ldID, "uni-16"); err != nil {
				return err
			}
			down := with(o, disabled, active)
			e.devs.set(down)
			if err := e.m.SetPortsUp(ctx, down, false); err != nil {
				return err
			}
			return e.m.EnablePort(ctx, ldID, "uni-16")
		}, "DOWN", []string{"MODIFIED port uni-16 onu1 DISABLED", "MODIFIED port uni-16 onu1 DOWN"}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		lp, err := e.m.Port(ldID, "uni-16")
		if err != nil {
			t.Fatal(err)
		}
		if got := portState(lp); got != s.wantState {
			t.Errorf("%s: port %s, want %s", s.name, got, s.wantState)
		}
		stored, err := e.st.LogicalPorts.Get(ctx, ldID+"/uni-16")
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(lp, stored, protocmp.Transform()) {
			t.Errorf("%s: stored %v, memory %v", s.name, stored, lp)
		}
		if diff := cmp.Diff(s.wantEvent, e.rec.take(t), cmpEmpty); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", s.name, diff)
		}
	}

	for _, tc := range []struct{ ld, port, msg string }{
		{"nope", "uni-16", `logical device "nope" not found`},
		{ldID, "uni-99", `has no port "uni-99"`},
	} {
		for _, op := range []func() error{
			func() error { return e.m.EnablePort(ctx, tc.ld, tc.port) },
			func() error { return e.m.DisablePort(ctx, tc.ld, tc.port) },
			func() error { _, err := e.m.Port(tc.ld, tc.port); return err },
		} {
			err := op()
			if !errors.Is(err, coreerr.ErrNotFound) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s/%s: %v, want NotFound saying %s", tc.ld, tc.port, err, tc.msg)
			}
		}
	}
	if _, err := e.m.Get("nope"); !errors.Is(err, coreerr.ErrNotFound) || err.Error() != `logical device "nope" not found` {
		t.Errorf("Get(nope) = %v", err)
	}
}

func TestInvalidPortNumbers(t *testing.T) {
	reg, logs := logging.Capture("info")
	kv := kvstore.NewMemory()
	t.Cleanup(func() { kv.Close() })
	e := newEnv(t, kv, "volt")
	e.m = e.manager(t, reg.Logger("core/logicaldevice"))
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	activate(t, e, onu("onu1", "olt"), uni("onu1", 0, 1, 0))
	e.rec.take(t)

	for _, tc := range []struct {
		name string
		dev  *voltv1.Device
		bad  *voltv1.Port
		good *voltv1.Port // added despite bad in the same call
	}{
		{"NNI numbered like a UNI", olt("olt", ""), port("olt", portno.UNI(0, 1, 0), voltv1.PortType_PORT_TYPE_ETHERNET_NNI), nni("olt", 7)},
		{"NNI numbered 0", olt("olt", ""), port("olt", 0, voltv1.PortType_PORT_TYPE_ETHERNET_NNI), nni("olt", 8)},
		{"NNI of the old layout", olt("olt", ""), port("olt", 0x00100000, voltv1.PortType_PORT_TYPE_ETHERNET_NNI), nni("olt", 9)},
		{"UNI numbered like an NNI", onu("onu2", "olt"), port("onu2", portno.NNI(3), voltv1.PortType_PORT_TYPE_ETHERNET_UNI), uni("onu2", 0, 2, 0)},
		{"UNI of ONU 0", onu("onu3", "olt"), port("onu3", 1<<12|1, voltv1.PortType_PORT_TYPE_ETHERNET_UNI), uni("onu3", 0, 3, 0)},
		{"UNI numbered like a PON", onu("onu4", "olt"), port("onu4", portno.OLTPON(1), voltv1.PortType_PORT_TYPE_ETHERNET_UNI), uni("onu4", 0, 4, 0)},
		{"UNI of ONU 240", onu("onu6", "olt"), port("onu6", 240<<4, voltv1.PortType_PORT_TYPE_ETHERNET_UNI), uni("onu6", 0, 6, 0)},
		{"UNI of PON 16", onu("onu7", "olt"), port("onu7", 16<<12|1<<4, voltv1.PortType_PORT_TYPE_ETHERNET_UNI), uni("onu7", 0, 7, 0)},
		{"UNI number held by another ONU", onu("onu5", "olt"), uni("onu5", 0, 1, 0), uni("onu5", 0, 5, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			e.devs.set(tc.dev, tc.bad, tc.good)
			_, err := e.m.DeviceActive(ctx, tc.dev, []*voltv1.Port{tc.bad, tc.good})
			if !errors.Is(err, coreerr.ErrInvalidArgument) {
				t.Fatalf("DeviceActive = %v, want InvalidArgument", err)
			}
			t.Logf("error: %v", err)
			if lp, _ := e.m.Port(ldID, portno.Name(tc.bad.GetPortNo())); lp != nil && lp.GetDeviceId() == tc.dev.GetId() {
				t.Errorf("rejected port added: %v", lp)
			}
			if _, err := e.m.Port(ldID, portno.Name(tc.good.GetPortNo())); err != nil {
				t.Errorf("valid port beside it: %v", err)
			}
			if !strings.Contains(logs.String(), "port rejected") {
				t.Errorf("rejection not logged; log:\n%s", logs)
			}
		})
	}
	// The duplicate left onu1's port alone.
	lp, err := e.m.Port(ldID, "uni-16")
	if err != nil || lp.GetDeviceId() != "onu1" {
		t.Errorf("uni-16 = %v, %v; want onu1's", lp, err)
	}
}

func TestRootGoneRemovesEverything(t *testing.T) {
	e := memEnv(t)
	testRootGone(t, e)
}

// testRootGone removes an OLT with flows, groups and meters and checks
// that nothing of its logical device is left in the store, and nothing of
// another one is touched.
func testRootGone(t *testing.T, e *env) {
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	other := activeOLT(t, e, "olt-other")
	for i := range 3 {
		activate(t, e, onu("onu"+string(rune('a'+i)), "olt"), uni("onu"+string(rune('a'+i)), 0, uint32(i+1), 0))
	}
	for _, ld := range []string{ldID, other} {
		for _, put := range []func() error{
			func() error { return e.st.Flows.Put(ctx, ld+"/1", &openflowv1.Flow{}) },
			func() error { return e.st.Flows.Put(ctx, ld+"/2", &openflowv1.Flow{}) },
			func() error { return e.st.Groups.Put(ctx, ld+"/1", &openflowv1.GroupDesc{}) },
			func() error { return e.st.Meters.Put(ctx, ld+"/1", &openflowv1.MeterConfig{}) },
		} {
			if err := put(); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := keys(t, e)
	e.rec.take(t)

	if err := e.m.DeviceGone(ctx, olt("olt", "")); err != nil {
		t.Fatal(err)
	}
	after := keys(t, e)
	for _, k := range after {
		if strings.Contains(k, ldID) {
			t.Errorf("left in the store: %s", k)
		}
	}
	var otherKeys []string
	for _, k := range before {
		if strings.Contains(k, other) {
			otherKeys = append(otherKeys, k)
		}
	}
	if diff := cmp.Diff(otherKeys, after); diff != "" {
		t.Errorf("store after removal, want exactly the other logical device's keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"REMOVED logical device of olt"}, e.rec.take(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, ok := e.m.ByRoot("olt"); ok {
		t.Error("ByRoot still finds the removed logical device")
	}
	if _, err := e.m.Get(ldID); !errors.Is(err, coreerr.ErrNotFound) {
		t.Errorf("Get(removed) = %v", err)
	}
	if got := e.m.List(); len(got) != 1 || got[0].GetId() != other {
		t.Errorf("List = %v, want only %s", got, other)
	}
	// Removing again, or a child of the removed OLT, is a no-op.
	if err := e.m.DeviceGone(ctx, olt("olt", "")); err != nil {
		t.Error(err)
	}
	if err := e.m.DeviceGone(ctx, onu("onua", "olt")); err != nil {
		t.Error(err)
	}
	// The OLT coming back gets a new logical device.
	again, err := e.m.DeviceActive(ctx, olt("olt", ""), []*voltv1.Port{nni("olt", 0)})
	if err != nil || again == ldID || again == "" {
		t.Errorf("re-created logical device = %q, %v", again, err)
	}
}

// keys lists every key under the store's prefix.
func keys(t *testing.T, e *env) []string {
	t.Helper()
	kvs, err := e.st.KV.List(t.Context(), e.st.Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, kv.Key)
	}
	return out
}

func TestLoadRestoresState(t *testing.T) {
	testLoad(t, memEnv(t))
}

// testLoad builds some state, loads it into a fresh manager and checks the
// two agree, and that the fresh one carries on from there.
func testLoad(t *testing.T, e *env) {
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	activeOLT(t, e, "olt2")
	o1, o2 := onu("onu1", "olt"), onu("onu2", "olt")
	activate(t, e, o1, uni("onu1", 0, 1, 0))
	activate(t, e, o2, uni("onu2", 0, 2, 0), uni("onu2", 0, 2, 1))
	if err := e.m.DisablePort(ctx, ldID, "uni-33"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.SetPortsUp(ctx, with(o1, disabled, active), false); err != nil {
		t.Fatal(err)
	}

	fresh := e.manager(t, nil)
	if err := fresh.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e.m.List(), fresh.List(), protocmp.Transform()); diff != "" {
		t.Errorf("loaded logical devices (-before +after):\n%s", diff)
	}
	for _, ld := range e.m.List() {
		before, _ := e.m.Ports(ld.GetId())
		after, err := fresh.Ports(ld.GetId())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after, protocmp.Transform()); diff != "" {
			t.Errorf("loaded ports of %s (-before +after):\n%s", ld.GetId(), diff)
		}
		root := ld.GetRootDeviceId()
		if id, ok := fresh.ByRoot(root); !ok || id != ld.GetId() {
			t.Errorf("loaded ByRoot(%s) = %q, %v", root, id, ok)
		}
	}

	// The loaded manager knows who holds which number and which ports are
	// whose.
	e.m = fresh
	e.rec.take(t)
	intruder := onu("intruder", "olt")
	e.devs.set(intruder, uni("intruder", 0, 2, 0))
	if _, err := fresh.DeviceActive(ctx, intruder, []*voltv1.Port{uni("intruder", 0, 2, 0)}); !errors.Is(err, coreerr.ErrInvalidArgument) {
		t.Errorf("duplicate after Load = %v, want InvalidArgument", err)
	}
	if err := fresh.DeviceGone(ctx, o2); err != nil {
		t.Fatal(err)
	}
	want := []string{"nni-1 olt LIVE", "nni-2 olt LIVE", "uni-16 onu1 DOWN"}
	if diff := cmp.Diff(want, e.ports(t, ldID)); diff != "" {
		t.Errorf("ports after Load and onu2 gone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.storedPorts(t, ldID)); diff != "" {
		t.Errorf("stored ports (-want +got):\n%s", diff)
	}
}
