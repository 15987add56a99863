package frameio

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrClosed is returned by Send and VLAN on a closed port.
var ErrClosed = errors.New("frameio: port closed")

// Port sends and receives raw Ethernet frames. RawPort, MemPort and the VLAN
// sub-ports they hand out implement it; all methods are safe for concurrent
// use.
type Port interface {
	// Name is the interface name, or the parent's name and the VID for a
	// VLAN sub-port ("eth0.100").
	Name() string
	// Send transmits frame, padded with zeros to MinFrameLen; a VLAN sub-port
	// first pushes its tag. frame is not modified or retained.
	Send(frame []byte) error
	// Subscribe delivers every received frame that f matches (all of them
	// when f is nil) to h, in order, on a goroutine owned by the
	// subscription. Up to Options.QueueLen frames wait for h; more are
	// dropped and counted, so a slow handler never stalls the port. The
	// frame is shared with other subscribers: read it, keep it, never
	// modify it. unsubscribe stops delivery and waits for a running h to
	// return, so it must not be called from h. On a closed port Subscribe
	// does nothing.
	Subscribe(f Filter, h Handler) (unsubscribe func())
	// VLAN returns a sub-port for one VLAN: its subscribers see only the
	// received frames whose outer tag has this VID and TPID (0x8100 unless
	// WithTPID says otherwise), with that tag removed, and its Send pushes
	// the tag. Sub-ports nest: port.VLAN(200, WithTPID(TPIDSTag)) then
	// .VLAN(100) is the QinQ service 200/100. The parent's subscribers
	// still see the tagged frames. Closing the parent closes its sub-ports.
	VLAN(vid uint16, opts ...VLANOption) (Port, error)
	// Counters returns a snapshot of the port's counters.
	Counters() Counters
	// Close stops receiving, ends every subscription and sub-port and waits
	// for their goroutines, so it must not be called from a handler. It is
	// safe to call more than once.
	Close() error
}

// Handler receives frames from a subscription.
type Handler func(frame []byte)

// Counters count frames since a port was opened. A frame a sub-port receives
// or sends is counted on the sub-port and on each of its parents.
type Counters struct {
	// Received counts frames that arrived, malformed ones included;
	// outgoing frames are not received.
	Received uint64
	// Discarded counts well-formed frames no subscriber wanted.
	Discarded uint64
	// Malformed counts frames dropped because they could not be parsed: too
	// short for an Ethernet header, a VLAN tag cut off, or longer than the
	// receive buffer.
	Malformed uint64
	// Dropped counts deliveries lost because a subscriber's queue was full;
	// a frame dropped by two subscribers counts twice.
	Dropped uint64
	// Sent counts frames sent; SendErrors counts failed sends.
	Sent       uint64
	SendErrors uint64
	// ReceiveErrors counts failed reads from the socket (RawPort only).
	ReceiveErrors uint64
	// Overruns counts frames the kernel dropped because the socket's receive
	// buffer was full (RawPort only).
	Overruns uint64
}

// VLANOption adjusts the tag of a VLAN sub-port.
type VLANOption func(*Tag)

// WithTPID sets the TPID a sub-port matches and pushes: TPIDCTag (the
// default), TPIDSTag or TPIDQinQ.
func WithTPID(tpid uint16) VLANOption { return func(t *Tag) { t.TPID = tpid } }

// WithPCP sets the priority a sub-port writes into the tags it pushes; it does
// not affect which frames the sub-port receives.
func WithPCP(pcp uint8) VLANOption { return func(t *Tag) { t.PCP = pcp } }

// DefaultQueueLen is the subscription queue length when Options.QueueLen is 0.
const DefaultQueueLen = 256

// Options configure a port. The zero value is ready to use.
type Options struct {
	// QueueLen is how many frames each subscription buffers for its handler
	// before it drops; 0 means DefaultQueueLen.
	QueueLen int
	// Logger receives the port's diagnostics; nil discards them.
	Logger *slog.Logger

	// NetNS is the path of the network namespace that holds the interface
	// (such as /run/netns/NAME); empty means the caller's. RawPort only.
	NetNS string
	// DisablePromiscuous leaves the interface's promiscuous mode alone.
	// By default the socket holds the interface promiscuous while it is
	// open, so frames for any MAC arrive. RawPort only.
	DisablePromiscuous bool
	// ReadBuffer sets the socket's receive buffer in bytes; 0 keeps the
	// system default. RawPort only.
	ReadBuffer int

	// keepOutgoing leaves PACKET_IGNORE_OUTGOING off so tests exercise the
	// PACKET_OUTGOING check in the read loop.
	keepOutgoing bool
}

// Validate reports whether o can configure a port.
func (o Options) Validate() error {
	switch {
	case o.QueueLen < 0:
		return fmt.Errorf("frameio: QueueLen %d < 0", o.QueueLen)
	case o.ReadBuffer < 0:
		return fmt.Errorf("frameio: ReadBuffer %d < 0", o.ReadBuffer)
	}
	return nil
}

func (o Options) queueLen() int {
	if o.QueueLen == 0 {
		return DefaultQueueLen
	}
	return o.QueueLen
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
