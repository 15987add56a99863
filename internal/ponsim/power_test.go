package ponsim

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// An ONU powered off sends a dying gasp and leaves the PON (ONU_LOST),
// is POWERED_OFF in DeviceInfo and absent from a new stream's picture;
// powered on it is discovered again. The OLT going down and up meanwhile
// says nothing about it.
func TestOnuPower(t *testing.T) {
	s := serve(t, testConfig("power", 1, 2))
	ctx := testCtx(t)
	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	serial := s.sim.ONUSerial(0, 1)
	st := events(t, s.client)
	expectOLT(t, st, true)
	recvEvent(t, st)
	recvEvent(t, st) // the two ONUs discovered

	off := &ponsimv1.OnuPower{SerialNumber: serial}
	for range 2 { // the second changes nothing
		if _, err := s.client.SetOnuPower(ctx, off); err != nil {
			t.Fatal(err)
		}
	}
	ev := recvEvent(t, st)
	if ev.GetType() != ponsimv1.EventType_EVENT_TYPE_ONU_LOST || !ev.GetDyingGasp() || ev.GetOnu().GetSerialNumber() != serial ||
		ev.GetOnu().GetState() != ponsimv1.OnuState_ONU_STATE_POWERED_OFF {
		t.Fatalf("after power-off: %v, want ONU_LOST with a dying gasp, POWERED_OFF", ev)
	}
	info, err := s.client.GetDeviceInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if got := info.GetOnus()[0].GetState(); got != ponsimv1.OnuState_ONU_STATE_POWERED_OFF {
		t.Errorf("DeviceInfo state %v, want POWERED_OFF", got)
	}
	fresh := events(t, s.client)
	expectOLT(t, fresh, true)
	if ev := recvEvent(t, fresh); ev.GetOnu().GetSerialNumber() == serial {
		t.Errorf("a new stream discovers the powered-off ONU: %v", ev)
	}

	// The OLT down and up: the other ONU only.
	if _, err := s.client.DisableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.EnableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	for range 4 { // OLT_STATE, ONU_LOST, OLT_STATE, ONU_DISCOVERED
		if ev := recvEvent(t, st); ev.GetOnu().GetSerialNumber() == serial {
			t.Errorf("OLT down and up: event about the powered-off ONU: %v", ev)
		}
	}

	if _, err := s.client.SetOnuPower(ctx, &ponsimv1.OnuPower{SerialNumber: serial, On: true}); err != nil {
		t.Fatal(err)
	}
	ev = recvEvent(t, st)
	if ev.GetType() != ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED || ev.GetOnu().GetState() != ponsimv1.OnuState_ONU_STATE_ACTIVE {
		t.Fatalf("after power-on: %v, want ONU_DISCOVERED, ACTIVE", ev)
	}

	for _, bad := range []struct {
		req  *ponsimv1.OnuPower
		code codes.Code
	}{
		{&ponsimv1.OnuPower{}, codes.InvalidArgument},
		{&ponsimv1.OnuPower{SerialNumber: s.sim.OLTSerial()}, codes.InvalidArgument},
		{&ponsimv1.OnuPower{SerialNumber: "NOPE0001"}, codes.NotFound},
	} {
		if _, err := s.client.SetOnuPower(ctx, bad.req); status.Code(err) != bad.code {
			t.Errorf("SetOnuPower(%v): %v, want %v", bad.req, err, bad.code)
		}
	}
}

// GetStats of "*" returns every device's port counters: the OLT's, then
// each ONU's UNI and PON port.
func TestStatsOfAllDevices(t *testing.T) {
	s := serve(t, testConfig("stats", 2, 3))
	st, err := s.client.GetStats(testCtx(t), &ponsimv1.DeviceRef{SerialNumber: AllDevices})
	if err != nil {
		t.Fatal(err)
	}
	byDevice := map[string]int{}
	for _, p := range st.GetPorts() {
		byDevice[p.GetDevice()]++
	}
	if byDevice[OLTDevice] != 3 || len(byDevice) != 7 {
		t.Fatalf("ports by device %v: want the OLT's 3 (NNI, 2 PONs) and 2 for each of 6 ONUs", byDevice)
	}
	for d, n := range byDevice {
		if d != OLTDevice && n != 2 {
			t.Errorf("ONU %s has %d ports, want 2", d, n)
		}
	}
}
