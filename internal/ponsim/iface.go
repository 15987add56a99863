package ponsim

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/frameio"
)

// Ports are the frame ports a Sim's external ports are bound to.
type Ports struct {
	closers []func() error // run in reverse order by Close
}

// Close unbinds and closes every port.
func (p *Ports) Close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	return errors.Join(errs...)
}

// BindInterfaces opens the named network interfaces (AF_PACKET, root) and
// binds the OLT's NNI to nni and the ONUs' UNIs, in order, to unis (see
// Bind). Closing the result unbinds and closes the interfaces.
func (s *Sim) BindInterfaces(nni string, unis []string, log *slog.Logger) (*Ports, error) {
	opened := &Ports{}
	open := func(name string) (frameio.Port, error) {
		p, err := frameio.Open(name, frameio.Options{Logger: log})
		if err != nil {
			opened.Close()
			return nil, fmt.Errorf("ponsim: open interface %s: %w", name, err)
		}
		opened.closers = append(opened.closers, p.Close)
		return p, nil
	}
	var nniPort frameio.Port
	if nni != "" {
		var err error
		if nniPort, err = open(nni); err != nil {
			return nil, err
		}
	}
	uniPorts := make([]frameio.Port, 0, len(unis))
	for _, name := range unis {
		p, err := open(name)
		if err != nil {
			return nil, err
		}
		uniPorts = append(uniPorts, p)
	}
	if nniPort == nil && len(uniPorts) == 0 {
		return opened, nil
	}
	bound, err := s.Bind(nniPort, uniPorts)
	if err != nil {
		opened.Close()
		return nil, err
	}
	// Unbind first, then close the interfaces.
	opened.closers = append(opened.closers, bound.Close)
	return opened, nil
}

// Bind connects the OLT's NNI to nni and the UNIs of the ONUs, in order
// (PON 0 ONU 1, PON 0 ONU 2, …), to unis: frames the simulator sends out of
// a port leave through the frame port, frames arriving on the frame port
// enter the simulator there. Either may be nil; unis may be shorter than
// the ONU count (the rest stay in memory). The caller owns the frame ports
// and closes them after Ports.Close.
func (s *Sim) Bind(nni frameio.Port, unis []frameio.Port) (*Ports, error) {
	if n := s.cfg.PONPorts * s.cfg.ONUsPerPON; len(unis) > n {
		return nil, fmt.Errorf("ponsim: %d UNI interfaces for %d ONUs", len(unis), n)
	}
	bound := &Ports{}
	bind := func(serial string, portNo uint32, fp frameio.Port) error {
		if err := s.Connect(serial, portNo, func(frame []byte) { _ = fp.Send(frame) }); err != nil {
			return err
		}
		unsub := fp.Subscribe(nil, func(frame []byte) { _ = s.Inject(serial, portNo, frame) })
		bound.closers = append(bound.closers, func() error {
			unsub()
			return s.Connect(serial, portNo, nil)
		})
		return nil
	}
	if nni != nil {
		if err := bind(s.OLTSerial(), portno.NNI(0), nni); err != nil {
			bound.Close()
			return nil, err
		}
	}
	for i, fp := range unis {
		pon, onu := uint32(i/s.cfg.ONUsPerPON), uint32(i%s.cfg.ONUsPerPON+1)
		if err := bind(s.ONUSerial(pon, onu), portno.UNI(pon, onu, 0), fp); err != nil {
			bound.Close()
			return nil, err
		}
	}
	return bound, nil
}
