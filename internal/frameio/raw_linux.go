package frameio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/socket"
	"golang.org/x/sys/unix"
)

const (
	// tagRoom is the headroom in front of the receive buffer where a tag the
	// kernel stripped is put back without moving the payload.
	tagRoom = TagLen
	// recvBufLen fits any frame a veth or NIC can hand up, GRO included.
	recvBufLen = 1 << 16
	// auxdataLen is sizeof(struct tpacket_auxdata).
	auxdataLen = 20
)

// errTruncatedFrame marks a frame longer than the receive buffer.
var errTruncatedFrame = errors.New("frameio: frame longer than the receive buffer")

// RawPort is a Port on a network interface: an AF_PACKET socket bound to it,
// read by one goroutine that the port owns and Close stops. Frames come up
// with the outer VLAN tag the kernel stripped put back. Outgoing frames (what
// this or another socket, or the host, sends on the interface) are not
// received.
type RawPort struct {
	h       *hub
	conn    *socket.Conn
	ifindex int
	log     *slog.Logger

	closing    atomic.Bool
	done       chan struct{} // closed by Close; ends the reader's error backoff
	readerDone chan struct{} // closed when the reader returns
	recvErrors atomic.Uint64

	statsMu  sync.Mutex // guards overruns and serializes reading PACKET_STATISTICS, which resets it
	overruns uint64

	closeOnce sync.Once
	closeErr  error
}

var _ Port = (*RawPort)(nil)

// Open binds a raw socket to the interface ifname and starts receiving. It
// needs CAP_NET_RAW (and CAP_SYS_ADMIN when opts.NetNS is set).
func Open(ifname string, opts Options) (*RawPort, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if ifname == "" || len(ifname) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("frameio: bad interface name %q", ifname)
	}
	var cfg socket.Config
	if opts.NetNS != "" {
		ns, err := os.Open(opts.NetNS)
		if err != nil {
			return nil, fmt.Errorf("frameio: network namespace: %w", err)
		}
		defer ns.Close()
		cfg.NetNS = int(ns.Fd())
	}
	// Protocol 0 receives nothing until bind names the interface, so no frame
	// from another interface slips in between socket and bind.
	conn, err := socket.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0, "frameio", &cfg)
	if err != nil {
		return nil, fmt.Errorf("frameio: open %s: %w", ifname, err)
	}
	p := &RawPort{
		conn:       conn,
		log:        opts.logger(),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if err := p.setup(ifname, opts); err != nil {
		conn.Close()
		return nil, fmt.Errorf("frameio: open %s: %w", ifname, err)
	}
	p.h = newRoot(ifname, opts, p.transmit)
	go p.read()
	return p, nil
}

// setup finds the interface in the socket's namespace, sets the socket options
// and binds.
func (p *RawPort) setup(ifname string, opts Options) error {
	rc, err := p.conn.SyscallConn()
	if err != nil {
		return err
	}
	var ioctlErr error
	err = rc.Control(func(fd uintptr) {
		ifr, err := unix.NewIfreq(ifname)
		if err != nil {
			ioctlErr = err
			return
		}
		if err := unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr); err != nil {
			ioctlErr = os.NewSyscallError("ioctl SIOCGIFINDEX", err)
			return
		}
		p.ifindex = int(ifr.Uint32())
	})
	if err == nil {
		err = ioctlErr
	}
	if err != nil {
		return fmt.Errorf("interface index: %w", err)
	}
	if err := p.conn.SetsockoptInt(unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fmt.Errorf("PACKET_AUXDATA: %w", err)
	}
	if !opts.keepOutgoing {
		// Spares the reader a wakeup per frame sent. Best effort (Linux
		// 4.20+): the read loop drops PACKET_OUTGOING frames anyway.
		_ = p.conn.SetsockoptInt(unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	}
	if opts.ReadBuffer > 0 {
		if err := p.conn.SetReadBuffer(opts.ReadBuffer); err != nil {
			return fmt.Errorf("receive buffer: %w", err)
		}
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: p.ifindex}
	if err := p.conn.Bind(sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if !opts.DisablePromiscuous {
		// A membership, not a flag on the interface: the kernel drops it
		// when the socket closes.
		mreq := &unix.PacketMreq{Ifindex: int32(p.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := p.conn.SetsockoptPacketMreq(unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
			return fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	return nil
}

// read is the port's receive goroutine. It blocks in recvmsg on the runtime
// poller and returns when Close closes the socket.
func (p *RawPort) read() {
	defer close(p.readerDone)
	buf := make([]byte, tagRoom+recvBufLen)
	oob := make([]byte, unix.CmsgSpace(auxdataLen))
	failures := 0
	for {
		n, oobn, flags, from, err := p.conn.Recvmsg(context.Background(), buf[tagRoom:], oob, 0)
		if err != nil {
			if p.closing.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, unix.EBADF) {
				return
			}
			p.recvErrors.Add(1)
			failures++
			p.log.Warn("receive failed", "port", p.h.name, "err", err, "failures", failures)
			if !p.backoff(failures) {
				return
			}
			continue
		}
		failures = 0
		if sll, ok := from.(*unix.SockaddrLinklayer); ok && sll.Pkttype == unix.PACKET_OUTGOING {
			continue // our own frame, or one another socket sent on this interface
		}
		frame, err := reconstruct(buf, n, flags, oob[:oobn])
		if err != nil {
			p.h.receiveMalformed(n, err)
			continue
		}
		p.h.receive(frame, true)
	}
}

// backoff waits before the next read after consecutive failures, so a
// persistent error cannot spin the reader. It reports false when the port
// closed meanwhile.
func (p *RawPort) backoff(failures int) bool {
	d := time.Millisecond << min(failures-1, 7) // up to 128ms
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return false
	case <-t.C:
		return true
	}
}

// reconstruct turns what recvmsg returned into the frame as it was on the
// wire. buf holds n bytes of frame from offset tagRoom; when the auxdata in
// oob says the kernel stripped a tag, the MACs move into the headroom and the
// tag goes back between them and the rest. The result aliases buf.
func reconstruct(buf []byte, n, recvflags int, oob []byte) ([]byte, error) {
	if recvflags&unix.MSG_TRUNC != 0 || n > len(buf)-tagRoom {
		return nil, errTruncatedFrame
	}
	frame := buf[tagRoom : tagRoom+n]
	status, tci, tpid, ok := auxdata(oob)
	if !ok || status&unix.TP_STATUS_VLAN_VALID == 0 {
		return frame, nil
	}
	if n < macsLen {
		return nil, ErrShortFrame
	}
	if status&unix.TP_STATUS_VLAN_TPID_VALID == 0 || tpid == 0 {
		tpid = TPIDCTag // kernels before 3.14 report only the TCI
	}
	copy(buf[:macsLen], frame[:macsLen])
	binary.BigEndian.PutUint16(buf[macsLen:], tpid)
	binary.BigEndian.PutUint16(buf[macsLen+2:], tci)
	return buf[:tagRoom+n], nil
}

// auxdata finds struct tpacket_auxdata in the control messages of a recvmsg.
// It parses them itself, checking every length, because
// unix.ParseOneSocketControlMessage reads a header before checking that it
// fits. The fields are in host byte order; a cmsghdr is a size_t length and
// two ints, aligned to size_t.
func auxdata(oob []byte) (status uint32, tci, tpid uint16, ok bool) {
	const (
		word   = unix.SizeofPtr
		hdrLen = unix.SizeofCmsghdr
	)
	align := func(n int) int { return (n + word - 1) &^ (word - 1) }
	for len(oob) >= hdrLen {
		var n uint64
		if word == 8 {
			n = binary.NativeEndian.Uint64(oob)
		} else {
			n = uint64(binary.NativeEndian.Uint32(oob))
		}
		if n < hdrLen || n > uint64(len(oob)) {
			return 0, 0, 0, false
		}
		level := int32(binary.NativeEndian.Uint32(oob[word:]))
		typ := int32(binary.NativeEndian.Uint32(oob[word+4:]))
		data := oob[align(hdrLen):n]
		if level == unix.SOL_PACKET && typ == unix.PACKET_AUXDATA && len(data) >= auxdataLen {
			return binary.NativeEndian.Uint32(data[0:]),
				binary.NativeEndian.Uint16(data[16:]),
				binary.NativeEndian.Uint16(data[18:]),
				true
		}
		next := align(int(n))
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return 0, 0, 0, false
}

// transmit is the root hub's xmit: the socket is bound, so no address.
func (p *RawPort) transmit(frame []byte) error {
	if err := p.conn.Sendto(context.Background(), frame, 0, nil); err != nil {
		return fmt.Errorf("frameio: send on %s: %w", p.h.name, err)
	}
	return nil
}

// Name returns the interface name.
func (p *RawPort) Name() string { return p.h.Name() }

// Ifindex returns the interface index in the port's network namespace.
func (p *RawPort) Ifindex() int { return p.ifindex }

// Send transmits frame, padded to MinFrameLen, on the interface.
func (p *RawPort) Send(frame []byte) error { return p.h.Send(frame) }

// Subscribe is Port.Subscribe.
func (p *RawPort) Subscribe(f Filter, h Handler) (unsubscribe func()) { return p.h.Subscribe(f, h) }

// VLAN is Port.VLAN.
func (p *RawPort) VLAN(vid uint16, opts ...VLANOption) (Port, error) { return p.h.VLAN(vid, opts...) }

// Counters is Port.Counters, with the socket's receive errors and the
// kernel's drops.
func (p *RawPort) Counters() Counters {
	c := p.h.Counters()
	c.ReceiveErrors = p.recvErrors.Load()
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	if !p.closing.Load() {
		if st, err := p.conn.GetsockoptTpacketStats(unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			p.overruns += uint64(st.Drops)
		}
	}
	c.Overruns = p.overruns
	return c
}

// Close ends the subscriptions and sub-ports, closes the socket and waits for
// the receive goroutine.
func (p *RawPort) Close() error {
	p.closeOnce.Do(func() {
		p.statsMu.Lock()
		p.closing.Store(true)
		p.statsMu.Unlock()
		close(p.done)
		// The hub first, so Send reports ErrClosed rather than a socket
		// error; the reader's last frames then fall on a closed hub.
		p.h.close()
		if err := p.conn.Close(); err != nil {
			p.closeErr = fmt.Errorf("frameio: close %s: %w", p.h.name, err)
		}
		<-p.readerDone
	})
	return p.closeErr
}

// htons converts a protocol number to network byte order, as sockaddr_ll
// wants it.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
