package ponsimolt

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// detectCore counts the children the handler reports; any other call
// panics (the embedded interface is nil).
type detectCore struct {
	adapterv1.CoreServiceClient
	detected int
}

func (c *detectCore) ChildDeviceDetected(context.Context, *adapterv1.ChildDeviceDetectedRequest, ...grpc.CallOption) (*voltv1.Device, error) {
	c.detected++
	return nil, errors.New("not in this test")
}

// TestDetectOutsideLayout: an ONU on a PON or with an id adapter/portno
// cannot number is refused with the layout's ranges, and never reaches
// the core, where its UNI would wrap onto another ONU's.
func TestDetectOutsideLayout(t *testing.T) {
	core := &detectCore{}
	h := &handler{core: core, log: slog.New(slog.DiscardHandler)}
	o := newOLT("olt1", "127.0.0.1:1", h.log)
	defer o.close()
	for _, tc := range []struct {
		pon, onu uint32
		want     string
	}{
		{16, 1, "ONU PSMO00000001 not added: uni 16/1/0 out of range (pon 0..15, onu 1..239, uni 0..15)"},
		{0, 240, "ONU PSMO00000001 not added: uni 0/240/0 out of range"},
		{0, 0, "out of range"},
	} {
		err := h.detect(t.Context(), o, &ponsimv1.OnuInfo{SerialNumber: "PSMO00000001", PonPort: portno.OLTPON(tc.pon), OnuId: tc.onu})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PON %d ONU %d: %v, want %q", tc.pon, tc.onu, err, tc.want)
		}
	}
	if core.detected != 0 {
		t.Errorf("%d ONUs reported to the core", core.detected)
	}
	if err := h.detect(t.Context(), o, &ponsimv1.OnuInfo{SerialNumber: "PSMO00000001", PonPort: portno.OLTPON(15), OnuId: 239}); err == nil || core.detected != 1 {
		t.Errorf("the last ONU of the layout: %v, %d reports", err, core.detected)
	}
}

// alarmCore records the state and alarm reports the handler makes; any
// other call panics (the embedded interface is nil).
type alarmCore struct {
	adapterv1.CoreServiceClient
	states []voltv1.ConnectStatus
	alarms []string
}

func (c *alarmCore) DeviceStateUpdate(_ context.Context, r *adapterv1.DeviceStateUpdateRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	c.states = append(c.states, r.GetConnectStatus())
	return &emptypb.Empty{}, nil
}

func (c *alarmCore) DeviceReasonUpdate(context.Context, *adapterv1.DeviceReasonUpdateRequest, ...grpc.CallOption) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (c *alarmCore) UpdateAlarm(_ context.Context, a *voltv1.Alarm, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	c.alarms = append(c.alarms, a.GetType()+" "+a.GetState().String())
	return &emptypb.Empty{}, nil
}

// TestSnapshotOlderThanAnEvent: a sync's snapshot of ponsim shows an ONU
// powered off, but by the time its report runs the stream said the ONU is
// back (and that was reported). The snapshot is not reported: it would
// raise the ONU's alarms again and mark it unreachable, for good. An ONU
// with no event since the snapshot is reported from it.
func TestSnapshotOlderThanAnEvent(t *testing.T) {
	core := &alarmCore{}
	h := &handler{core: core, log: slog.New(slog.DiscardHandler)}
	o := newOLT("olt1", "127.0.0.1:1", h.log)
	defer o.close()
	o.setEnabled(true)
	active := &child{id: "onu1", oper: voltv1.OperStatus_OPER_STATUS_ACTIVE, conn: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE}
	o.setChild("PSMO00000001", active)
	o.setChild("PSMO00000002", &child{id: "onu2", oper: active.oper, conn: active.conn})
	off := func(serial string) *ponsimv1.OnuInfo {
		return &ponsimv1.OnuInfo{SerialNumber: serial, PonPort: portno.OLTPON(0), OnuId: 1, State: ponsimv1.OnuState_ONU_STATE_POWERED_OFF}
	}

	mark := o.eventMark() // the sync asks for its snapshot
	o.readONUEvent("PSMO00000001")
	if err := h.reportSnapshot(t.Context(), o, off("PSMO00000001"), mark); err != nil {
		t.Fatal(err)
	}
	if len(core.states)+len(core.alarms) != 0 || *o.child("PSMO00000001") != *active {
		t.Fatalf("a snapshot older than the ONU's last event was reported: states %v, alarms %v", core.states, core.alarms)
	}

	if err := h.reportSnapshot(t.Context(), o, off("PSMO00000002"), mark); err != nil {
		t.Fatal(err)
	}
	want := []string{"ONU_LOS ALARM_STATE_RAISED", "ONU_DYING_GASP ALARM_STATE_RAISED"}
	if !slices.Equal(core.states, []voltv1.ConnectStatus{voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE}) || !slices.Equal(core.alarms, want) {
		t.Errorf("the snapshot of an ONU without a later event: states %v, alarms %v; want UNREACHABLE and %v", core.states, core.alarms, want)
	}
}
