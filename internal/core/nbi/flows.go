package nbi

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// FlowMods changes the flow, group and meter tables and sends frames.
type FlowMods interface {
	UpdateFlowTable(ctx context.Context, ldID string, fm *openflowv1.FlowMod) error
	// UpdateFlowTables applies fms in order, each on its own: errs[i] is
	// the failure of fms[i]; err means none was tried.
	UpdateFlowTables(ctx context.Context, ldID string, fms []*openflowv1.FlowMod) (errs []error, err error)
	UpdateGroupTable(ctx context.Context, ldID string, gm *openflowv1.GroupMod) error
	UpdateMeterTable(ctx context.Context, ldID string, mm *openflowv1.MeterMod) error
	PacketOut(ctx context.Context, ldID string, po *openflowv1.PacketOut) error
}

func (s *Server) UpdateLogicalDeviceFlowTable(ctx context.Context, req *voltv1.FlowTableUpdate) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	if req.GetFlowMod() == nil {
		return nil, status.Error(codes.InvalidArgument, "flow_mod is required")
	}
	return s.done("UpdateLogicalDeviceFlowTable", req, s.cfg.FlowMods.UpdateFlowTable(ctx, req.GetId(), req.GetFlowMod()))
}

func (s *Server) UpdateLogicalDeviceFlowTables(ctx context.Context, req *voltv1.FlowTableUpdates) (*voltv1.FlowTableUpdateResults, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	fms := req.GetFlowMods()
	for i, fm := range fms {
		if fm == nil {
			return nil, status.Errorf(codes.InvalidArgument, "flow_mods[%d] is empty", i)
		}
	}
	errs, err := s.cfg.FlowMods.UpdateFlowTables(ctx, req.GetId(), fms)
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	res := &voltv1.FlowTableUpdateResults{}
	for i, err := range errs {
		if err == nil {
			continue
		}
		st := status.Convert(coreerr.ToStatus(err)).Proto()
		res.Failures = append(res.Failures, &voltv1.FlowModFailure{
			Index:  uint32(i),
			Status: &voltv1.Status{Code: st.GetCode(), Message: st.GetMessage(), Details: st.GetDetails()},
		})
	}
	return res, nil
}

func (s *Server) UpdateLogicalDeviceFlowGroupTable(ctx context.Context, req *voltv1.FlowGroupTableUpdate) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	if req.GetGroupMod() == nil {
		return nil, status.Error(codes.InvalidArgument, "group_mod is required")
	}
	return s.done("UpdateLogicalDeviceFlowGroupTable", req, s.cfg.FlowMods.UpdateGroupTable(ctx, req.GetId(), req.GetGroupMod()))
}

func (s *Server) UpdateLogicalDeviceMeterTable(ctx context.Context, req *voltv1.MeterModUpdate) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	if req.GetMeterMod() == nil {
		return nil, status.Error(codes.InvalidArgument, "meter_mod is required")
	}
	return s.done("UpdateLogicalDeviceMeterTable", req, s.cfg.FlowMods.UpdateMeterTable(ctx, req.GetId(), req.GetMeterMod()))
}

// StreamPacketsOut sends each frame; a frame that cannot be sent is logged
// and skipped, so one bad frame does not end the controller's stream.
func (s *Server) StreamPacketsOut(stream grpc.ClientStreamingServer[voltv1.PacketOut, emptypb.Empty]) error {
	for {
		po, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(empty)
		}
		if err != nil {
			return err
		}
		if err := s.cfg.FlowMods.PacketOut(stream.Context(), po.GetLogicalDeviceId(), po.GetPacketOut()); err != nil {
			s.cfg.Logger.Warn("packet-out dropped", "logical_device", po.GetLogicalDeviceId(), "err", coreerr.ToStatus(err))
		}
	}
}

// ReceivePacketsIn streams packet-ins until the client cancels. As with
// ReceiveChangeEvents, the header is sent once the subscription is in place.
func (s *Server) ReceivePacketsIn(req *voltv1.ReceivePacketsInRequest, stream grpc.ServerStreamingServer[voltv1.PacketIn]) error {
	ld := req.GetLogicalDeviceId()
	ctx := stream.Context()
	ch := s.cfg.Events.Subscribe(ctx, func(ev *voltv1.Event) bool {
		return ev.GetPacketIn() != nil && (ld == "" || ev.GetLogicalDeviceId() == ld)
	})
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return status.Error(codes.ResourceExhausted, "packet-in stream fell too far behind; reconnect")
			}
			if err := stream.Send(ev.GetPacketIn()); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}
