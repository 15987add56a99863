package frameio

// MemPort is one end of an in-memory link: what one end sends the other
// receives, with the semantics of a RawPort on a veth pair (padding, VLAN
// sub-ports, filters, counters) and no privileges. A frame is delivered to the
// peer's subscriber queues on the sender's goroutine, so Send never waits for a
// handler. Sending after the peer closed loses the frame, as a cable would.
type MemPort struct {
	h *hub
}

var _ Port = (*MemPort)(nil)

// NewMemPair returns two connected in-memory ports named nameA and nameB.
func NewMemPair(nameA, nameB string, opts Options) (a, b *MemPort, err error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	a, b = new(MemPort), new(MemPort)
	a.h = newRoot(nameA, opts, func(frame []byte) error {
		b.h.receive(frame, true)
		return nil
	})
	b.h = newRoot(nameB, opts, func(frame []byte) error {
		a.h.receive(frame, true)
		return nil
	})
	return a, b, nil
}

// Name returns the name given to NewMemPair.
func (p *MemPort) Name() string { return p.h.Name() }

// Send delivers frame, padded to MinFrameLen, to the peer.
func (p *MemPort) Send(frame []byte) error { return p.h.Send(frame) }

// Subscribe is Port.Subscribe.
func (p *MemPort) Subscribe(f Filter, h Handler) (unsubscribe func()) { return p.h.Subscribe(f, h) }

// VLAN is Port.VLAN.
func (p *MemPort) VLAN(vid uint16, opts ...VLANOption) (Port, error) { return p.h.VLAN(vid, opts...) }

// Counters is Port.Counters.
func (p *MemPort) Counters() Counters { return p.h.Counters() }

// Close is Port.Close; the peer stays open.
func (p *MemPort) Close() error {
	p.h.close()
	return nil
}
