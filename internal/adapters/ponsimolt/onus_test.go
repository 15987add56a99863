package ponsimolt

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"

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
