package ponsim

import (
	"sync/atomic"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Wire is the far side of an external port (the OLT NNI or an ONU UNI): it
// receives every frame the simulator sends out of that port. It runs in the
// goroutine that forwards the frame, so it must not block; the frame is its
// own to keep.
type Wire func(frame []byte)

// port is one device port with its counters. The counters are atomic so the
// dataplane counts without a lock.
type port struct {
	no       uint32
	name     string
	external bool                 // NNI or UNI: frames leave to a Wire
	counting bool                 // false: the counters stay zero (Config.NoCounting)
	wire     atomic.Pointer[Wire] // nil: unplugged, frames sent out are dropped

	rxFrames, rxBytes atomic.Uint64
	txFrames, txBytes atomic.Uint64
	dropped           atomic.Uint64
	malformed         atomic.Uint64
}

func newPort(no uint32, name string, external, counting bool) *port {
	return &port{no: no, name: name, external: external, counting: counting}
}

func (p *port) rx(n int) {
	if p.counting {
		p.rxFrames.Add(1)
		p.rxBytes.Add(uint64(n))
	}
}

func (p *port) tx(n int) {
	if p.counting {
		p.txFrames.Add(1)
		p.txBytes.Add(uint64(n))
	}
}

func (p *port) drop() {
	if p.counting {
		p.dropped.Add(1)
	}
}

func (p *port) counters(device string) *ponsimv1.PortCounters {
	return &ponsimv1.PortCounters{
		Device:    device,
		PortNo:    p.no,
		Name:      p.name,
		RxFrames:  p.rxFrames.Load(),
		RxBytes:   p.rxBytes.Load(),
		TxFrames:  p.txFrames.Load(),
		TxBytes:   p.txBytes.Load(),
		Dropped:   p.dropped.Load(),
		Malformed: p.malformed.Load(),
	}
}
