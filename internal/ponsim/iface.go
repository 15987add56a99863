package ponsim

import (
	"errors"
	"fmt"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/frameio"
)

// Ports are the frame ports a Sim's external ports are bound to.
type Ports struct {
	closers []func() error
}

// Close unbinds and closes every port.
func (p *Ports) Close() error {
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c())
	}
	p.closers = nil
	return errors.Join(errs...)
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
