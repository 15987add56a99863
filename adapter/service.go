package adapter

import (
	"context"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// service is the AdapterService the SDK serves: each method answers
// Unimplemented when the handler lacks its interface, checks the request,
// and calls the handler.
type service struct {
	// Every method is implemented below.
	adapterv1.UnsafeAdapterServiceServer

	id   string
	h    Adopter
	log  *slog.Logger
	kpis *kpis // nil: the handler is no KpiCollector
}

var _ adapterv1.AdapterServiceServer = (*service)(nil)

// NewService returns the AdapterService server the SDK builds from h for
// the adapter named id, to serve it on another transport (plain gRPC).
func NewService(id string, h Adopter, log *slog.Logger) adapterv1.AdapterServiceServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &service{id: id, h: h, log: log}
}

func (s *service) unsupported(method string) error {
	return status.Errorf(codes.Unimplemented, "adapter %s does not support %s", s.id, method)
}

// check answers Unimplemented for a method h lacks and InvalidArgument for
// a request without a device id.
func (s *service) check(method string, d *voltv1.Device) error {
	if !supports(s.h, method) {
		return s.unsupported(method)
	}
	if d.GetId() == "" {
		return status.Errorf(codes.InvalidArgument, "%s: the request names no device (empty id)", method)
	}
	s.log.Debug("call", "method", method, "device", d.GetId(), "type", d.GetType())
	return nil
}

// call runs a method whose answer is Empty.
func (s *service) call(method string, d *voltv1.Device, fn func() error) (*emptypb.Empty, error) {
	if err := s.check(method, d); err != nil {
		return nil, err
	}
	if err := fn(); err != nil {
		s.log.Debug("call failed", "method", method, "device", d.GetId(), "err", err)
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *service) AdoptDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("AdoptDevice", d, func() error { return s.tracked(d, s.h.AdoptDevice(ctx, d)) })
}

// tracked starts the KPIs of a device adopted or reconciled without error.
func (s *service) tracked(d *voltv1.Device, err error) error {
	if err == nil {
		s.kpis.track(d)
	}
	return err
}

// UpdatePmConfig gives the device's KPI loop its configuration (kpi.go).
func (s *service) UpdatePmConfig(_ context.Context, cfg *voltv1.PmConfig) (*emptypb.Empty, error) {
	if s.kpis == nil {
		return nil, s.unsupported("UpdatePmConfig")
	}
	if cfg.GetDeviceId() == "" {
		return nil, status.Error(codes.InvalidArgument, "UpdatePmConfig: the request names no device (empty device_id)")
	}
	if cfg.GetEnabled() && cfg.GetInterval().AsDuration() <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "UpdatePmConfig: device %s: interval %v must be positive", cfg.GetDeviceId(), cfg.GetInterval().AsDuration())
	}
	s.kpis.set(cfg)
	return &emptypb.Empty{}, nil
}

func (s *service) ReconcileDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("ReconcileDevice", d, func() error { return s.tracked(d, s.h.(Reconciler).ReconcileDevice(ctx, d)) })
}

func (s *service) DisableDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("DisableDevice", d, func() error { return s.h.(Disabler).DisableDevice(ctx, d) })
}

func (s *service) ReenableDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("ReenableDevice", d, func() error { return s.h.(Disabler).ReenableDevice(ctx, d) })
}

func (s *service) RebootDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("RebootDevice", d, func() error { return s.h.(Rebooter).RebootDevice(ctx, d) })
}

func (s *service) DeleteDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("DeleteDevice", d, func() error {
		err := s.h.(Deleter).DeleteDevice(ctx, d)
		if err == nil {
			s.kpis.untrack(d.GetId())
		}
		return err
	})
}

func (s *service) ChildDeviceLost(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	return s.call("ChildDeviceLost", d, func() error { return s.h.(ChildLostHandler).ChildDeviceLost(ctx, d) })
}

func (s *service) EnablePort(ctx context.Context, req *adapterv1.PortRequest) (*emptypb.Empty, error) {
	return s.call("EnablePort", req.GetDevice(), func() error { return s.h.(PortEnabler).EnablePort(ctx, req) })
}

func (s *service) DisablePort(ctx context.Context, req *adapterv1.PortRequest) (*emptypb.Empty, error) {
	return s.call("DisablePort", req.GetDevice(), func() error { return s.h.(PortEnabler).DisablePort(ctx, req) })
}

func (s *service) UpdateFlowsBulk(ctx context.Context, req *adapterv1.BulkFlowsRequest) (*emptypb.Empty, error) {
	return s.call("UpdateFlowsBulk", req.GetDevice(), func() error {
		return s.h.(BulkFlowUpdater).UpdateFlowsBulk(ctx, req)
	})
}

func (s *service) UpdateFlowsIncrementally(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) (*emptypb.Empty, error) {
	return s.call("UpdateFlowsIncrementally", req.GetDevice(), func() error {
		return s.h.(IncrementalFlowUpdater).UpdateFlowsIncrementally(ctx, req)
	})
}

func (s *service) SendPacketOut(ctx context.Context, req *adapterv1.PacketOutRequest) (*emptypb.Empty, error) {
	return s.call("SendPacketOut", req.GetDevice(), func() error { return s.h.(PacketSender).SendPacketOut(ctx, req) })
}

func (s *service) GetOfpDeviceInfo(ctx context.Context, d *voltv1.Device) (*adapterv1.SwitchCapability, error) {
	const method = "GetOfpDeviceInfo"
	if err := s.check(method, d); err != nil {
		return nil, err
	}
	resp, err := s.h.(OfpInfoProvider).GetOfpDeviceInfo(ctx, d)
	if err == nil && resp == nil {
		err = status.Errorf(codes.Internal, "adapter %s: %s answered nothing", s.id, method)
	}
	return resp, err
}

func (s *service) GetOfpPortInfo(ctx context.Context, req *adapterv1.OfpPortInfoRequest) (*voltv1.LogicalPort, error) {
	const method = "GetOfpPortInfo"
	if err := s.check(method, req.GetDevice()); err != nil {
		return nil, err
	}
	resp, err := s.h.(OfpInfoProvider).GetOfpPortInfo(ctx, req)
	if err == nil && resp == nil {
		err = status.Errorf(codes.Internal, "adapter %s: %s answered nothing", s.id, method)
	}
	return resp, err
}

func (s *service) ProcessInterAdapterMessage(ctx context.Context, msg *adapterv1.InterAdapterMessage) (*emptypb.Empty, error) {
	const method = "ProcessInterAdapterMessage"
	if !supports(s.h, method) {
		return nil, s.unsupported(method)
	}
	if msg.GetHeader().GetToDeviceId() == "" {
		return nil, status.Errorf(codes.InvalidArgument, "%s: the message header names no device (to_device_id)", method)
	}
	if err := s.h.(InterAdapterHandler).ProcessInterAdapterMessage(ctx, msg); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
