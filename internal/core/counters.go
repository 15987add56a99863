package core

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/flows"
	"github.com/openvolt/openvolt/internal/core/nbi"
	"github.com/openvolt/openvolt/internal/core/stats"
)

// The NBI's reads with the counters adapters reported (stats.Store): a
// logical flow counts what the device flow that carries it counted
// (flows.Manager.Carriers), a logical port what its device port counted, a
// meter what the OLT's meter counted, a group what the flows naming it
// counted. What is read is a copy: the tables are never changed.

// countedFlows is nbi.Flows with counters.
type countedFlows struct {
	*flows.Manager
	stats *stats.Store
	root  func(ldID string) string // the logical device's OLT
	now   func() time.Time
}

// setDuration sets a flow's duration from its install time.
func setDuration(f *openflowv1.Flow, now time.Time) {
	if f.GetInstallTimeUnixNano() == 0 {
		return
	}
	d := now.Sub(time.Unix(0, f.GetInstallTimeUnixNano()))
	if d < 0 {
		d = 0
	}
	f.DurationSec = uint32(d / time.Second)
	f.DurationNsec = uint32(d % time.Second)
}

func (c countedFlows) LogicalFlows(ctx context.Context, ldID string) ([]*openflowv1.Flow, error) {
	fs, err := c.Manager.LogicalFlows(ctx, ldID) // read from the store: ours to change
	if err != nil || len(fs) == 0 {
		return fs, err
	}
	carriers, err := c.Carriers(ctx, ldID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	for _, f := range fs {
		setDuration(f, now)
		if cr, ok := carriers[f.GetId()]; ok {
			if n, ok := c.stats.Flow(cr.DeviceID, cr.FlowID); ok {
				f.PacketCount, f.ByteCount = n.Packets, n.Bytes
			}
		}
	}
	return fs, nil
}

// named calls fn with each logical flow and the meter and groups it names.
func named(fs []*openflowv1.Flow, fn func(f *openflowv1.Flow, meter uint32, groups []uint32)) {
	for _, f := range fs {
		var meter uint32
		var groups []uint32
		for _, in := range f.GetInstructions() {
			if m := in.GetMeter(); m != nil {
				meter = m.GetMeterId()
			}
			var acts []*openflowv1.Action
			if a := in.GetApplyActions(); a != nil {
				acts = a.GetActions()
			} else if a := in.GetWriteActions(); a != nil {
				acts = a.GetActions()
			}
			for _, a := range acts {
				if g := a.GetGroup(); g != nil {
					groups = append(groups, g.GetGroupId())
				}
			}
		}
		fn(f, meter, groups)
	}
}

func (c countedFlows) LogicalGroups(ctx context.Context, ldID string) ([]*openflowv1.Group, error) {
	gs, err := c.Manager.LogicalGroups(ctx, ldID)
	if err != nil || len(gs) == 0 {
		return gs, err
	}
	fs, err := c.LogicalFlows(ctx, ldID)
	if err != nil {
		return nil, err
	}
	by := make(map[uint32]*openflowv1.GroupStats, len(gs))
	for _, g := range gs {
		st := g.GetStats()
		for range g.GetDesc().GetBuckets() {
			st.BucketStats = append(st.BucketStats, &openflowv1.BucketCounter{})
		}
		by[g.GetDesc().GetGroupId()] = st
	}
	named(fs, func(f *openflowv1.Flow, _ uint32, groups []uint32) {
		for _, id := range groups {
			if st := by[id]; st != nil {
				st.RefCount++
				st.PacketCount += f.GetPacketCount()
				st.ByteCount += f.GetByteCount()
			}
		}
	})
	return gs, nil
}

func (c countedFlows) LogicalMeters(ctx context.Context, ldID string) ([]*openflowv1.Meter, error) {
	ms, err := c.Manager.LogicalMeters(ctx, ldID)
	if err != nil || len(ms) == 0 {
		return ms, err
	}
	fs, err := c.LogicalFlows(ctx, ldID)
	if err != nil {
		return nil, err
	}
	by := make(map[uint32]*openflowv1.MeterStats, len(ms))
	for _, m := range ms {
		by[m.GetConfig().GetMeterId()] = m.GetStats()
	}
	flowSums := make(map[uint32]stats.Counts, len(ms))
	named(fs, func(f *openflowv1.Flow, meter uint32, _ []uint32) {
		if st := by[meter]; meter != 0 && st != nil {
			st.FlowCount++
			s := flowSums[meter]
			s.Packets += f.GetPacketCount()
			s.Bytes += f.GetByteCount()
			flowSums[meter] = s
		}
	})
	root := c.root(ldID)
	for _, m := range ms {
		st, id := m.GetStats(), m.GetConfig().GetMeterId()
		n, bands, ok := c.stats.Meter(root, id)
		if !ok {
			// The OLT reported nothing for it: what its flows counted.
			n = flowSums[id]
		}
		st.PacketInCount, st.ByteInCount = n.Packets, n.Bytes
		for i := range m.GetConfig().GetBands() {
			b := &openflowv1.MeterBandStats{}
			if i < len(bands) {
				b.PacketBandCount, b.ByteBandCount = bands[i].Packets, bands[i].Bytes
			}
			st.BandStats = append(st.BandStats, b)
		}
	}
	return ms, nil
}

func (c countedFlows) DeviceFlows(ctx context.Context, deviceID string) ([]*openflowv1.Flow, error) {
	fs, err := c.Manager.DeviceFlows(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	out := make([]*openflowv1.Flow, len(fs))
	for i, f := range fs {
		f = proto.CloneOf(f) // the tables' own
		if n, ok := c.stats.Flow(deviceID, f.GetId()); ok {
			f.PacketCount, f.ByteCount = n.Packets, n.Bytes
		}
		out[i] = f
	}
	return out, nil
}

func (c countedFlows) DeviceMeters(ctx context.Context, deviceID string) ([]*openflowv1.Meter, error) {
	ms, err := c.Manager.DeviceMeters(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		n, bands, ok := c.stats.Meter(deviceID, m.GetConfig().GetMeterId())
		if !ok {
			continue
		}
		st := m.GetStats()
		st.PacketInCount, st.ByteInCount = n.Packets, n.Bytes
		for _, b := range bands {
			st.BandStats = append(st.BandStats, &openflowv1.MeterBandStats{PacketBandCount: b.Packets, ByteBandCount: b.Bytes})
		}
	}
	return ms, nil
}

// countedLogical is nbi.LogicalDevices with port counters.
type countedLogical struct {
	nbi.LogicalDevices
	stats *stats.Store
}

func (c countedLogical) withStats(lp *voltv1.LogicalPort) *voltv1.LogicalPort {
	lp = proto.CloneOf(lp) // the manager's own
	st := &openflowv1.PortStats{PortNo: lp.GetOfpPort().GetPortNo()}
	if n, ok := c.stats.Port(lp.GetDeviceId(), lp.GetDevicePortNo()); ok {
		st.RxPackets, st.RxBytes, st.TxPackets, st.TxBytes = n.RxPackets, n.RxBytes, n.TxPackets, n.TxBytes
		st.RxDropped, st.TxDropped, st.RxErrors, st.TxErrors = n.RxDropped, n.TxDropped, n.RxErrors, n.TxErrors
	}
	lp.Stats = st
	return lp
}

func (c countedLogical) Ports(id string) ([]*voltv1.LogicalPort, error) {
	ps, err := c.LogicalDevices.Ports(id)
	if err != nil {
		return nil, err
	}
	out := make([]*voltv1.LogicalPort, len(ps))
	for i, p := range ps {
		out[i] = c.withStats(p)
	}
	return out, nil
}

func (c countedLogical) Port(ldID, portID string) (*voltv1.LogicalPort, error) {
	p, err := c.LogicalDevices.Port(ldID, portID)
	if err != nil {
		return nil, err
	}
	return c.withStats(p), nil
}

// countedDevices is nbi.Devices with port counters.
type countedDevices struct {
	nbi.Devices
	stats *stats.Store
}

func (c countedDevices) Ports(id string) ([]*voltv1.Port, error) {
	ps, err := c.Devices.Ports(id)
	if err != nil {
		return nil, err
	}
	out := make([]*voltv1.Port, len(ps))
	for i, p := range ps {
		p = proto.CloneOf(p)
		if n, ok := c.stats.Port(id, p.GetPortNo()); ok {
			p.RxPackets, p.RxBytes, p.RxErrors = n.RxPackets, n.RxBytes, n.RxErrors
			p.TxPackets, p.TxBytes, p.TxErrors = n.TxPackets, n.TxBytes, n.TxErrors
		}
		out[i] = p
	}
	return out, nil
}

// deviceTables is what stats.Store checks reports against: the flows and
// meters the core asked of a device.
func deviceTables(m *flows.Manager) stats.Tables {
	return func(ctx context.Context, deviceID string) (map[uint64]bool, map[uint32]bool, error) {
		dt, err := m.TablesOfDevice(ctx, deviceID)
		if err != nil {
			return nil, nil, err
		}
		fs := make(map[uint64]bool, len(dt.Flows))
		for _, f := range dt.Flows {
			fs[f.GetId()] = true
		}
		ms := make(map[uint32]bool, len(dt.Meters))
		for _, mc := range dt.Meters {
			ms[mc.GetMeterId()] = true
		}
		return fs, ms, nil
	}
}
