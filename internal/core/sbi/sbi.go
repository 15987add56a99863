// Package sbi serves adapter.v1.CoreService: what adapters call on the core,
// carried over msgbus (or plain gRPC). Like nbi, it maps domain errors to
// gRPC codes at this edge, so adapters see the same codes as NBI clients.
package sbi

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// Devices is the device manager as adapters reach it.
type Devices interface {
	Device(id string) (*voltv1.Device, error)
	Ports(id string) ([]*voltv1.Port, error)
	Children(parentID string) []*voltv1.Device
	Update(ctx context.Context, d *voltv1.Device) error
	UpdateState(ctx context.Context, id string, oper voltv1.OperStatus, conn voltv1.ConnectStatus) error
	PortCreated(ctx context.Context, id string, p *voltv1.Port) error
	UpdatePortState(ctx context.Context, id string, portNo uint32, oper voltv1.OperStatus) error
	PortRemoved(ctx context.Context, id string, portNo uint32) error
	ChildDetected(ctx context.Context, req *adapterv1.ChildDeviceDetectedRequest) (*voltv1.Device, error)
	ChildrenLost(ctx context.Context, parentID string) error
	SetReason(ctx context.Context, id, reason string) error
}

// Registrar takes adapter registrations.
type Registrar interface {
	Register(ctx context.Context, a *voltv1.Adapter, types []*voltv1.DeviceType) error
}

// PacketIns takes frames adapters send to the controller.
type PacketIns interface {
	PacketIn(ctx context.Context, deviceID string, portNo uint32, packet []byte) error
}

// Alarms takes the alarms adapters raise and clear.
type Alarms interface {
	Update(ctx context.Context, a *voltv1.Alarm) (bool, error)
}

// Stats keeps the counters adapters report.
type Stats interface {
	Report(ctx context.Context, r *adapterv1.StatsReport) (*adapterv1.StatsReportResult, error)
}

// Config wires the server.
type Config struct {
	Devices   Devices
	Registrar Registrar
	PacketIns PacketIns
	// Alarms, when nil, answers UpdateAlarm Unimplemented.
	Alarms Alarms
	Stats  Stats // nil: ReportStats answers Unimplemented
	Logger *slog.Logger
}

// UpdateAlarm raises or clears an alarm of a device.
func (s *Server) UpdateAlarm(ctx context.Context, a *voltv1.Alarm) (*emptypb.Empty, error) {
	if s.cfg.Alarms == nil {
		return nil, status.Error(codes.Unimplemented, "this core keeps no alarms")
	}
	_, err := s.cfg.Alarms.Update(ctx, a)
	return s.done("UpdateAlarm", a, err)
}

// Server implements adapterv1.CoreServiceServer.
type Server struct {
	adapterv1.UnimplementedCoreServiceServer
	cfg Config
}

// New returns the server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg}
}

// RegisterOn adds the service to a registrar (a msgbus.Server or grpc.Server).
func (s *Server) RegisterOn(r grpc.ServiceRegistrar) { adapterv1.RegisterCoreServiceServer(r, s) }

var empty = &emptypb.Empty{}

// done logs an adapter's call at debug (the device it names, what it
// asked, and how the core answered) and maps the error to a status.
func (s *Server) done(method string, req proto.Message, err error) (*emptypb.Empty, error) {
	if s.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		s.cfg.Logger.Debug("adapter call", "method", method, "req", prototext.MarshalOptions{}.Format(req), "err", err)
	}
	return done(err)
}

func done(err error) (*emptypb.Empty, error) {
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return empty, nil
}

func (s *Server) Register(ctx context.Context, req *adapterv1.RegisterRequest) (*emptypb.Empty, error) {
	return s.done("Register", req, s.cfg.Registrar.Register(ctx, req.GetAdapter(), req.GetDeviceTypes()))
}

func (s *Server) GetDevice(_ context.Context, req *adapterv1.DeviceRequest) (*voltv1.Device, error) {
	d, err := s.cfg.Devices.Device(req.GetDeviceId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return d, nil
}

func (s *Server) DeviceUpdate(ctx context.Context, req *voltv1.Device) (*emptypb.Empty, error) {
	return s.done("DeviceUpdate", req, s.cfg.Devices.Update(ctx, req))
}

func (s *Server) DeviceStateUpdate(ctx context.Context, req *adapterv1.DeviceStateUpdateRequest) (*emptypb.Empty, error) {
	return s.done("DeviceStateUpdate", req, s.cfg.Devices.UpdateState(ctx, req.GetDeviceId(), req.GetOperStatus(), req.GetConnectStatus()))
}

func (s *Server) PortCreated(ctx context.Context, req *adapterv1.PortCreatedRequest) (*emptypb.Empty, error) {
	return s.done("PortCreated", req, s.cfg.Devices.PortCreated(ctx, req.GetDeviceId(), req.GetPort()))
}

func (s *Server) PortStateUpdate(ctx context.Context, req *adapterv1.PortStateUpdateRequest) (*emptypb.Empty, error) {
	return s.done("PortStateUpdate", req, s.cfg.Devices.UpdatePortState(ctx, req.GetDeviceId(), req.GetPortNo(), req.GetOperStatus()))
}

func (s *Server) PortRemoved(ctx context.Context, req *adapterv1.PortRemovedRequest) (*emptypb.Empty, error) {
	return s.done("PortRemoved", req, s.cfg.Devices.PortRemoved(ctx, req.GetDeviceId(), req.GetPortNo()))
}

func (s *Server) ListDevicePorts(_ context.Context, req *adapterv1.DeviceRequest) (*voltv1.Ports, error) {
	ports, err := s.cfg.Devices.Ports(req.GetDeviceId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &voltv1.Ports{Items: ports}, nil
}

func (s *Server) ChildDeviceDetected(ctx context.Context, req *adapterv1.ChildDeviceDetectedRequest) (*voltv1.Device, error) {
	d, err := s.cfg.Devices.ChildDetected(ctx, req)
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return d, nil
}

func (s *Server) ChildDevicesLost(ctx context.Context, req *adapterv1.DeviceRequest) (*emptypb.Empty, error) {
	return s.done("ChildDevicesLost", req, s.cfg.Devices.ChildrenLost(ctx, req.GetDeviceId()))
}

func (s *Server) GetChildDevices(_ context.Context, req *adapterv1.DeviceRequest) (*voltv1.Devices, error) {
	if _, err := s.cfg.Devices.Device(req.GetDeviceId()); err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &voltv1.Devices{Items: s.cfg.Devices.Children(req.GetDeviceId())}, nil
}

func (s *Server) DeviceReasonUpdate(ctx context.Context, req *adapterv1.DeviceReasonUpdateRequest) (*emptypb.Empty, error) {
	return s.done("DeviceReasonUpdate", req, s.cfg.Devices.SetReason(ctx, req.GetDeviceId(), req.GetReason()))
}

func (s *Server) SendPacketIn(ctx context.Context, req *adapterv1.PacketInRequest) (*emptypb.Empty, error) {
	return s.done("SendPacketIn", req, s.cfg.PacketIns.PacketIn(ctx, req.GetDeviceId(), req.GetPortNo(), req.GetPacket()))
}

// ReportStats keeps a batch of dataplane counters; those naming unknown
// devices, flows, ports or meters are dropped and counted.
func (s *Server) ReportStats(ctx context.Context, req *adapterv1.StatsReport) (*adapterv1.StatsReportResult, error) {
	if s.cfg.Stats == nil {
		return s.UnimplementedCoreServiceServer.ReportStats(ctx, req)
	}
	res, err := s.cfg.Stats.Report(ctx, req)
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	if res.GetDropped() > 0 {
		s.cfg.Logger.Debug("counters of unknown devices, flows, ports or meters dropped", "device", req.GetDeviceId(), "dropped", res.GetDropped())
	}
	return res, nil
}
