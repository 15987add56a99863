package ponsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Register serves s as the PonSim service on r. When the server stops, call
// s.Close first (or together): ReceiveEvents and ReceiveFrames streams only
// end when their client leaves or s closes, so a graceful stop waits for it.
// Sim.Serve does this.
func (s *Sim) Register(r grpc.ServiceRegistrar) {
	ponsimv1.RegisterPonSimServer(r, s)
	ponsimv1.RegisterPonSimCountersServer(r, countersServer{s: s})
}

// toStatus turns the package's errors into gRPC status errors; it is the
// only place that does.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrDeviceDown):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	return status.Error(code, err.Error())
}

func empty(err error) (*emptypb.Empty, error) {
	if err != nil {
		return nil, toStatus(err)
	}
	return &emptypb.Empty{}, nil
}

// GetDeviceInfo returns the OLT and its ONUs.
func (s *Sim) GetDeviceInfo(context.Context, *emptypb.Empty) (*ponsimv1.DeviceInfo, error) {
	return s.DeviceInfo(), nil
}

// EnableDevice enables the OLT (empty serial) or one ONU.
func (s *Sim) EnableDevice(_ context.Context, ref *ponsimv1.DeviceRef) (*emptypb.Empty, error) {
	return empty(s.Enable(ref.GetSerialNumber()))
}

// DisableDevice disables the OLT (empty serial) or one ONU.
func (s *Sim) DisableDevice(_ context.Context, ref *ponsimv1.DeviceRef) (*emptypb.Empty, error) {
	return empty(s.Disable(ref.GetSerialNumber()))
}

// RebootDevice reboots the OLT (empty serial) or one ONU.
func (s *Sim) RebootDevice(_ context.Context, ref *ponsimv1.DeviceRef) (*emptypb.Empty, error) {
	return empty(s.Reboot(ref.GetSerialNumber()))
}

// UpdateFlowTable replaces the flow, group and meter tables of one device.
func (s *Sim) UpdateFlowTable(_ context.Context, ft *ponsimv1.FlowTable) (*emptypb.Empty, error) {
	return empty(s.setFlowTable(ft, true)) // a request is the handler's to keep
}

// GetStats returns the port counters of the OLT (empty serial) or one ONU.
func (s *Sim) GetStats(_ context.Context, ref *ponsimv1.DeviceRef) (*ponsimv1.Stats, error) {
	st, err := s.Stats(ref.GetSerialNumber())
	return st, toStatus(err)
}

// GetFlowTable is the gRPC form of FlowTable.
func (s *Sim) GetFlowTable(_ context.Context, ref *ponsimv1.DeviceRef) (*ponsimv1.FlowTable, error) {
	ft, err := s.FlowTable(ref.GetSerialNumber())
	return ft, toStatus(err)
}

// SetFlowTable replaces the tables of ft.device (which must be set: an empty
// serial names the OLT) with ft's flows, groups and meters.
func (s *Sim) SetFlowTable(ft *ponsimv1.FlowTable) error {
	return s.setFlowTable(ft, false)
}

// setFlowTable is SetFlowTable; owned says that ft may be kept as it is
// (it is not copied).
func (s *Sim) setFlowTable(ft *ponsimv1.FlowTable, owned bool) error {
	if ft.GetDevice() == nil {
		return invalid("flow table needs a device (empty serial for the OLT)")
	}
	serial := ft.GetDevice().GetSerialNumber()
	d, _, err := s.lookup(serial)
	if err != nil {
		return err
	}
	t, err := compile(ft, owned)
	if err != nil {
		return fmt.Errorf("device %q: %w", serial, err)
	}
	d.tmu.Lock()
	t.keepCounts(d.table.Load())
	d.table.Store(t)
	d.tmu.Unlock()
	s.logTable(d, t, "flow table updated")
	return nil
}

// UpdateFlows changes the flow, group and meter tables of one device by
// id.
func (s *Sim) UpdateFlows(_ context.Context, fc *ponsimv1.FlowChanges) (*emptypb.Empty, error) {
	return empty(s.changeFlows(fc, true)) // a request is the handler's to keep
}

// ChangeFlows changes the tables of fc.device (which must be set: an empty
// serial names the OLT) by id: removals first, then adds, which replace
// what has their id; removals of ids the tables do not have are ignored.
// When it fails nothing changed.
func (s *Sim) ChangeFlows(fc *ponsimv1.FlowChanges) error {
	return s.changeFlows(fc, false)
}

func (s *Sim) changeFlows(fc *ponsimv1.FlowChanges, owned bool) error {
	if fc.GetDevice() == nil {
		return invalid("flow changes need a device (empty serial for the OLT)")
	}
	serial := fc.GetDevice().GetSerialNumber()
	d, _, err := s.lookup(serial)
	if err != nil {
		return err
	}
	d.tmu.Lock()
	t, err := d.table.Load().apply(fc, owned)
	if err == nil {
		d.table.Store(t)
	}
	d.tmu.Unlock()
	if err != nil {
		return fmt.Errorf("device %q: %w", serial, err)
	}
	s.logTable(d, t, "flow table changed")
	return nil
}

func (s *Sim) logTable(d *device, t *table, msg string) {
	if !s.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	unmatchable := 0
	for _, e := range t.entries() {
		if !e.matchable {
			unmatchable++
		}
	}
	s.log.Debug(msg, "device", d.label, "flows", t.n, "groups", t.groups.len(), "meters", t.meterConfs.len(), "unmatchable", unmatchable)
}

// FlowTable returns the tables last set on the OLT (serial "") or one ONU,
// with each flow's packet and byte counts.
func (s *Sim) FlowTable(serial string) (*ponsimv1.FlowTable, error) {
	d, _, err := s.lookup(serial)
	if err != nil {
		return nil, err
	}
	return d.table.Load().snapshot(s.ref(d)), nil
}

// MeterCounts returns, for each meter of the OLT (serial "") or one ONU
// and each meter its flows name, the packets of the flows that name it
// since the table was last set.
func (s *Sim) MeterCounts(serial string) (map[uint32]uint64, error) {
	d, _, err := s.lookup(serial)
	if err != nil {
		return nil, err
	}
	totals := d.table.Load().meterTotals()
	out := make(map[uint32]uint64, len(totals))
	for id, n := range totals {
		out[id] = n[0]
	}
	return out, nil
}

// FlowCount returns how many flows the table of the OLT (serial "") or one
// ONU has, without copying it.
func (s *Sim) FlowCount(serial string) (int, error) {
	d, _, err := s.lookup(serial)
	if err != nil {
		return 0, err
	}
	return d.table.Load().n, nil
}
