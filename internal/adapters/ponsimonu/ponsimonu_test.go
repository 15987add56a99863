package ponsimonu

import (
	"log/slog"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// The adoption itself is tested end to end with the OLT adapter
// (internal/adapters/ponsimolt); these are the checks before it.
func TestAdoptRejectsDevicesWithoutAPlaceOnThePON(t *testing.T) {
	a, err := adapter.New(Defaults(adapter.Config{Brokers: []string{"127.0.0.1:9"}}))
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(a, slog.New(slog.DiscardHandler))
	svc := adapter.NewService(ID, h, nil)
	for _, tc := range []struct {
		name string
		pa   *voltv1.ProxyAddress
	}{
		{"no proxy address", nil},
		{"onu id 0", &voltv1.ProxyAddress{DeviceId: "olt", ChannelId: 0, OnuId: 0}},
		{"pon out of range", &voltv1.ProxyAddress{DeviceId: "olt", ChannelId: 256, OnuId: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.AdoptDevice(t.Context(), &voltv1.Device{Id: "onu1", Type: DeviceType, ProxyAddress: tc.pa})
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("AdoptDevice: %v, want InvalidArgument", err)
			}
		})
	}
	want := []string{"AdoptDevice", "ReconcileDevice", "DisableDevice", "ReenableDevice", "RebootDevice", "DeleteDevice",
		"UpdateFlowsBulk", "UpdateFlowsIncrementally", "SendPacketOut", "UpdatePmConfig"}
	if got := adapter.Operations(h); !slices.Equal(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
}
