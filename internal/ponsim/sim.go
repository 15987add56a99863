// Package ponsim simulates one OLT with P PON ports and N ONUs on each, each
// ONU with one UNI. It serves the PonSim gRPC API (api/ponsim/v1) that the
// ponsim adapters use: device info, enable/disable/reboot of the OLT and of
// each ONU, ONU discovery and state events, a flow table per device, per-port
// counters, and frames to and from the controller. Its dataplane forwards
// frames UNI → ONU table → PON → OLT table → NNI and back (dataplane.go).
//
// Ports are numbered by adapter/portno: the OLT NNI is portno.NNI(0), OLT PON
// p is portno.OLTPON(p), the UNI of ONU o on PON p is portno.UNI(p, o, 0)
// with o from 1, and every ONU's PON port is portno.ONUPON.
//
// Events (ReceiveEvents) follow one rule: an ONU is visible while the OLT is
// up (enabled and not rebooting) and the ONU is powered on, whatever its
// own state. Powering an ONU off (SetOnuPower) sends ONU_LOST with
// dying_gasp set; powering it on sends ONU_DISCOVERED (power.go). A stream starts
// with OLT_STATE (the OLT as it is now) and, when the OLT is up, one
// ONU_DISCOVERED per ONU. After that:
//
//   - the OLT going up or down sends OLT_STATE, then ONU_DISCOVERED (going
//     up) or ONU_LOST (going down) for every ONU;
//   - an ONU whose state changes while visible sends ONU_STATE (ACTIVE,
//     DISABLED, REBOOTING);
//   - nothing is sent for changes that are not visible; ONU_DISCOVERED
//     carries the ONU's state when it becomes visible.
//
// A reboot takes the device away for Config.RebootDelay: an ONU goes to
// REBOOTING and back to ACTIVE (ONU_STATE twice); the OLT goes down and up
// (OLT_STATE + ONU_LOST…, then OLT_STATE + ONU_DISCOVERED…). Flow tables
// survive disable and reboot: the simulated devices keep their configuration.
package ponsim

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Error kinds; the gRPC edge (server.go) maps them to status codes.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalidArgument = errors.New("invalid argument")
	ErrClosed          = errors.New("ponsim stopped")
	// ErrDeviceDown: the device is disabled or rebooting (or its OLT is),
	// so it cannot send a frame now.
	ErrDeviceDown = errors.New("device is down")
)

// Facts about the simulated OLT reported in OltInfo.
const (
	Vendor          = "OpenVOLT"
	Model           = "ponsim"
	FirmwareVersion = "1.0"
	// OLTDevice is the PortCounters.device of the OLT's ports.
	OLTDevice = "olt"
)

// Sim is one simulated OLT and its ONUs. It implements
// ponsimv1.PonSimServer; Register puts it on a gRPC server.
//
// Lock order: mu before fmu; no lock is held while a frame is forwarded or a
// stream sends.
type Sim struct {
	ponsimv1.UnimplementedPonSimServer

	cfg Config
	log *slog.Logger

	// Immutable after New.
	olt      *olt
	onus     []*onu          // by PON, then ONU id
	bySerial map[string]*onu // ONU serial → ONU
	byUNI    map[uint32]*onu // UNI port number → ONU
	counting bool            // count frames on flows and meters (!Config.NoCounting)
	started  time.Time       // when the counters started from zero

	done      chan struct{} // closed by Close: streams and timers stop
	closeOnce sync.Once
	wg        sync.WaitGroup // reboot timers

	// mu guards the admin and reboot state of the OLT and the ONUs (their
	// enabled and rebooting fields), subs and the queues inside them, and
	// closed. Holding it orders state changes with the events they send.
	mu       sync.Mutex
	subs     map[*eventSub]struct{}
	closed   bool
	faces    []Face    // faces.go
	watchers []Watcher // faces.go

	// fmu guards frameSubs (the ReceiveFrames streams).
	fmu       sync.Mutex
	frameSubs map[*frameSub]struct{}
}

// device is what the OLT and an ONU share: ports and a flow table.
type device struct {
	serial string // the OLT's or the ONU's serial number
	label  string // PortCounters.device: "olt" or the ONU serial
	ports  []*port
	table  atomic.Pointer[table] // replaced whole by UpdateFlowTable and UpdateFlows
	tmu    sync.Mutex            // held while replacing table
}

func (d *device) port(no uint32) *port {
	for _, p := range d.ports {
		if p.no == no {
			return p
		}
	}
	return nil
}

type olt struct {
	device
	mac  string
	nni  *port
	pons []*port

	enabled, rebooting bool // guarded by Sim.mu

	// up is enabled && !rebooting for the dataplane, which reads it
	// without Sim.mu; written under Sim.mu.
	up atomic.Bool
}

type onu struct {
	device
	pon, id uint32
	mac     string
	uni     *port
	ponPort *port

	enabled, rebooting bool // guarded by Sim.mu
	activated          bool // guarded by Sim.mu: see faces.go
	off                bool // guarded by Sim.mu: powered off (power.go)

	// up is enabled && !rebooting && !off (the OLT's state aside), written under
	// Sim.mu, read by the dataplane.
	up atomic.Bool
}

// New builds the OLT and its ONUs from cfg. The OLT starts disabled; the
// ONUs start enabled, so they are discovered when the OLT is enabled.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	id := newIdentity(cfg.Name)
	s := &Sim{
		cfg:       cfg,
		log:       cfg.Logger,
		counting:  !cfg.NoCounting,
		started:   time.Now(),
		bySerial:  make(map[string]*onu),
		byUNI:     make(map[uint32]*onu),
		done:      make(chan struct{}),
		subs:      make(map[*eventSub]struct{}),
		frameSubs: make(map[*frameSub]struct{}),
	}
	o := &olt{mac: id.oltMAC()}
	o.serial, o.label = id.oltSerial(), OLTDevice
	o.nni = newPort(portno.NNI(0), "nni-0", true, !cfg.NoCounting, true)
	o.ports = append(o.ports, o.nni)
	for p := range uint32(cfg.PONPorts) {
		pp := newPort(portno.OLTPON(p), fmt.Sprintf("pon-%d", p), false, !cfg.NoCounting, true)
		o.pons = append(o.pons, pp)
		o.ports = append(o.ports, pp)
	}
	o.table.Store(emptyTable)
	s.olt = o
	for p := range uint32(cfg.PONPorts) {
		for n := uint32(1); n <= uint32(cfg.ONUsPerPON); n++ {
			u := &onu{pon: p, id: n, mac: id.mac(p, n), enabled: true}
			u.serial = id.onuSerial(p, n)
			u.label = u.serial
			u.uni = newPort(portno.UNI(p, n, 0), "uni-0", true, !cfg.NoCounting, false)
			u.ponPort = newPort(portno.ONUPON, "pon", false, !cfg.NoCounting, false)
			u.ports = []*port{u.uni, u.ponPort}
			u.table.Store(emptyTable)
			u.up.Store(true)
			s.onus = append(s.onus, u)
			s.bySerial[u.serial] = u
			s.byUNI[u.uni.no] = u
		}
	}
	return s, nil
}

// Close stops the reboot timers and ends every stream. It is idempotent.
func (s *Sim) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		s.wg.Wait()
	})
}

// OLTSerial is the OLT's serial number.
func (s *Sim) OLTSerial() string { return s.olt.serial }

// ONUSerial is the serial number of ONU onuID (from 1) on PON pon, or "" if
// there is no such ONU.
func (s *Sim) ONUSerial(pon, onuID uint32) string {
	if pon >= uint32(s.cfg.PONPorts) || onuID < 1 || onuID > uint32(s.cfg.ONUsPerPON) {
		return ""
	}
	return s.onus[int(pon)*s.cfg.ONUsPerPON+int(onuID-1)].serial
}

// lookup finds a device by serial: "" or the OLT's serial names the OLT
// (onu nil), anything else an ONU.
func (s *Sim) lookup(serial string) (*device, *onu, error) {
	if serial == "" || serial == s.olt.serial {
		return &s.olt.device, nil, nil
	}
	if u, ok := s.bySerial[serial]; ok {
		return &u.device, u, nil
	}
	return nil, nil, fmt.Errorf("device %q: %w", serial, ErrNotFound)
}

// Enable enables the OLT (serial "" or the OLT's) or one ONU.
func (s *Sim) Enable(serial string) error {
	return s.setEnabled(serial, true)
}

// Disable disables the OLT or one ONU.
func (s *Sim) Disable(serial string) error {
	return s.setEnabled(serial, false)
}

func (s *Sim) setEnabled(serial string, enabled bool) error {
	_, u, err := s.lookup(serial)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if u == nil {
		if s.olt.enabled != enabled {
			s.log.Info("olt admin state", "serial", s.olt.serial, "enabled", enabled)
		}
		s.changeOLTLocked(func() { s.olt.enabled = enabled })
		return nil
	}
	if u.enabled != enabled {
		s.log.Info("onu admin state", "serial", u.serial, "enabled", enabled)
	}
	s.changeONULocked(u, func() {
		u.enabled = enabled
		u.activated = u.activated || enabled // faces.go
	})
	return nil
}

// Reboot takes the OLT or one ONU away for Config.RebootDelay. Rebooting a
// device that is already rebooting does nothing.
func (s *Sim) Reboot(serial string) error {
	_, u, err := s.lookup(serial)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	var back func()
	who := s.olt.serial
	if u == nil {
		if s.olt.rebooting {
			return nil
		}
		s.log.Info("olt rebooting", "serial", s.olt.serial, "delay", s.cfg.RebootDelay)
		s.changeOLTLocked(func() { s.olt.rebooting = true })
		back = func() { s.changeOLTLocked(func() { s.olt.rebooting = false }) }
	} else {
		if u.rebooting {
			return nil
		}
		who = u.serial
		s.log.Info("onu rebooting", "serial", u.serial, "delay", s.cfg.RebootDelay)
		s.changeONULocked(u, func() { u.rebooting = true })
		back = func() { s.changeONULocked(u, func() { u.rebooting = false }) }
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(s.cfg.RebootDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.log.Info("back from reboot", "serial", who)
			back()
		}
	}()
	return nil
}

// onuStateLocked is what OnuInfo.state reports: disabled wins over
// rebooting, so a disabled ONU that reboots stays DISABLED throughout.
func onuStateLocked(u *onu) ponsimv1.OnuState {
	switch {
	case u.off:
		return ponsimv1.OnuState_ONU_STATE_POWERED_OFF
	case !u.enabled:
		return ponsimv1.OnuState_ONU_STATE_DISABLED
	case u.rebooting:
		return ponsimv1.OnuState_ONU_STATE_REBOOTING
	default:
		return ponsimv1.OnuState_ONU_STATE_ACTIVE
	}
}

func (s *Sim) oltUpLocked() bool { return s.olt.enabled && !s.olt.rebooting }

func (s *Sim) oltInfoLocked() *ponsimv1.OltInfo {
	info := &ponsimv1.OltInfo{
		Name:            s.cfg.Name,
		SerialNumber:    s.olt.serial,
		MacAddress:      s.olt.mac,
		Vendor:          Vendor,
		Model:           Model,
		FirmwareVersion: FirmwareVersion,
		NniPort:         s.olt.nni.no,
		Enabled:         s.oltUpLocked(),
	}
	for _, p := range s.olt.pons {
		info.PonPorts = append(info.PonPorts, p.no)
	}
	return info
}

func onuInfoLocked(u *onu) *ponsimv1.OnuInfo {
	return &ponsimv1.OnuInfo{
		SerialNumber: u.serial,
		MacAddress:   u.mac,
		PonPort:      portno.OLTPON(u.pon),
		OnuId:        u.id,
		UniPort:      u.uni.no,
		State:        onuStateLocked(u),
	}
}

// DeviceInfo returns the OLT and every ONU, ONUs ordered by PON and id.
func (s *Sim) DeviceInfo() *ponsimv1.DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := &ponsimv1.DeviceInfo{Olt: s.oltInfoLocked(), Onus: make([]*ponsimv1.OnuInfo, 0, len(s.onus))}
	for _, u := range s.onus {
		info.Onus = append(info.Onus, onuInfoLocked(u))
	}
	return info
}

// AllDevices is the serial number that asks Stats for every device.
const AllDevices = "*"

func (s *Sim) onuDevices() []*device {
	out := make([]*device, len(s.onus))
	for i, u := range s.onus {
		out[i] = &u.device
	}
	return out
}

// Stats returns the counters of the ports of the OLT (serial ""), of one
// ONU, or of every device (AllDevices).
func (s *Sim) Stats(serial string) (*ponsimv1.Stats, error) {
	if serial == AllDevices {
		st := &ponsimv1.Stats{Ports: make([]*ponsimv1.PortCounters, 0, len(s.olt.ports)+2*len(s.onus))}
		for _, d := range append([]*device{&s.olt.device}, s.onuDevices()...) {
			for _, p := range d.ports {
				st.Ports = append(st.Ports, p.counters(d.label))
			}
		}
		return st, nil
	}
	d, _, err := s.lookup(serial)
	if err != nil {
		return nil, err
	}
	st := &ponsimv1.Stats{}
	for _, p := range d.ports {
		st.Ports = append(st.Ports, p.counters(d.label))
	}
	return st, nil
}
