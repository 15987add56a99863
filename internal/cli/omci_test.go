package cli_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
)

// omciNBI is the fake NBI with one OMCI ONU's records (onu1).
type omciNBI struct{ *fakeNBI }

func (n omciNBI) GetDeviceMib(_ context.Context, req *voltv1.ID) (*voltv1.DeviceMib, error) {
	if req.GetId() != "onu1" {
		return nil, status.Errorf(codes.FailedPrecondition, "device %s has no MIB: not an OMCI ONU, or its adapter has not synchronised it yet", req.GetId())
	}
	attrs, _ := structpb.NewStruct(map[string]any{"VendorId": "PSMO", "AdministrativeState": 0})
	return &voltv1.DeviceMib{DeviceId: "onu1", MibDataSync: 9, Vendor: "PSMO", Version: "ponsim-1.0", EquipmentId: "PONSIM-ONU",
		Entities: []*voltv1.MibEntity{{ClassId: 256, ClassName: "OnuG", Instance: 0, Attributes: attrs}}}, nil
}

func (n omciNBI) GetDeviceOmci(_ context.Context, req *voltv1.ID) (*voltv1.OmciStats, error) {
	return &voltv1.OmciStats{DeviceId: req.GetId(), Sent: 206, Received: 206, Retries: 1, LastError: "Get Request: no response"}, nil
}

func TestDeviceMibAndOmci(t *testing.T) {
	addr := serve(t, func(s grpc.ServiceRegistrar) { voltv1.RegisterVoltServiceServer(s, omciNBI{newFakeNBI()}) })

	out, _, err := run(t, cli.NewDeviceCommand(), "mib", "onu1", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vendor PSMO", "mib-data-sync 9", "CLASS", "256", "OnuG", "0x0000", "AdministrativeState=0 VendorId=PSMO"} {
		if !strings.Contains(out, want) {
			t.Errorf("mib table lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, cli.NewDeviceCommand(), "mib", "onu1", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mib map[string]any
	if err := json.Unmarshal([]byte(out), &mib); err != nil || mib["equipmentId"] != "PONSIM-ONU" {
		t.Errorf("mib -o json: %v\n%s", err, out)
	}
	if _, _, err := run(t, cli.NewDeviceCommand(), "mib", "olt1", "--server", addr); err == nil ||
		!strings.HasPrefix(err.Error(), "FailedPrecondition: device olt1 has no MIB") {
		t.Errorf("mib of an OLT: %v, want one FailedPrecondition line", err)
	}
	out, _, err = run(t, cli.NewDeviceCommand(), "omci", "onu1", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SENT", "RETRIES", "206", "Get Request: no response"} {
		if !strings.Contains(out, want) {
			t.Errorf("omci table lacks %q:\n%s", want, out)
		}
	}
}
