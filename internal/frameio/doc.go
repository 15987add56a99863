// Package frameio sends and receives raw Ethernet frames: the simulator's
// dataplane and any adapter that needs in-band frames use it.
//
// A Port is one link end. RawPort (Open) is an AF_PACKET socket bound to a
// Linux interface and served by the Go runtime poller; MemPort (NewMemPair)
// is one end of an in-memory link with the same behaviour, for tests and for
// a dataplane that needs no privileges. One conformance suite runs against
// both.
//
// Receiving: each port has any number of subscribers, each with an optional
// Filter (a Go predicate, or classic BPF run in userspace by
// golang.org/x/net/bpf) and a bounded queue drained by its own goroutine. A
// slow subscriber loses frames (Counters.Dropped) and never holds up the
// others or the port. Frames are shared, read-only, between subscribers.
//
// VLAN tags: Linux strips the outer tag of every received frame before an
// AF_PACKET socket sees it, whatever the offload settings, and reports it
// only in PACKET_AUXDATA. RawPort puts it back, with the TPID the kernel
// reports (0x8100 or 0x88a8), so subscribers, filters and BPF programs see the
// frame as it was on the wire, QinQ included. The kernel here has no 802.1Q
// module, so VLAN sub-interfaces are done here in software: Port.VLAN returns
// a sub-port whose subscribers see one VLAN's frames with the tag popped and
// whose Send pushes it.
//
// Sending pads frames to MinFrameLen (60 bytes, no FCS) and never modifies
// the caller's slice. A RawPort does not receive outgoing frames
// (PACKET_OUTGOING): neither its own nor what others send on the interface.
package frameio
