// Package stats keeps the dataplane counters adapters report
// (CoreService.ReportStats): per device flow, port and meter, in memory.
//
// Counters are kept in memory only: writing them to etcd on every report
// would cost more than everything else the core stores. A core that
// restarts starts them again from the next report (device flows and ports
// keep counting in the devices, so the next report brings them back).
//
// A device's counter goes back to zero when its flow is installed again or
// the device (or its simulator) restarts. The store keeps what it had
// counted as a base and adds the new counts to it, so the counters it
// gives never go backwards. A restart is seen in the report's
// counting_since (ponsim's start) or, without one, in a counter lower than
// the last. A flow the core removes (Forget) starts again
// from zero when it is added again.
package stats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// Devices tells which devices and ports exist.
type Devices interface {
	Device(id string) (*voltv1.Device, error)
	Ports(id string) ([]*voltv1.Port, error)
}

// Tables tells which flows and meters the core asked of a device.
type Tables func(ctx context.Context, deviceID string) (flows map[uint64]bool, meters map[uint32]bool, err error)

// Store holds the counters.
type Store struct {
	devices Devices
	tables  Tables

	dropped atomic.Uint64 // counters of unknown devices, flows, ports, meters

	mu sync.Mutex // guards by
	by map[string]*device
}

// device is one device's counters.
type device struct {
	since  int64 // DeviceStats.counting_since_unix_nano last reported
	flows  map[uint64]*flow
	ports  map[uint32]*port
	meters map[uint32]*meter
}

// mono is a counter that never goes backwards although what it is fed
// may start again from zero.
type mono struct{ base, last uint64 }

func (m *mono) set(raw uint64) {
	if raw < m.last {
		m.base += m.last // the device counts again from zero
	}
	m.last = raw
}

func (m *mono) get() uint64 { return m.base + m.last }

// restart keeps what was counted: the device counts from zero again.
func (m *mono) restart() { m.base, m.last = m.base+m.last, 0 }

// restart is mono.restart for every counter of d.
func (d *device) restart() {
	for _, f := range d.flows {
		f.packets.restart()
		f.bytes.restart()
	}
	for _, p := range d.ports {
		for _, m := range []*mono{&p.rxPackets, &p.rxBytes, &p.txPackets, &p.txBytes, &p.rxDropped, &p.txDropped, &p.rxErrors, &p.txErrors} {
			m.restart()
		}
	}
	for _, m := range d.meters {
		m.packets.restart()
		m.bytes.restart()
		for i := range m.bands {
			m.bands[i].packets.restart()
			m.bands[i].bytes.restart()
		}
	}
}

type flow struct{ packets, bytes mono }

type port struct {
	rxPackets, rxBytes, txPackets, txBytes   mono
	rxDropped, txDropped, rxErrors, txErrors mono
}

type meter struct {
	packets, bytes mono
	bands          []flow
}

// New returns an empty store that checks reports against devices and
// tables.
func New(devices Devices, tables Tables) (*Store, error) {
	if devices == nil || tables == nil {
		return nil, errors.New("stats: Devices and Tables are required")
	}
	return &Store{devices: devices, tables: tables, by: map[string]*device{}}, nil
}

// Dropped is how many counters (flows, ports, meters) reports carried
// that named no known device, flow, port or meter.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

// Report keeps a report's counters: those of known devices, flows, ports
// and meters. The rest are dropped and counted. It fails only on a report
// that names no device.
func (s *Store) Report(ctx context.Context, r *adapterv1.StatsReport) (*adapterv1.StatsReportResult, error) {
	if len(r.GetDevices()) == 0 {
		return nil, coreerr.New(coreerr.ErrInvalidArgument, "stats report names no device")
	}
	res := &adapterv1.StatsReportResult{}
	for _, ds := range r.GetDevices() {
		kept, dropped, err := s.device(ctx, ds)
		if err != nil {
			return nil, err
		}
		res.Accepted += kept
		res.Dropped += dropped
	}
	s.dropped.Add(uint64(res.Dropped))
	return res, nil
}

func size(ds *adapterv1.DeviceStats) uint32 {
	return uint32(len(ds.GetFlows()) + len(ds.GetPorts()) + len(ds.GetMeters()))
}

// device keeps one device's counters.
func (s *Store) device(ctx context.Context, ds *adapterv1.DeviceStats) (kept, dropped uint32, err error) {
	id := ds.GetDeviceId()
	if _, err := s.devices.Device(id); err != nil {
		if errors.Is(err, coreerr.ErrNotFound) || id == "" {
			return 0, size(ds), nil
		}
		return 0, 0, err
	}
	ports, err := s.devices.Ports(id)
	if err != nil && !errors.Is(err, coreerr.ErrNotFound) {
		return 0, 0, err
	}
	hasPort := make(map[uint32]bool, len(ports))
	for _, p := range ports {
		hasPort[p.GetPortNo()] = true
	}
	var flows map[uint64]bool
	var meters map[uint32]bool
	if len(ds.GetFlows())+len(ds.GetMeters()) > 0 {
		if flows, meters, err = s.tables(ctx, id); err != nil {
			return 0, 0, fmt.Errorf("tables of device %s: %w", id, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.by[id]
	if d == nil {
		d = &device{flows: map[uint64]*flow{}, ports: map[uint32]*port{}, meters: map[uint32]*meter{}}
		s.by[id] = d
	}
	if since := ds.GetCountingSinceUnixNano(); since != 0 {
		if d.since != 0 && since != d.since {
			d.restart() // it counts from zero again, however far it got since
		}
		d.since = since
	}
	for _, f := range ds.GetFlows() {
		if !flows[f.GetFlowId()] {
			dropped++
			continue
		}
		c := d.flows[f.GetFlowId()]
		if c == nil {
			c = &flow{}
			d.flows[f.GetFlowId()] = c
		}
		c.packets.set(f.GetPackets())
		c.bytes.set(f.GetBytes())
		kept++
	}
	for _, p := range ds.GetPorts() {
		if !hasPort[p.GetPortNo()] {
			dropped++
			continue
		}
		c := d.ports[p.GetPortNo()]
		if c == nil {
			c = &port{}
			d.ports[p.GetPortNo()] = c
		}
		c.rxPackets.set(p.GetRxPackets())
		c.rxBytes.set(p.GetRxBytes())
		c.txPackets.set(p.GetTxPackets())
		c.txBytes.set(p.GetTxBytes())
		c.rxDropped.set(p.GetRxDropped())
		c.txDropped.set(p.GetTxDropped())
		c.rxErrors.set(p.GetRxErrors())
		c.txErrors.set(p.GetTxErrors())
		kept++
	}
	for _, m := range ds.GetMeters() {
		if !meters[m.GetMeterId()] {
			dropped++
			continue
		}
		c := d.meters[m.GetMeterId()]
		if c == nil {
			c = &meter{}
			d.meters[m.GetMeterId()] = c
		}
		c.packets.set(m.GetPackets())
		c.bytes.set(m.GetBytes())
		if len(c.bands) != len(m.GetBands()) {
			c.bands = make([]flow, len(m.GetBands())) // the meter changed
		}
		for i, b := range m.GetBands() {
			c.bands[i].packets.set(b.GetPackets())
			c.bands[i].bytes.set(b.GetBytes())
		}
		kept++
	}
	return kept, dropped, nil
}

// Forget drops the counters of a device flow the core no longer asks of
// the device: added again, it counts from zero.
func (s *Store) Forget(deviceID string, flowID uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.by[deviceID]; d != nil {
		delete(d.flows, flowID)
	}
}

// ForgetDevice drops every counter of a device that went.
func (s *Store) ForgetDevice(deviceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.by, deviceID)
}

// Sweep drops the counters of devices that no longer exist (a delete
// whose change event was missed).
func (s *Store) Sweep(exists func(deviceID string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.by {
		if !exists(id) {
			delete(s.by, id)
		}
	}
}

// Counts are a packet and a byte count.
type Counts struct{ Packets, Bytes uint64 }

// Flow returns the counts of a device flow; ok is false when none were
// reported.
func (s *Store) Flow(deviceID string, flowID uint64) (c Counts, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.by[deviceID].flowOrNil(flowID)
	if f == nil {
		return Counts{}, false
	}
	return Counts{f.packets.get(), f.bytes.get()}, true
}

func (d *device) flowOrNil(id uint64) *flow {
	if d == nil {
		return nil
	}
	return d.flows[id]
}

// PortCounts are a port's counters.
type PortCounts struct {
	RxPackets, RxBytes, TxPackets, TxBytes   uint64
	RxDropped, TxDropped, RxErrors, TxErrors uint64
}

// Port returns the counters of a device port; ok is false when none were
// reported.
func (s *Store) Port(deviceID string, portNo uint32) (c PortCounts, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.by[deviceID]
	if d == nil || d.ports[portNo] == nil {
		return PortCounts{}, false
	}
	p := d.ports[portNo]
	return PortCounts{
		RxPackets: p.rxPackets.get(), RxBytes: p.rxBytes.get(), TxPackets: p.txPackets.get(), TxBytes: p.txBytes.get(),
		RxDropped: p.rxDropped.get(), TxDropped: p.txDropped.get(), RxErrors: p.rxErrors.get(), TxErrors: p.txErrors.get(),
	}, true
}

// Meter returns the counts of a device meter and of each of its bands; ok
// is false when none were reported.
func (s *Store) Meter(deviceID string, meterID uint32) (c Counts, bands []Counts, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.by[deviceID]
	if d == nil || d.meters[meterID] == nil {
		return Counts{}, nil, false
	}
	m := d.meters[meterID]
	bands = make([]Counts, len(m.bands))
	for i, b := range m.bands {
		bands[i] = Counts{b.packets.get(), b.bytes.get()}
	}
	return Counts{m.packets.get(), m.bytes.get()}, bands, true
}
