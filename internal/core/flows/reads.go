package flows

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/flowtable"
)

// Devices reads devices: the device behind a logical port, and the
// logical device a device belongs to.
type Devices interface {
	// Device returns a device or a NotFound error.
	Device(id string) (*voltv1.Device, error)
}

// LogicalDeviceOf is the logical device device deviceID belongs to (its
// own, or its parent's); FailedPrecondition while it has none.
func (m *Manager) LogicalDeviceOf(deviceID string) (string, error) {
	d, err := m.cfg.Devices.Device(deviceID)
	if err != nil {
		return "", err
	}
	if !d.GetRoot() {
		if d, err = m.cfg.Devices.Device(d.GetParentId()); err != nil {
			return "", err
		}
	}
	if d.GetLogicalDeviceId() == "" {
		return "", coreerr.New(coreerr.ErrFailedPrecondition, fmt.Sprintf("device %s has no logical device yet", deviceID))
	}
	return d.GetLogicalDeviceId(), nil
}

// TablesOfDevice is what the logical flows ask of a device; nothing for a
// device that has no logical device yet.
func (m *Manager) TablesOfDevice(ctx context.Context, deviceID string) (DeviceTables, error) {
	ld, err := m.LogicalDeviceOf(deviceID)
	if errors.Is(err, coreerr.ErrFailedPrecondition) {
		return DeviceTables{}, nil
	}
	if err != nil {
		return DeviceTables{}, err
	}
	dt, err := m.DeviceTables(ctx, ld, deviceID)
	if errors.Is(err, coreerr.ErrNotFound) {
		return DeviceTables{}, nil // the logical device went meanwhile
	}
	dt.Units = func(ctx context.Context) ([]Unit, error) { return m.units(ctx, ld, deviceID) }
	return dt, err
}

// units splits what the logical flows of logical device ldID ask of device
// deviceID by logical flow, in id order. A unit the device refuses takes
// its logical flow back, if it is still the same flow.
func (m *Manager) units(ctx context.Context, ldID, deviceID string) ([]Unit, error) {
	l, err := m.lock(ctx, ldID)
	if err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	var out []Unit
	for _, id := range slices.Sorted(maps.Keys(l.rules)) {
		r := l.rules[id][deviceID]
		f := l.table.Flow(id)
		if r == nil || len(r.Flows) == 0 || f == nil {
			continue
		}
		back := &commit{typ: flowtable.ErrTypeFlowMod, changes: flowtable.Changes{Added: []*openflowv1.Flow{f}}}
		out = append(out, Unit{
			Delta:   &Delta{AddFlows: r.Flows, AddGroups: r.Groups, AddMeters: r.Meters},
			Refused: func(err error) { m.takeBack(ldID, back, deviceID, err) },
		})
	}
	return out, nil
}

// LogicalFlows, LogicalGroups and LogicalMeters read a logical device's
// tables as stored; DeviceFlows, DeviceGroups and DeviceMeters what they
// ask of a device (TablesOfDevice).

func (m *Manager) LogicalFlows(ctx context.Context, ldID string) ([]*openflowv1.Flow, error) {
	return m.cfg.Store.Flows.ListGroup(ctx, ldID)
}

func (m *Manager) LogicalGroups(ctx context.Context, ldID string) ([]*openflowv1.Group, error) {
	return groups(m.cfg.Store.Groups.ListGroup(ctx, ldID))
}

func (m *Manager) LogicalMeters(ctx context.Context, ldID string) ([]*openflowv1.Meter, error) {
	return meters(m.cfg.Store.Meters.ListGroup(ctx, ldID))
}

func (m *Manager) DeviceFlows(ctx context.Context, deviceID string) ([]*openflowv1.Flow, error) {
	dt, err := m.TablesOfDevice(ctx, deviceID)
	return dt.Flows, err
}

func (m *Manager) DeviceGroups(ctx context.Context, deviceID string) ([]*openflowv1.Group, error) {
	dt, err := m.TablesOfDevice(ctx, deviceID)
	return groups(dt.Groups, err)
}

func (m *Manager) DeviceMeters(ctx context.Context, deviceID string) ([]*openflowv1.Meter, error) {
	dt, err := m.TablesOfDevice(ctx, deviceID)
	return meters(dt.Meters, err)
}

func groups(descs []*openflowv1.GroupDesc, err error) ([]*openflowv1.Group, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*openflowv1.Group, len(descs))
	for i, d := range descs {
		out[i] = &openflowv1.Group{Desc: d, Stats: &openflowv1.GroupStats{GroupId: d.GetGroupId()}}
	}
	return out, nil
}

func meters(cfgs []*openflowv1.MeterConfig, err error) ([]*openflowv1.Meter, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*openflowv1.Meter, len(cfgs))
	for i, c := range cfgs {
		out[i] = &openflowv1.Meter{Config: c, Stats: &openflowv1.MeterStats{MeterId: c.GetMeterId()}}
	}
	return out, nil
}
