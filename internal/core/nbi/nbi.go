// Package nbi serves the northbound VoltService. It is the one place where
// the core's domain errors become gRPC status codes (coreerr.ToStatus).
package nbi

import (
	"context"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// Devices is the device manager as the NBI sees it.
type Devices interface {
	List(filter func(*voltv1.Device) bool) []*voltv1.Device
	Device(id string) (*voltv1.Device, error)
	Ports(id string) ([]*voltv1.Port, error)
	Create(ctx context.Context, d *voltv1.Device) (*voltv1.Device, error)
	Enable(ctx context.Context, id string) error
	Disable(ctx context.Context, id string) error
	Reboot(ctx context.Context, id string) error
	Delete(ctx context.Context, id string) error
}

// LogicalDevices is the logical-device manager as the NBI sees it.
type LogicalDevices interface {
	List() []*voltv1.LogicalDevice
	Get(id string) (*voltv1.LogicalDevice, error)
	Ports(id string) ([]*voltv1.LogicalPort, error)
	Port(ldID, portID string) (*voltv1.LogicalPort, error)
	EnablePort(ctx context.Context, ldID, portID string) error
	DisablePort(ctx context.Context, ldID, portID string) error
}

// Adapters is the adapter registry as the NBI sees it.
type Adapters interface {
	Adapters() []*voltv1.Adapter
	DeviceTypes() []*voltv1.DeviceType
}

// Events is the change-event fan-out.
type Events interface {
	Subscribe(ctx context.Context, filter func(*voltv1.Event) bool) <-chan *voltv1.Event
}

// Flows reads the flow, group and meter tables.
type Flows interface {
	LogicalFlows(ctx context.Context, ldID string) ([]*openflowv1.Flow, error)
	LogicalGroups(ctx context.Context, ldID string) ([]*openflowv1.Group, error)
	LogicalMeters(ctx context.Context, ldID string) ([]*openflowv1.Meter, error)
	DeviceFlows(ctx context.Context, deviceID string) ([]*openflowv1.Flow, error)
	DeviceGroups(ctx context.Context, deviceID string) ([]*openflowv1.Group, error)
	DeviceMeters(ctx context.Context, deviceID string) ([]*openflowv1.Meter, error)
}

// Config wires the server.
type Config struct {
	Devices        Devices
	LogicalDevices LogicalDevices
	Adapters       Adapters
	Events         Events
	Flows          Flows
	FlowMods       FlowMods
	// TechProfiles is the tech-profile store; nil: the RPCs say Unimplemented.
	TechProfiles TechProfiles
	// Resolver looks up device host names at create; nil is
	// net.DefaultResolver.
	Resolver Resolver
	// OMCI reads OMCI ONU records (omci.go); nil answers Unimplemented.
	OMCI OMCIRecords
	// Pm and Alarms serve the telemetry RPCs (telemetry.go); nil answers
	// Unimplemented.
	Pm     PmConfigs
	Alarms AlarmList
	Logger *slog.Logger
}

// Server implements voltv1.VoltServiceServer.
type Server struct {
	voltv1.UnimplementedVoltServiceServer
	cfg Config
}

// New returns the NBI server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg}
}

// Register adds the server to a gRPC server.
func (s *Server) Register(r grpc.ServiceRegistrar) { voltv1.RegisterVoltServiceServer(r, s) }

var empty = &emptypb.Empty{}

func needID(id string) error {
	if id == "" {
		return status.Error(codes.InvalidArgument, "id is required")
	}
	return nil
}

// done logs an operator's change at debug (what was asked and how it
// ended) and maps the error to a status.
func (s *Server) done(method string, req proto.Message, err error) (*emptypb.Empty, error) {
	if s.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		s.cfg.Logger.Debug("nbi call", "method", method, "req", prototext.MarshalOptions{}.Format(req), "err", err)
	}
	return done(err)
}

// done maps an error from the domain to a status and an empty reply.
func done(err error) (*emptypb.Empty, error) {
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return empty, nil
}

func (s *Server) ListDevices(_ context.Context, req *voltv1.ListDevicesRequest) (*voltv1.Devices, error) {
	var filter func(*voltv1.Device) bool
	if req.GetType() != "" || req.GetParentId() != "" {
		filter = func(d *voltv1.Device) bool {
			return (req.GetType() == "" || d.GetType() == req.GetType()) &&
				(req.GetParentId() == "" || d.GetParentId() == req.GetParentId())
		}
	}
	return &voltv1.Devices{Items: s.cfg.Devices.List(filter)}, nil
}

func (s *Server) GetDevice(_ context.Context, req *voltv1.ID) (*voltv1.Device, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	d, err := s.cfg.Devices.Device(req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return d, nil
}

func (s *Server) CreateDevice(ctx context.Context, req *voltv1.Device) (*voltv1.Device, error) {
	req, err := s.checkNewDevice(ctx, req)
	if err != nil {
		s.cfg.Logger.Debug("nbi call", "method", "CreateDevice", "err", err)
		return nil, coreerr.ToStatus(err)
	}
	d, err := s.cfg.Devices.Create(ctx, req)
	s.cfg.Logger.Debug("nbi call", "method", "CreateDevice", "type", req.GetType(), "address", req.GetHostAndPort(), "id", d.GetId(), "err", err)
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return d, nil
}

func (s *Server) EnableDevice(ctx context.Context, req *voltv1.ID) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	return s.done("EnableDevice", req, s.cfg.Devices.Enable(ctx, req.GetId()))
}

func (s *Server) DisableDevice(ctx context.Context, req *voltv1.ID) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	return s.done("DisableDevice", req, s.cfg.Devices.Disable(ctx, req.GetId()))
}

func (s *Server) RebootDevice(ctx context.Context, req *voltv1.ID) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	return s.done("RebootDevice", req, s.cfg.Devices.Reboot(ctx, req.GetId()))
}

func (s *Server) DeleteDevice(ctx context.Context, req *voltv1.ID) (*emptypb.Empty, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	return s.done("DeleteDevice", req, s.cfg.Devices.Delete(ctx, req.GetId()))
}

func (s *Server) ListDevicePorts(_ context.Context, req *voltv1.ID) (*voltv1.Ports, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	ports, err := s.cfg.Devices.Ports(req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &voltv1.Ports{Items: ports}, nil
}

// knownDevice answers NotFound for an unknown device before a table read.
func (s *Server) knownDevice(id string) error {
	if err := needID(id); err != nil {
		return err
	}
	if _, err := s.cfg.Devices.Device(id); err != nil {
		return coreerr.ToStatus(err)
	}
	return nil
}

func (s *Server) knownLogicalDevice(id string) error {
	if err := needID(id); err != nil {
		return err
	}
	if _, err := s.cfg.LogicalDevices.Get(id); err != nil {
		return coreerr.ToStatus(err)
	}
	return nil
}

func (s *Server) ListDeviceFlows(ctx context.Context, req *voltv1.ID) (*openflowv1.Flows, error) {
	if err := s.knownDevice(req.GetId()); err != nil {
		return nil, err
	}
	flows, err := s.cfg.Flows.DeviceFlows(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &openflowv1.Flows{Items: flows}, nil
}

func (s *Server) ListDeviceFlowGroups(ctx context.Context, req *voltv1.ID) (*openflowv1.Groups, error) {
	if err := s.knownDevice(req.GetId()); err != nil {
		return nil, err
	}
	groups, err := s.cfg.Flows.DeviceGroups(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &openflowv1.Groups{Items: groups}, nil
}

func (s *Server) ListDeviceMeters(ctx context.Context, req *voltv1.ID) (*openflowv1.Meters, error) {
	if err := s.knownDevice(req.GetId()); err != nil {
		return nil, err
	}
	meters, err := s.cfg.Flows.DeviceMeters(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &openflowv1.Meters{Items: meters}, nil
}

func (s *Server) ListLogicalDevices(context.Context, *emptypb.Empty) (*voltv1.LogicalDevices, error) {
	return &voltv1.LogicalDevices{Items: s.cfg.LogicalDevices.List()}, nil
}

func (s *Server) GetLogicalDevice(_ context.Context, req *voltv1.ID) (*voltv1.LogicalDevice, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	ld, err := s.cfg.LogicalDevices.Get(req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return ld, nil
}

func (s *Server) ListLogicalDevicePorts(_ context.Context, req *voltv1.ID) (*voltv1.LogicalPorts, error) {
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	ports, err := s.cfg.LogicalDevices.Ports(req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &voltv1.LogicalPorts{Items: ports}, nil
}

func needPort(req *voltv1.LogicalPortID) error {
	if req.GetLogicalDeviceId() == "" || req.GetPortId() == "" {
		return status.Error(codes.InvalidArgument, "logical device id and port id are required")
	}
	return nil
}

func (s *Server) GetLogicalDevicePort(_ context.Context, req *voltv1.LogicalPortID) (*voltv1.LogicalPort, error) {
	if err := needPort(req); err != nil {
		return nil, err
	}
	p, err := s.cfg.LogicalDevices.Port(req.GetLogicalDeviceId(), req.GetPortId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return p, nil
}

func (s *Server) EnableLogicalDevicePort(ctx context.Context, req *voltv1.LogicalPortID) (*emptypb.Empty, error) {
	if err := needPort(req); err != nil {
		return nil, err
	}
	return s.done("EnableLogicalDevicePort", req, s.cfg.LogicalDevices.EnablePort(ctx, req.GetLogicalDeviceId(), req.GetPortId()))
}

func (s *Server) DisableLogicalDevicePort(ctx context.Context, req *voltv1.LogicalPortID) (*emptypb.Empty, error) {
	if err := needPort(req); err != nil {
		return nil, err
	}
	return s.done("DisableLogicalDevicePort", req, s.cfg.LogicalDevices.DisablePort(ctx, req.GetLogicalDeviceId(), req.GetPortId()))
}

func (s *Server) ListLogicalDeviceFlows(ctx context.Context, req *voltv1.ID) (*openflowv1.Flows, error) {
	if err := s.knownLogicalDevice(req.GetId()); err != nil {
		return nil, err
	}
	flows, err := s.cfg.Flows.LogicalFlows(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &openflowv1.Flows{Items: flows}, nil
}

func (s *Server) ListLogicalDeviceFlowGroups(ctx context.Context, req *voltv1.ID) (*openflowv1.Groups, error) {
	if err := s.knownLogicalDevice(req.GetId()); err != nil {
		return nil, err
	}
	groups, err := s.cfg.Flows.LogicalGroups(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &openflowv1.Groups{Items: groups}, nil
}

func (s *Server) ListLogicalDeviceMeters(ctx context.Context, req *voltv1.ID) (*openflowv1.Meters, error) {
	if err := s.knownLogicalDevice(req.GetId()); err != nil {
		return nil, err
	}
	meters, err := s.cfg.Flows.LogicalMeters(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return &openflowv1.Meters{Items: meters}, nil
}

func (s *Server) ListAdapters(context.Context, *emptypb.Empty) (*voltv1.Adapters, error) {
	return &voltv1.Adapters{Items: s.cfg.Adapters.Adapters()}, nil
}

func (s *Server) ListDeviceTypes(context.Context, *emptypb.Empty) (*voltv1.DeviceTypes, error) {
	return &voltv1.DeviceTypes{Items: s.cfg.Adapters.DeviceTypes()}, nil
}

// ReceiveChangeEvents streams events until the client cancels or falls too
// far behind (then the stream ends with ResourceExhausted). The stream's
// header is sent once the subscription is in place: a client that waits for
// it (ClientStream.Header) sees every event published after that.
func (s *Server) ReceiveChangeEvents(req *voltv1.ReceiveChangeEventsRequest, stream grpc.ServerStreamingServer[voltv1.Event]) error {
	filter, err := eventFilter(req)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	ch := s.cfg.Events.Subscribe(ctx, filter)
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
				return status.Error(codes.ResourceExhausted, "event stream fell too far behind; reconnect and re-read state")
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// eventPayloads is the oneof of Event, whose field names filter streams.
func eventPayloads() protoreflect.OneofDescriptor {
	return (&voltv1.Event{}).ProtoReflect().Descriptor().Oneofs().ByName("payload")
}

// eventFilter turns a stream request into a filter (nil: every event); a
// request naming an unknown payload or change kind is InvalidArgument.
func eventFilter(req *voltv1.ReceiveChangeEventsRequest) (func(*voltv1.Event) bool, error) {
	dev, ld := req.GetDeviceId(), req.GetLogicalDeviceId()
	oneof := eventPayloads()
	payloads := map[protoreflect.Name]bool{}
	for _, p := range req.GetPayloads() {
		if oneof.Fields().ByName(protoreflect.Name(p)) == nil {
			var names []string
			for i := range oneof.Fields().Len() {
				names = append(names, string(oneof.Fields().Get(i).Name()))
			}
			return nil, status.Errorf(codes.InvalidArgument, "payload %q: not an event payload (one of %s)", p, strings.Join(names, ", "))
		}
		payloads[protoreflect.Name(p)] = true
	}
	kinds := map[voltv1.ChangeKind]bool{}
	for _, k := range req.GetFlowChangeKinds() {
		if _, ok := voltv1.ChangeKind_name[int32(k)]; !ok || k == voltv1.ChangeKind_CHANGE_KIND_UNSPECIFIED {
			return nil, status.Errorf(codes.InvalidArgument, "flow change kind %d: not a change kind", k)
		}
		kinds[k] = true
	}
	flags, refusals := req.GetFlowFlags(), req.GetFlowRefusals()
	if dev == "" && ld == "" && len(payloads) == 0 && len(kinds) == 0 && flags == 0 {
		return nil, nil
	}
	return func(ev *voltv1.Event) bool {
		if (dev != "" && ev.GetDeviceId() != dev) || (ld != "" && ev.GetLogicalDeviceId() != ld) {
			return false
		}
		if len(payloads) > 0 {
			f := ev.ProtoReflect().WhichOneof(oneof)
			if f == nil || !payloads[f.Name()] {
				return false
			}
		}
		if fc := ev.GetFlow(); fc != nil && !(refusals && fc.GetRefusal() != nil) {
			if (len(kinds) > 0 && !kinds[fc.GetKind()]) || (flags != 0 && fc.GetFlow().GetFlags()&flags == 0) {
				return false
			}
		}
		return true
	}, nil
}
