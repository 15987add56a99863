package nbi

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// PmConfigs keeps the devices' PM configurations (telemetry.PmConfigs).
type PmConfigs interface {
	Get(ctx context.Context, id string) (*voltv1.PmConfig, error)
	Update(ctx context.Context, cfg *voltv1.PmConfig) (*voltv1.PmConfig, error)
}

// AlarmList lists the alarms the core keeps (telemetry.Alarms).
type AlarmList interface {
	List(deviceID string, active bool) []*voltv1.Alarm
}

// GetPmConfig and UpdatePmConfig answer Unimplemented only on an NBI built
// without PM configurations (nbitest's fake core); the core always has them.
func (s *Server) GetPmConfig(ctx context.Context, req *voltv1.ID) (*voltv1.PmConfig, error) {
	if s.cfg.Pm == nil {
		return nil, status.Error(codes.Unimplemented, "this core keeps no PM configurations")
	}
	if err := needID(req.GetId()); err != nil {
		return nil, err
	}
	cfg, err := s.cfg.Pm.Get(ctx, req.GetId())
	if err != nil {
		return nil, coreerr.ToStatus(err)
	}
	return cfg, nil
}

func (s *Server) UpdatePmConfig(ctx context.Context, req *voltv1.PmConfig) (*voltv1.PmConfig, error) {
	if s.cfg.Pm == nil {
		return nil, status.Error(codes.Unimplemented, "this core keeps no PM configurations")
	}
	cfg, err := s.cfg.Pm.Update(ctx, req)
	if _, err := s.done("UpdatePmConfig", req, err); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (s *Server) ListAlarms(_ context.Context, req *voltv1.ListAlarmsRequest) (*voltv1.Alarms, error) {
	if s.cfg.Alarms == nil {
		return nil, status.Error(codes.Unimplemented, "this core keeps no alarms")
	}
	if id := req.GetDeviceId(); id != "" {
		if _, err := s.cfg.Devices.Device(id); err != nil {
			return nil, coreerr.ToStatus(err)
		}
	}
	return &voltv1.Alarms{Items: s.cfg.Alarms.List(req.GetDeviceId(), req.GetActive())}, nil
}
