package ponsim

import (
	"runtime"
	"sync/atomic"
	_ "unsafe" // go:linkname procPin

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

	// shards hold the counters, summed when read. A port every core
	// forwards through (the OLT's NNI and PONs) has one shard per P, each
	// on its own cache lines, so that cores do not take the lines from
	// each other on every frame; any other port (an ONU's, which only its
	// subscriber's frames cross) has one, local, in the port itself: no
	// other memory to fetch per frame.
	shards    []portShard
	local     portShard
	malformed atomic.Uint64 // rare: not sharded
}

// portShard is one P's share of a port's counters, padded to two cache
// lines.
type portShard struct {
	rx, tx  tally
	dropped atomic.Uint64
	_       [128 - 2*32 - 8]byte
}

// newPort returns a port; shared is for a port every core forwards
// through (see port.shards).
func newPort(no uint32, name string, external, counting, shared bool) *port {
	p := &port{no: no, name: name, external: external, counting: counting}
	if shared {
		p.shards = make([]portShard, runtime.GOMAXPROCS(0))
	}
	return p
}

// shard returns the counters the calling goroutine's P adds to. The P may
// change right after: the adds are atomic, so that only costs a shared
// cache line now and then, never a count.
func (p *port) shard() *portShard {
	if p.shards == nil {
		return &p.local
	}
	pid := procPin()
	procUnpin()
	return &p.shards[uint(pid)%uint(len(p.shards))]
}

// procPin and procUnpin are the runtime's (sync.Pool's way to find its P).
// The runtime keeps them for packages that link to them (go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

func (p *port) rx(n int) {
	if p.counting {
		p.shard().rx.add(n)
	}
}

func (p *port) tx(n int) {
	if p.counting {
		p.shard().tx.add(n)
	}
}

func (p *port) drop() {
	if p.counting {
		p.shard().dropped.Add(1)
	}
}

func (p *port) counters(device string) *ponsimv1.PortCounters {
	c := &ponsimv1.PortCounters{Device: device, PortNo: p.no, Name: p.name, Malformed: p.malformed.Load()}
	sum := func(sh *portShard) {
		rf, rb := sh.rx.load()
		tf, tb := sh.tx.load()
		c.RxFrames += rf
		c.RxBytes += rb
		c.TxFrames += tf
		c.TxBytes += tb
		c.Dropped += sh.dropped.Load()
	}
	sum(&p.local) // zero on a sharded port
	for i := range p.shards {
		sum(&p.shards[i])
	}
	return c
}
