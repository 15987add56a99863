package ponsim

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/logging"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Name: "olt1", PONPorts: 1, ONUsPerPON: 4}
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"defaults of the command", func(*Config) {}, ""},
		{"largest", func(c *Config) { c.PONPorts, c.ONUsPerPON = MaxPONPorts, MaxONUsPerPON }, ""},
		{"bench size", func(c *Config) { c.PONPorts, c.ONUsPerPON = 16, 64 }, ""},
		{"reboot delay", func(c *Config) { c.RebootDelay = time.Second }, ""},
		{"empty name", func(c *Config) { c.Name = "" }, "--name must not be empty"},
		{"name with space", func(c *Config) { c.Name = "my olt" }, "--name"},
		{"name with control", func(c *Config) { c.Name = "olt\x00" }, "--name"},
		{"long name", func(c *Config) { c.Name = strings.Repeat("x", 65) }, "at most 64"},
		{"no pon ports", func(c *Config) { c.PONPorts = 0 }, "--pon-ports 0 out of range 1..16"},
		{"too many pon ports", func(c *Config) { c.PONPorts = 17 }, "--pon-ports 17 out of range 1..16 (the port layout numbers PONs 0..15)"},
		{"negative pon ports", func(c *Config) { c.PONPorts = -1 }, "--pon-ports -1"},
		{"no onus", func(c *Config) { c.ONUsPerPON = 0 }, "--onus-per-pon 0 out of range 1..128"},
		{"too many onus", func(c *Config) { c.ONUsPerPON = 129 }, "--onus-per-pon 129 out of range 1..128"},
		{"negative reboot delay", func(c *Config) { c.RebootDelay = -time.Second }, "--reboot-delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error with %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error is not one line: %q", err)
			}
			sim, nerr := New(c)
			if (nerr == nil) != (err == nil) {
				t.Fatalf("New disagrees with Validate: %v", nerr)
			}
			if sim != nil {
				sim.Close()
			}
		})
	}
}

// TestLimitsFitLayout: the largest simulator numbers every UNI within
// adapter/portno, so no ONU's port wraps onto another's.
func TestLimitsFitLayout(t *testing.T) {
	if err := portno.Check(MaxPONPorts-1, MaxONUsPerPON, 0); err != nil {
		t.Fatalf("MaxPONPorts %d, MaxONUsPerPON %d: %v", MaxPONPorts, MaxONUsPerPON, err)
	}
	if portno.Check(MaxPONPorts, 1, 0) == nil {
		t.Errorf("MaxPONPorts %d is below what the layout allows", MaxPONPorts)
	}
}

func TestDeviceInfo(t *testing.T) {
	s := serve(t, testConfig("olt-a", 2, 3))
	info, err := s.client.GetDeviceInfo(testCtx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	olt := info.GetOlt()
	if olt.GetName() != "olt-a" || olt.GetNniPort() != portno.NNI(0) || olt.GetEnabled() ||
		olt.GetVendor() != Vendor || olt.GetModel() != Model || olt.GetFirmwareVersion() == "" {
		t.Errorf("olt = %v", olt)
	}
	if want := []uint32{portno.OLTPON(0), portno.OLTPON(1)}; !equalU32(olt.GetPonPorts(), want) {
		t.Errorf("pon ports %v, want %v", olt.GetPonPorts(), want)
	}
	if !strings.HasPrefix(olt.GetSerialNumber(), "PSIM") || len(olt.GetSerialNumber()) != 12 || olt.GetSerialNumber() != s.sim.OLTSerial() {
		t.Errorf("olt serial %q", olt.GetSerialNumber())
	}
	if _, err := net.ParseMAC(olt.GetMacAddress()); err != nil {
		t.Errorf("olt mac: %v", err)
	}
	if len(info.GetOnus()) != 6 {
		t.Fatalf("%d onus, want 6", len(info.GetOnus()))
	}
	seen := map[string]bool{olt.GetSerialNumber(): true, olt.GetMacAddress(): true}
	i := 0
	for pon := range uint32(2) {
		for id := uint32(1); id <= 3; id++ {
			u := info.GetOnus()[i]
			i++
			if u.GetPonPort() != portno.OLTPON(pon) || u.GetOnuId() != id || u.GetUniPort() != portno.UNI(pon, id, 0) ||
				u.GetState() != ponsimv1.OnuState_ONU_STATE_ACTIVE {
				t.Errorf("onu %d/%d = %v", pon, id, u)
			}
			if !strings.HasPrefix(u.GetSerialNumber(), "PSMO") || len(u.GetSerialNumber()) != 12 || s.sim.ONUSerial(pon, id) != u.GetSerialNumber() {
				t.Errorf("onu serial %q", u.GetSerialNumber())
			}
			if _, err := net.ParseMAC(u.GetMacAddress()); err != nil {
				t.Errorf("onu mac: %v", err)
			}
			if seen[u.GetSerialNumber()] || seen[u.GetMacAddress()] {
				t.Errorf("onu %v: serial or mac not unique", u)
			}
			seen[u.GetSerialNumber()], seen[u.GetMacAddress()] = true, true
		}
	}
	if s.sim.ONUSerial(2, 1) != "" || s.sim.ONUSerial(0, 0) != "" || s.sim.ONUSerial(0, 4) != "" {
		t.Error("ONUSerial out of range is not empty")
	}
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestIdentitiesStable(t *testing.T) {
	info := func(name string) *ponsimv1.DeviceInfo {
		s, err := New(testConfig(name, 16, 64))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.DeviceInfo()
	}
	a1, a2, b := info("olt-a"), info("olt-a"), info("olt-b")
	if !proto.Equal(a1, a2) {
		t.Error("two simulators named olt-a differ")
	}
	ids := func(in *ponsimv1.DeviceInfo) map[string]bool {
		m := map[string]bool{in.GetOlt().GetSerialNumber(): true, in.GetOlt().GetMacAddress(): true}
		for _, u := range in.GetOnus() {
			m[u.GetSerialNumber()], m[u.GetMacAddress()] = true, true
		}
		return m
	}
	ia, ib := ids(a1), ids(b)
	if len(ia) != 2+2*16*64 {
		t.Errorf("%d distinct identities in olt-a, want %d", len(ia), 2+2*16*64)
	}
	for id := range ib {
		if ia[id] {
			t.Errorf("%s is in both olt-a and olt-b", id)
		}
	}
}

func TestDiscovery(t *testing.T) {
	s := serve(t, testConfig("disc", 2, 4))
	ctx := testCtx(t)
	first := events(t, s.client)
	expectOLT(t, first, false) // the stream is live

	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, first, true)
	got := expectONUs(t, first, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 8)

	info, err := s.client.GetDeviceInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.GetOlt().GetEnabled() {
		t.Error("olt not enabled after EnableDevice")
	}
	for _, u := range info.GetOnus() {
		if !proto.Equal(got[u.GetSerialNumber()], u) {
			t.Errorf("discovered %v, device info has %v", got[u.GetSerialNumber()], u)
		}
	}

	// Enabling again changes nothing and sends nothing; a stream opened
	// now gets the current picture at once.
	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{SerialNumber: s.sim.OLTSerial()}); err != nil {
		t.Fatal(err)
	}
	second := events(t, s.client)
	expectOLT(t, second, true)
	again := expectONUs(t, second, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 8)
	for serial, u := range got {
		if !proto.Equal(again[serial], u) {
			t.Errorf("second stream: %v, want %v", again[serial], u)
		}
	}

	// Both streams see the next change, and the first saw nothing between.
	u := s.sim.ONUSerial(1, 2)
	if _, err := s.client.DisableDevice(ctx, &ponsimv1.DeviceRef{SerialNumber: u}); err != nil {
		t.Fatal(err)
	}
	expectONUState(t, first, u, ponsimv1.OnuState_ONU_STATE_DISABLED)
	expectONUState(t, second, u, ponsimv1.OnuState_ONU_STATE_DISABLED)
}

// TestDiscoveryAtScale is the benchmark's shape: 1,024 ONUs discovered on
// one stream, each once. How fast is for volt bench to measure: a bound on
// the time would fail on a loaded machine under -race for no fault.
func TestDiscoveryAtScale(t *testing.T) {
	s := serve(t, testConfig("scale", 16, 64))
	st := events(t, s.client)
	expectOLT(t, st, false)
	start := time.Now()
	if _, err := s.client.EnableDevice(testCtx(t), &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, st, true)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 1024)
	t.Logf("1024 ONUs discovered in %v", time.Since(start))
}

func TestDisable(t *testing.T) {
	s := serve(t, testConfig("dis", 1, 3))
	ctx := testCtx(t)
	st := events(t, s.client)
	expectOLT(t, st, false)
	olt := &ponsimv1.DeviceRef{}
	u1, u2 := s.sim.ONUSerial(0, 1), s.sim.ONUSerial(0, 2)

	// Changes while the OLT is disabled are not visible: no events.
	if _, err := s.client.DisableDevice(ctx, &ponsimv1.DeviceRef{SerialNumber: u1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.DisableDevice(ctx, olt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.EnableDevice(ctx, olt); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, st, true)
	got := expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 3)
	if got[u1].GetState() != ponsimv1.OnuState_ONU_STATE_DISABLED || got[u2].GetState() != ponsimv1.OnuState_ONU_STATE_ACTIVE {
		t.Errorf("discovered %v", got)
	}

	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{SerialNumber: u1}); err != nil {
		t.Fatal(err)
	}
	expectONUState(t, st, u1, ponsimv1.OnuState_ONU_STATE_ACTIVE)

	if _, err := s.client.DisableDevice(ctx, olt); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, st, false)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_LOST, 3)
	info, err := s.client.GetDeviceInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetOlt().GetEnabled() {
		t.Error("olt enabled after DisableDevice")
	}
	// Disabling twice is fine and silent; the next event is the enable.
	if _, err := s.client.DisableDevice(ctx, olt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.EnableDevice(ctx, olt); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, st, true)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 3)
}

func TestONUReboot(t *testing.T) {
	s := serve(t, testConfig("reboot", 1, 2))
	ctx := testCtx(t)
	st := events(t, s.client)
	expectOLT(t, st, false)
	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, st, true)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 2)

	u := s.sim.ONUSerial(0, 2)
	for range 2 { // a reboot during a reboot does nothing more
		if _, err := s.client.RebootDevice(ctx, &ponsimv1.DeviceRef{SerialNumber: u}); err != nil {
			t.Fatal(err)
		}
	}
	expectONUState(t, st, u, ponsimv1.OnuState_ONU_STATE_REBOOTING)
	expectONUState(t, st, u, ponsimv1.OnuState_ONU_STATE_ACTIVE)

	// And it can reboot again.
	if _, err := s.client.RebootDevice(ctx, &ponsimv1.DeviceRef{SerialNumber: u}); err != nil {
		t.Fatal(err)
	}
	expectONUState(t, st, u, ponsimv1.OnuState_ONU_STATE_REBOOTING)
	expectONUState(t, st, u, ponsimv1.OnuState_ONU_STATE_ACTIVE)
}

func TestOLTReboot(t *testing.T) {
	s := serve(t, testConfig("olt-reboot", 2, 2))
	ctx := testCtx(t)
	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	st := events(t, s.client)
	expectOLT(t, st, true)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 4)
	if _, err := s.client.RebootDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	expectOLT(t, st, false)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_LOST, 4)
	expectOLT(t, st, true)
	expectONUs(t, st, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, 4)
}

// TestRebootStopsWithClose: a reboot in flight when the simulator stops
// ends with it (goleak checks the timer goroutine).
func TestRebootStopsWithClose(t *testing.T) {
	cfg := testConfig("close", 1, 1)
	cfg.RebootDelay = time.Hour
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reboot(s.ONUSerial(0, 1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if err := s.Reboot(""); !errors.Is(err, ErrClosed) {
		t.Errorf("Reboot after Close = %v, want ErrClosed", err)
	}
}

func TestErrors(t *testing.T) {
	s := serve(t, testConfig("errs", 1, 1))
	ctx := testCtx(t)
	unknown := &ponsimv1.DeviceRef{SerialNumber: "PSMO00000000X"}
	_, err := s.client.EnableDevice(ctx, unknown)
	wantCode(t, err, codes.NotFound)
	_, err = s.client.DisableDevice(ctx, unknown)
	wantCode(t, err, codes.NotFound)
	_, err = s.client.RebootDevice(ctx, unknown)
	wantCode(t, err, codes.NotFound)
	_, err = s.client.GetStats(ctx, unknown)
	wantCode(t, err, codes.NotFound)
	_, err = s.client.UpdateFlowTable(ctx, &ponsimv1.FlowTable{Device: unknown})
	wantCode(t, err, codes.NotFound)
	_, err = s.client.SendFrame(ctx, &ponsimv1.Frame{Device: unknown, PortNo: portno.ONUPON, Payload: make([]byte, 60)})
	wantCode(t, err, codes.NotFound)

	_, err = s.client.UpdateFlowTable(ctx, &ponsimv1.FlowTable{})
	wantCode(t, err, codes.InvalidArgument)
	_, err = s.client.SendFrame(ctx, &ponsimv1.Frame{PortNo: portno.NNI(0), Payload: make([]byte, 60)})
	wantCode(t, err, codes.InvalidArgument) // no device
	_, err = s.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: portno.NNI(0), Payload: make([]byte, 10)})
	wantCode(t, err, codes.InvalidArgument) // too short
	_, err = s.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: portno.NNI(1), Payload: make([]byte, 60)})
	wantCode(t, err, codes.InvalidArgument) // no such port
	_, err = s.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: portno.NNI(0), Payload: make([]byte, 60)})
	wantCode(t, err, codes.FailedPrecondition) // the OLT is disabled

	if err := s.sim.Connect("", portno.OLTPON(0), func([]byte) {}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Connect to a PON port = %v, want ErrInvalidArgument", err)
	}
	if err := s.sim.Inject("nope", portno.NNI(0), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Inject to an unknown device = %v, want ErrNotFound", err)
	}
	if _, err := s.sim.FlowTable("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FlowTable of an unknown device = %v, want ErrNotFound", err)
	}
}

func TestStats(t *testing.T) {
	s := serve(t, testConfig("stats", 2, 1))
	ctx := testCtx(t)
	olt, err := s.client.GetStats(ctx, &ponsimv1.DeviceRef{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range olt.GetPorts() {
		got = append(got, p.GetDevice()+"/"+p.GetName())
	}
	if want := "olt/nni-0 olt/pon-0 olt/pon-1"; strings.Join(got, " ") != want {
		t.Errorf("olt ports %q, want %q", got, want)
	}
	if p := olt.GetPorts()[0]; p.GetPortNo() != portno.NNI(0) || p.GetRxFrames() != 0 {
		t.Errorf("nni %v", p)
	}
	serial := s.sim.ONUSerial(1, 1)
	onu, err := s.client.GetStats(ctx, &ponsimv1.DeviceRef{SerialNumber: serial})
	if err != nil {
		t.Fatal(err)
	}
	if len(onu.GetPorts()) != 2 ||
		onu.GetPorts()[0].GetPortNo() != portno.UNI(1, 1, 0) || onu.GetPorts()[0].GetDevice() != serial ||
		onu.GetPorts()[1].GetPortNo() != portno.ONUPON {
		t.Errorf("onu ports %v", onu.GetPorts())
	}
	// Counting itself is tested with the dataplane.
}

// TestServeStops: streams open, the context ends, Serve returns promptly
// and the streams end with Unavailable.
func TestServeStops(t *testing.T) {
	sim, err := New(testConfig("stop", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- sim.Serve(ctx, "127.0.0.1:0", logging.Discard(), func(a string) { addrc <- a }) }()
	addr := <-addrc

	// A second server on the same address fails with a one-line error.
	err = Serve(context.Background(), testConfig("other", 1, 1), addr, logging.Discard(), nil)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("second Serve on %s = %v", addr, err)
	}

	s := served{sim: sim}
	conn := dialTest(t, addr)
	s.client = ponsimv1.NewPonSimClient(conn)
	st := events(t, s.client)
	expectOLT(t, st, false)
	frames, err := s.client.ReceiveFrames(testCtx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "frame streams", func() error { return sim.frameStreams(1) })

	start := time.Now()
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Serve took %v to stop", d)
	}
	_, err = st.Recv()
	wantCode(t, err, codes.Unavailable)
	_, err = frames.Recv()
	wantCode(t, err, codes.Unavailable)
}

// TestSlowEventStream: a stream that falls too far behind loses its queue
// and is told so (ReceiveEvents then ends it with ResourceExhausted).
func TestSlowEventStream(t *testing.T) {
	s, err := New(testConfig("slow", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, err := s.subscribeEvents()
	if err != nil {
		t.Fatal(err)
	}
	defer s.unsubscribeEvents(sub)
	for range maxQueuedEvents / 2 { // each toggle: OLT_STATE and one ONU event
		if err := s.Enable(""); err != nil {
			t.Fatal(err)
		}
		if err := s.Disable(""); err != nil {
			t.Fatal(err)
		}
	}
	batch, overflow := s.takeEvents(sub)
	if !overflow || len(batch) != 0 {
		t.Fatalf("overflow %v with %d events queued", overflow, len(batch))
	}
}
