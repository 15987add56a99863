package ponsim

// Hooks for another face of the same simulator (the openolt face in
// internal/ponsim/openolt): it sees and changes the one model of OLT, ONUs
// and dataplane through these methods, and Serve puts it on the same gRPC
// server as the PonSim API.
//
// Activation is the openolt notion of an ONU the OLT has ranged and given
// an id: an ONU starts not activated; ActivateONU (the openolt face's
// ActivateOnu) or enabling it over the PonSim API activates it, so an ONU
// activated through one face is activated for both.

import (
	"fmt"

	"google.golang.org/grpc"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Face is another API over the simulator. Serve registers every face added
// before it beside the PonSim API, and closes them when it stops.
type Face interface {
	Register(*grpc.Server)
	Close()
}

// AddFace adds f; call it before Serve.
func (s *Sim) AddFace(f Face) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faces = append(s.faces, f)
}

func (s *Sim) facesNow() []Face {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Face(nil), s.faces...)
}

// PONPorts is the number of PON ports of the OLT.
func (s *Sim) PONPorts() int { return s.cfg.PONPorts }

// ONUsPerPON is the number of ONUs on each PON.
func (s *Sim) ONUsPerPON() int { return s.cfg.ONUsPerPON }

// ONUView is one ONU as a face sees it.
type ONUView struct {
	PON, ID   uint32 // PON index and the simulator's ONU id (from 1)
	Serial    string
	MAC       string
	UNI       uint32 // the UNI's port number (portno.UNI(PON, ID, 0))
	Activated bool
	Enabled   bool
	Rebooting bool
	Off       bool // powered off (SetPower): not on the PON
}

// ONUs returns every ONU, ordered by PON and id.
func (s *Sim) ONUs() []ONUView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ONUView, len(s.onus))
	for i, u := range s.onus {
		out[i] = viewLocked(u)
	}
	return out
}

// ONU returns the ONU with serial number serial.
func (s *Sim) ONU(serial string) (ONUView, error) {
	u, ok := s.bySerial[serial]
	if !ok {
		return ONUView{}, fmt.Errorf("onu %q: %w", serial, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return viewLocked(u), nil
}

func viewLocked(u *onu) ONUView {
	return ONUView{PON: u.pon, ID: u.id, Serial: u.serial, MAC: u.mac, UNI: u.uni.no,
		Activated: u.activated, Enabled: u.enabled, Rebooting: u.rebooting, Off: u.off}
}

// OLTState reports whether the OLT is enabled and whether it is rebooting.
func (s *Sim) OLTState() (enabled, rebooting bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.olt.enabled, s.olt.rebooting
}

// ActivateONU activates and enables the ONU serial.
func (s *Sim) ActivateONU(serial string) error {
	return s.setActivation(serial, true)
}

// ForgetONU makes the ONU serial not activated again (and enabled, as a
// fresh ONU is): it is discovered anew.
func (s *Sim) ForgetONU(serial string) error {
	return s.setActivation(serial, false)
}

func (s *Sim) setActivation(serial string, activated bool) error {
	u, ok := s.bySerial[serial]
	if !ok {
		return fmt.Errorf("onu %q: %w", serial, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	u.activated = activated
	s.changeONULocked(u, func() { u.enabled = true })
	s.log.Debug("onu activation", "serial", serial, "activated", activated)
	return nil
}

// SubscribeFrames returns a channel of the packet-ins (as ReceiveFrames
// streams them) and a function that ends the subscription. A full channel
// misses frames (counted as drops on their in port).
func (s *Sim) SubscribeFrames(n int) (<-chan *ponsimv1.Frame, func()) {
	sub := &frameSub{ch: make(chan *ponsimv1.Frame, n)}
	s.fmu.Lock()
	s.frameSubs[sub] = struct{}{}
	s.fmu.Unlock()
	return sub.ch, func() {
		s.fmu.Lock()
		delete(s.frameSubs, sub)
		s.fmu.Unlock()
	}
}

// SendOut sends frame out of port portNo of the OLT (serial "") or the ONU
// serial, as a packet-out does.
func (s *Sim) SendOut(serial string, portNo uint32, frame []byte) error {
	return s.sendFrame(&ponsimv1.Frame{Device: &ponsimv1.DeviceRef{SerialNumber: serial}, PortNo: portNo, Payload: frame})
}

// Done is closed when the simulator stops: a face's streams end then.
func (s *Sim) Done() <-chan struct{} { return s.done }

// Watcher hears of the state changes of the OLT and its ONUs, whichever
// face made them, under the rule of the event stream (sim.go): ONU
// changes only while the OLT is up. It is called with the simulator's
// lock held, so it must not block or call back into the Sim.
type Watcher interface {
	// OLTChanged: the OLT went up or down; onus is every ONU as it is.
	OLTChanged(up bool, onus []ONUView)
	// ONUChanged: the state of an ONU changed (enabled, rebooting,
	// powered off or on).
	ONUChanged(onu ONUView)
}

// Watch adds w; call it before the state changes w must hear of.
func (s *Sim) Watch(w Watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, w)
}

// ONUUp reports whether the ONU serial forwards frames now (it and the
// OLT are enabled and not rebooting), without taking the Sim's lock.
func (s *Sim) ONUUp(serial string) bool {
	u, ok := s.bySerial[serial]
	return ok && s.devUp(u)
}
