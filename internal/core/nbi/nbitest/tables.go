package nbitest

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// tables reads and changes the flow, group and meter tables as the NBI
// sees them. A mod is applied simply: an add replaces the flow of the same
// table, priority and match; a strict delete removes that one flow; a
// delete removes every flow of its table (0xff: all tables).
type tables struct{ f *Fake }

// perID returns clones of table[id] after known says the id exists.
func perID[T proto.Message](f *Fake, known func(string) error, id string, table map[string][]T) ([]T, error) {
	f.Lock()
	defer f.Unlock()
	if err := known(id); err != nil {
		return nil, err
	}
	return clones(table[id]), nil
}

func (t tables) device(id string) error  { return devices(t).knownLocked(id) }
func (t tables) logical(id string) error { return logical(t).knownLocked(id) }

func (d devices) knownLocked(id string) error {
	_, err := d.deviceLocked(id)
	return err
}

func (t tables) LogicalFlows(_ context.Context, id string) ([]*openflowv1.Flow, error) {
	return perID(t.f, t.logical, id, t.f.Flows)
}

func (t tables) LogicalGroups(_ context.Context, id string) ([]*openflowv1.Group, error) {
	return perID(t.f, t.logical, id, t.f.Groups)
}

func (t tables) LogicalMeters(_ context.Context, id string) ([]*openflowv1.Meter, error) {
	return perID(t.f, t.logical, id, t.f.Meters)
}

func (t tables) DeviceFlows(_ context.Context, id string) ([]*openflowv1.Flow, error) {
	return perID(t.f, t.device, id, t.f.Flows)
}

func (t tables) DeviceGroups(_ context.Context, id string) ([]*openflowv1.Group, error) {
	return perID(t.f, t.device, id, t.f.Groups)
}

func (t tables) DeviceMeters(_ context.Context, id string) ([]*openflowv1.Meter, error) {
	return perID(t.f, t.device, id, t.f.Meters)
}

func (t tables) UpdateFlowTable(ctx context.Context, ldID string, fm *openflowv1.FlowMod) error {
	t.f.Lock()
	t.f.InFlight++
	t.f.Unlock()
	return t.flowMod(ctx, ldID, fm)
}

// UpdateFlowTables applies a batch one mod after the other, as the core
// does; every mod of it is in flight from the start of the call.
func (t tables) UpdateFlowTables(ctx context.Context, ldID string, fms []*openflowv1.FlowMod) ([]error, error) {
	t.f.Lock()
	if t.f.CountOnly {
		t.f.FlowCount += len(fms)
		t.f.Unlock()
		return make([]error, len(fms)), nil
	}
	if err := t.logical(ldID); err != nil {
		t.f.Unlock()
		return nil, err
	}
	t.f.InFlight += len(fms)
	t.f.Batches = append(t.f.Batches, len(fms))
	t.f.Unlock()
	errs := make([]error, len(fms))
	for i, fm := range fms {
		errs[i] = t.flowMod(ctx, ldID, fm)
	}
	return errs, nil
}

// flowMod applies one flow-mod that already counts as in flight.
func (t tables) flowMod(ctx context.Context, ldID string, fm *openflowv1.FlowMod) error {
	req := &voltv1.FlowTableUpdate{Id: ldID, FlowMod: fm}
	t.f.Lock()
	hook := t.f.FlowHook
	t.f.Unlock()
	var err error
	if hook != nil {
		err = hook(ctx, req)
	}
	t.f.Lock()
	defer t.f.Unlock()
	t.f.InFlight--
	if err != nil {
		return err
	}
	if t.f.CountOnly {
		t.f.FlowCount++
		return nil
	}
	if err := t.logical(ldID); err != nil {
		return err
	}
	same := func(fl *openflowv1.Flow) bool {
		return fl.GetTableId() == fm.GetTableId() && fl.GetPriority() == fm.GetPriority() && proto.Equal(fl.GetMatch(), fm.GetMatch())
	}
	flows := t.f.Flows[ldID]
	var keep []*openflowv1.Flow
	switch fm.GetCommand() {
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD:
		for _, fl := range flows {
			if !same(fl) {
				keep = append(keep, fl)
			}
		}
		keep = append(keep, &openflowv1.Flow{
			Id: uint64(len(t.f.FlowMods) + 1), TableId: fm.GetTableId(), Priority: fm.GetPriority(), Cookie: fm.GetCookie(),
			Flags: fm.GetFlags(), IdleTimeout: fm.GetIdleTimeout(), HardTimeout: fm.GetHardTimeout(),
			Match: fm.GetMatch(), Instructions: fm.GetInstructions(), PacketCount: 7, ByteCount: 700,
		})
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT:
		for _, fl := range flows {
			if !same(fl) {
				keep = append(keep, fl)
			}
		}
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE:
		for _, fl := range flows {
			if fm.GetTableId() != 0xff && fl.GetTableId() != fm.GetTableId() {
				keep = append(keep, fl)
			}
		}
	default:
		return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf("flow-mod command %v not supported by the fake", fm.GetCommand()))
	}
	t.f.FlowMods = append(t.f.FlowMods, req)
	t.f.Flows[ldID] = keep
	return nil
}

// entryMod applies a group or meter mod to table: add refuses an id in
// use, delete removes it, modify replaces it.
func entryMod[T any](table map[string][]T, ldID, kind string, id uint32, idOf func(T) uint32, add, del bool, entry T) error {
	es := table[ldID]
	for i, e := range es {
		if idOf(e) == id {
			if add {
				return coreerr.New(coreerr.ErrAlreadyExists, fmt.Sprintf("logical device %s: %s %d already exists", ldID, kind, id))
			}
			table[ldID] = append(es[:i:i], es[i+1:]...)
			break
		}
	}
	if !del {
		table[ldID] = append(table[ldID], entry)
	}
	return nil
}

func (t tables) UpdateGroupTable(_ context.Context, ldID string, gm *openflowv1.GroupMod) error {
	t.f.Lock()
	defer t.f.Unlock()
	if err := t.logical(ldID); err != nil {
		return err
	}
	t.f.GroupMods = append(t.f.GroupMods, &voltv1.FlowGroupTableUpdate{Id: ldID, GroupMod: gm})
	return entryMod(t.f.Groups, ldID, "group", gm.GetGroupId(), func(g *openflowv1.Group) uint32 { return g.GetDesc().GetGroupId() },
		gm.GetCommand() == openflowv1.GroupModCommand_GROUP_MOD_COMMAND_ADD, gm.GetCommand() == openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE,
		&openflowv1.Group{
			Desc:  &openflowv1.GroupDesc{Type: gm.GetType(), GroupId: gm.GetGroupId(), Buckets: gm.GetBuckets()},
			Stats: &openflowv1.GroupStats{GroupId: gm.GetGroupId(), PacketCount: 3},
		})
}

func (t tables) UpdateMeterTable(_ context.Context, ldID string, mm *openflowv1.MeterMod) error {
	t.f.Lock()
	defer t.f.Unlock()
	if err := t.logical(ldID); err != nil {
		return err
	}
	t.f.MeterMods = append(t.f.MeterMods, &voltv1.MeterModUpdate{Id: ldID, MeterMod: mm})
	return entryMod(t.f.Meters, ldID, "meter", mm.GetMeterId(), func(m *openflowv1.Meter) uint32 { return m.GetConfig().GetMeterId() },
		mm.GetCommand() == openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, mm.GetCommand() == openflowv1.MeterModCommand_METER_MOD_COMMAND_DELETE,
		&openflowv1.Meter{
			Config: &openflowv1.MeterConfig{Flags: mm.GetFlags(), MeterId: mm.GetMeterId(), Bands: mm.GetBands()},
			Stats:  &openflowv1.MeterStats{MeterId: mm.GetMeterId(), FlowCount: 1},
		})
}

func (t tables) PacketOut(_ context.Context, ldID string, po *openflowv1.PacketOut) error {
	t.f.Lock()
	defer t.f.Unlock()
	t.f.PacketOuts = append(t.f.PacketOuts, &voltv1.PacketOut{LogicalDeviceId: ldID, PacketOut: po})
	return nil
}
