package adapter_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// portsCore holds one device's port numbers; removing a number in gone
// answers NotFound, as when the port went meanwhile, and one in broken
// answers Unavailable.
type portsCore struct {
	adapterv1.CoreServiceClient // nil: any other call panics
	have                        []uint32
	gone, broken                uint32
	removed                     []uint32
}

func (c *portsCore) ListDevicePorts(context.Context, *adapterv1.DeviceRequest, ...grpc.CallOption) (*voltv1.Ports, error) {
	var ps voltv1.Ports
	for _, no := range c.have {
		ps.Items = append(ps.Items, &voltv1.Port{PortNo: no})
	}
	return &ps, nil
}

func (c *portsCore) PortRemoved(_ context.Context, req *adapterv1.PortRemovedRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	switch req.GetPortNo() {
	case c.gone:
		return nil, status.Error(codes.NotFound, "no such port")
	case c.broken:
		return nil, status.Error(codes.Unavailable, "core busy")
	}
	c.removed = append(c.removed, req.GetPortNo())
	return &emptypb.Empty{}, nil
}

func TestRemoveStalePorts(t *testing.T) {
	keep := []*voltv1.Port{{PortNo: 1}, {PortNo: 2}}
	c := &portsCore{have: []uint32{1, 2, 3, 1048576, 9}, gone: 9}
	if err := adapter.RemoveStalePorts(context.Background(), c, "olt", keep); err != nil {
		t.Fatal(err)
	}
	if want := []uint32{3, 1048576}; !slices.Equal(c.removed, want) {
		t.Errorf("removed %v, want %v", c.removed, want)
	}

	c = &portsCore{have: []uint32{1, 5}, broken: 5}
	err := adapter.RemoveStalePorts(context.Background(), c, "olt", keep)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "port 5 of device olt") {
		t.Errorf("failed removal: %v, want Unavailable naming port 5 of device olt", err)
	}
}
