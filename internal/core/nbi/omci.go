package nbi

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// ErrNoRecord is what OMCIRecords returns for a record that is not there.
var ErrNoRecord = errors.New("no record")

// OMCIRecords reads what an OMCI ONU's adapter keeps about an ONU in the
// core's store: its MIB and its engine's counters (JSON, as the omci_onu
// adapter writes them).
type OMCIRecords interface {
	MIB(ctx context.Context, deviceID string) ([]byte, error)
	Stats(ctx context.Context, deviceID string) ([]byte, error)
}

// omciRecord reads one record of an existing device.
func (s *Server) omciRecord(ctx context.Context, id, what string, read func(context.Context, string) ([]byte, error)) ([]byte, error) {
	if err := needID(id); err != nil {
		return nil, err
	}
	if _, err := s.cfg.Devices.Device(id); err != nil {
		return nil, coreerr.ToStatus(err)
	}
	if s.cfg.OMCI == nil {
		return nil, status.Errorf(codes.Unimplemented, "this core does not read OMCI records")
	}
	b, err := read(ctx, id)
	if errors.Is(err, ErrNoRecord) {
		return nil, status.Errorf(codes.FailedPrecondition, "device %s has no %s: not an OMCI ONU, or its adapter has not synchronised it yet", id, what)
	}
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "device %s: reading its %s: %v", id, what, err)
	}
	return b, nil
}

// GetDeviceMib returns the MIB an OMCI ONU's adapter learned.
func (s *Server) GetDeviceMib(ctx context.Context, req *voltv1.ID) (*voltv1.DeviceMib, error) {
	b, err := s.omciRecord(ctx, req.GetId(), "MIB", s.cfg.OMCI.MIB)
	if err != nil {
		return nil, err
	}
	var rec struct {
		MibDataSync uint32 `json:"mib_data_sync"`
		Vendor      string `json:"vendor"`
		Version     string `json:"version"`
		EquipmentID string `json:"equipment_id"`
		Entities    []struct {
			Class      uint32         `json:"class"`
			ClassName  string         `json:"class_name"`
			Instance   uint32         `json:"instance"`
			Attributes map[string]any `json:"attributes"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, status.Errorf(codes.DataLoss, "device %s: its stored MIB is unreadable: %v", req.GetId(), err)
	}
	out := &voltv1.DeviceMib{DeviceId: req.GetId(), MibDataSync: rec.MibDataSync, Vendor: rec.Vendor,
		Version: rec.Version, EquipmentId: rec.EquipmentID}
	for _, e := range rec.Entities {
		attrs, err := structpb.NewStruct(e.Attributes)
		if err != nil {
			return nil, status.Errorf(codes.DataLoss, "device %s: MIB entity %d/%d: %v", req.GetId(), e.Class, e.Instance, err)
		}
		out.Entities = append(out.Entities, &voltv1.MibEntity{ClassId: e.Class, ClassName: e.ClassName, Instance: e.Instance, Attributes: attrs})
	}
	return out, nil
}

// GetDeviceOmci returns an ONU's OMCI counters.
func (s *Server) GetDeviceOmci(ctx context.Context, req *voltv1.ID) (*voltv1.OmciStats, error) {
	b, err := s.omciRecord(ctx, req.GetId(), "OMCI counters", s.cfg.OMCI.Stats)
	if err != nil {
		return nil, err
	}
	var st struct {
		Sent, Received, Timeouts, Retries, Autonomous, Unknown, Malformed, Failed uint64
		LastError                                                                 string
		Updated                                                                   time.Time `json:"updated"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, status.Errorf(codes.DataLoss, "device %s: its stored OMCI counters are unreadable: %v", req.GetId(), err)
	}
	return &voltv1.OmciStats{DeviceId: req.GetId(), Sent: st.Sent, Received: st.Received, Timeouts: st.Timeouts,
		Retries: st.Retries, Autonomous: st.Autonomous, Unknown: st.Unknown, Malformed: st.Malformed, Failed: st.Failed,
		LastError: st.LastError, Updated: timestamppb.New(st.Updated)}, nil
}
