package adapter_test

import (
	"testing"

	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

func TestDeviceKeyFunc(t *testing.T) {
	keyOf := adapter.DeviceKeyFunc()
	dev := &voltv1.Device{Id: "olt-1", ParentId: "ignored"}
	for _, c := range []struct {
		name string
		msg  proto.Message
		want string
	}{
		{"Device", dev, "olt-1"},
		{"child Device", &voltv1.Device{Id: "onu-1", ParentId: "olt-1"}, "onu-1"},
		{"ID", &voltv1.ID{Id: "ld-1"}, "ld-1"},
		{"device_id", &adapterv1.DeviceRequest{DeviceId: "olt-2"}, "olt-2"},
		{"Port", &voltv1.Port{DeviceId: "olt-3", PortNo: 1}, "olt-3"},
		{"Event", &voltv1.Event{Id: "e", DeviceId: "olt-4"}, "olt-4"},
		{"parent_id", &adapterv1.ChildDeviceDetectedRequest{ParentId: "olt-5"}, "olt-5"},
		{"device field", &adapterv1.PortRequest{Device: dev}, "olt-1"},
		{"device field unset", &adapterv1.PortRequest{}, ""},
		{"BulkFlows", &adapterv1.BulkFlowsRequest{Device: dev}, "olt-1"},
		{"empty device_id", &adapterv1.DeviceRequest{}, ""},
		{"RegisterRequest", &adapterv1.RegisterRequest{}, ""},
		{"Empty", &emptypb.Empty{}, ""},
		{"other id field", &grpc_health_v1.HealthCheckRequest{Service: "x"}, ""},
		{"nil", nil, ""},
		{"typed nil", (*voltv1.Device)(nil), ""},
	} {
		for range 2 { // the second time from the cache
			if got := keyOf(c.msg); got != c.want {
				t.Errorf("%s: key = %q, want %q", c.name, got, c.want)
			}
		}
	}
}
