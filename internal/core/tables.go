package core

import (
	"context"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/store"
)

// tables reads the flow, group and meter tables for the NBI: the logical
// ones from the store, the devices' from the flows manager.
type tables struct {
	st *store.Store
	p  *parts
}

func (t tables) LogicalFlows(ctx context.Context, id string) ([]*openflowv1.Flow, error) {
	return t.st.Flows.ListGroup(ctx, id)
}

func (t tables) DeviceFlows(ctx context.Context, id string) ([]*openflowv1.Flow, error) {
	dt, err := t.p.deviceTables(ctx, id)
	return dt.Flows, err
}

func (t tables) LogicalGroups(ctx context.Context, id string) ([]*openflowv1.Group, error) {
	return groups(t.st.Groups.ListGroup(ctx, id))
}

func (t tables) DeviceGroups(ctx context.Context, id string) ([]*openflowv1.Group, error) {
	dt, err := t.p.deviceTables(ctx, id)
	return groups(dt.Groups, err)
}

func (t tables) LogicalMeters(ctx context.Context, id string) ([]*openflowv1.Meter, error) {
	return meters(t.st.Meters.ListGroup(ctx, id))
}

func (t tables) DeviceMeters(ctx context.Context, id string) ([]*openflowv1.Meter, error) {
	dt, err := t.p.deviceTables(ctx, id)
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
