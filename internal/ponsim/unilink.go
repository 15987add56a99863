package ponsim

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// UNILinker is a face that simulates its ONUs' UNIs (OMCI): it takes a
// UNI's Ethernet link down or up.
type UNILinker interface {
	SetUNILink(serial string, uni int, up bool) error
}

// SetUniLink takes a UNI's link down or up through the first watcher that
// is a UNILinker; without one it is FailedPrecondition.
func (s *Sim) SetUniLink(_ context.Context, req *ponsimv1.UniLink) (*emptypb.Empty, error) {
	if req.GetSerialNumber() == "" {
		return nil, toStatus(fmt.Errorf("serial_number is required: a link belongs to one ONU's UNI: %w", ErrInvalidArgument))
	}
	s.mu.Lock()
	var l UNILinker
	for _, w := range s.watchers {
		if x, ok := w.(UNILinker); ok {
			l = x
			break
		}
	}
	s.mu.Unlock()
	if l == nil {
		return nil, status.Error(codes.FailedPrecondition, "UNI links are simulated only with OMCI (ponsim's openolt face)")
	}
	if req.GetUni() > 7 {
		return nil, toStatus(fmt.Errorf("uni %d: want 0..7: %w", req.GetUni(), ErrInvalidArgument))
	}
	return empty(l.SetUNILink(req.GetSerialNumber(), int(req.GetUni()), req.GetUp()))
}
