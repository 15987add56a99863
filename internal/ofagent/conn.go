package ofagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// helloTimeout bounds the version negotiation of a new connection.
const helloTimeout = 10 * time.Second

// conn is one OpenFlow connection to a controller, active or passive. A
// reader goroutine decodes and handles messages in order; a writer
// goroutine sends what the handlers, the flow-mod goroutines and the
// datapath's asynchronous messages queue; a keepalive goroutine probes an
// idle peer.
type conn struct {
	dp  *datapath
	nc  net.Conn
	log *slog.Logger

	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc
	out    chan []byte // encoded messages for the writer

	lastRecv atomic.Int64 // unix nanos of the last message read
	reading  atomic.Bool  // the reader waits for input (so silence counts)
	xid      atomic.Uint32
	dropped  atomic.Int64 // asynchronous messages dropped on a full queue

	mu          sync.Mutex // guards the fields below
	role        ofp13.ControllerRole
	async       ofp13.AsyncConfig
	flags       uint16
	missSendLen uint16

	mods *sequencer // flow-, group- and meter-mods in flight
}

func newConn(dp *datapath, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(dp.ctx)
	c := &conn{
		dp:          dp,
		nc:          nc,
		log:         dp.log.With("peer", nc.RemoteAddr().String()),
		ctx:         ctx,
		cancel:      cancel,
		out:         make(chan []byte, 1024),
		role:        ofp13.RoleEqual,
		async:       defaultAsync,
		missSendLen: ofp13.DefaultMissSendLen,
	}
	c.mods = newSequencer(c, dp.a.cfg.MaxInFlight)
	return c
}

// serve negotiates the version, then reads and handles messages until the
// peer goes, the connection fails a keepalive, or the datapath stops. It
// returns why the connection ended.
func (c *conn) serve() error {
	defer c.cancel()
	defer c.nc.Close()
	stopClose := context.AfterFunc(c.ctx, func() { c.nc.Close() })
	defer stopClose()

	br := bufio.NewReaderSize(c.nc, 64<<10)
	if err := c.handshake(br); err != nil {
		return err
	}
	if !c.dp.attach(c) {
		return c.dp.ctx.Err()
	}
	defer c.dp.detach(c)
	c.dp.a.metrics.connection(+1)
	defer c.dp.a.metrics.connection(-1)

	var wg sync.WaitGroup
	defer wg.Wait()
	c.mods.serve()
	// On the way out: close (ending the writer and keepalive), then let
	// the mods in flight finish; their calls are bounded by the datapath,
	// not the connection, and their replies go nowhere.
	defer c.mods.close()
	defer c.cancel()
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.writeLoop()
	}()
	go func() {
		defer wg.Done()
		c.keepalive()
	}()
	return c.readLoop(br)
}

// handshake sends our hello and reads the peer's (OpenFlow 1.3.5 §6.3.1):
// the connection goes on if the peer accepts 1.3, else it gets
// OFPET_HELLO_FAILED and is closed, the one bad message that ends a
// connection.
func (c *conn) handshake(br *bufio.Reader) error {
	_ = c.nc.SetDeadline(time.Now().Add(helloTimeout))
	defer c.nc.SetDeadline(time.Time{})
	hello, _ := ofp13.NewHello(c.nextXid()).MarshalBinary()
	if _, err := c.nc.Write(hello); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	c.dp.a.metrics.message(sent, hello)
	raw, err := ofp13.ReadMessage(br, 0)
	c.dp.a.metrics.message(received, raw)
	if err != nil {
		if _, ok := ofp13.AsError(err); !ok {
			return fmt.Errorf("read hello: %w", err)
		}
	}
	var reason string
	if err == nil {
		var m ofp13.Message
		m, err = ofp13.Decode(raw)
		switch h, _ := m.(*ofp13.Hello); {
		case err != nil && len(raw) >= ofp13.HeaderLen && ofp13.MsgType(raw[1]) == ofp13.TypeHello:
			reason = fmt.Sprintf("bad hello: %v", err)
		case h == nil:
			reason = fmt.Sprintf("expected hello, got %v", ofp13.MsgType(raw[1]))
		case !h.Supports(ofp13.Version):
			reason = fmt.Sprintf("peer does not speak OpenFlow 1.3 (its version 0x%02x, bitmap %x)", h.Version, h.VersionBitmap)
		default:
			c.lastRecv.Store(time.Now().UnixNano())
			c.log.Debug("OpenFlow 1.3 negotiated")
			return nil
		}
	} else {
		reason = fmt.Sprintf("expected hello: %v", err)
	}
	e := &ofp13.ErrorMsg{Type: ofp13.ErrTypeHelloFailed, Code: ofp13.HelloFailedIncompatible, Data: []byte(reason)}
	if len(raw) >= ofp13.HeaderLen {
		e.Xid = be32(raw[4:])
	}
	b, _ := e.MarshalBinary()
	if _, err := c.nc.Write(b); err == nil {
		c.dp.a.metrics.message(sent, b)
	}
	c.log.Warn("version negotiation failed; closing", "reason", reason)
	return errors.New("hello failed: " + reason)
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (c *conn) nextXid() uint32 { return c.xid.Add(1) }

// readLoop reads until the connection fails; a message that cannot be
// read whole or decoded gets an error reply and the loop goes on.
func (c *conn) readLoop(br *bufio.Reader) error {
	for {
		c.reading.Store(true)
		raw, err := ofp13.ReadMessage(br, 0)
		c.reading.Store(false)
		c.lastRecv.Store(time.Now().UnixNano())
		if err != nil {
			if e, ok := ofp13.AsError(err); ok && raw != nil {
				c.dp.a.metrics.message(received, raw)
				c.refuse(raw, e)
				continue
			}
			if c.ctx.Err() != nil {
				return c.ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("read: %w", err)
		}
		c.dp.a.metrics.message(received, raw)
		c.handle(raw)
	}
}

// writeLoop writes queued messages, flushing whenever the queue is empty.
func (c *conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		select {
		case b := <-c.out:
			c.dp.a.metrics.message(sent, b)
			if _, err := bw.Write(b); err != nil {
				c.fail("write", err)
				return
			}
			if len(c.out) > 0 {
				continue
			}
			if err := bw.Flush(); err != nil {
				c.fail("write", err)
				return
			}
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *conn) fail(what string, err error) {
	if c.ctx.Err() == nil && !isClosed(err) {
		c.log.Info("connection failed", "op", what, "err", err)
	}
	c.cancel()
}

// keepalive sends an echo request when the peer has been silent for an
// interval and closes the connection after three silent intervals. Silence
// counts only while the reader waits for input: a reader busy with a long
// barrier has unread messages instead.
func (c *conn) keepalive() {
	iv := c.dp.a.cfg.EchoInterval
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.ctx.Done():
			return
		}
		if !c.reading.Load() {
			continue
		}
		idle := time.Since(time.Unix(0, c.lastRecv.Load()))
		switch {
		case idle >= 3*iv:
			c.log.Warn("controller silent; closing the connection", "silent_for", idle.Round(time.Millisecond))
			c.cancel()
			return
		case idle >= iv:
			c.send(&ofp13.EchoRequest{Header: ofp13.Header{Xid: c.nextXid()}})
		}
	}
}

// send encodes m and queues it, waiting while the queue is full.
func (c *conn) send(m ofp13.Message) {
	b, err := m.MarshalBinary()
	if err != nil {
		c.log.Error("cannot encode a reply; not sent", "type", m.Hdr().Type, "err", err)
		return
	}
	c.sendRaw(b)
}

func (c *conn) sendRaw(b []byte) {
	select {
	case c.out <- b:
	case <-c.ctx.Done():
	}
}

// refuse answers a bad message with the OpenFlow error e and logs it.
func (c *conn) refuse(raw []byte, e *ofp13.Error) {
	var typ ofp13.MsgType
	var xid uint32
	if len(raw) >= ofp13.HeaderLen {
		typ, xid = ofp13.MsgType(raw[1]), be32(raw[4:])
	}
	c.log.Warn("refused a message", "type", typ, "xid", xid, "error", e.Type.String()+"/"+ofp13.ErrorCodeName(e.Type, e.Code), "reason", e.Reason)
	c.send(e.Reply(raw))
}

func (c *conn) getRole() ofp13.ControllerRole {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.role
}

func (c *conn) setRole(r ofp13.ControllerRole) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.role = r
}

// asyncKind names the three kinds of asynchronous message.
type asyncKind int

const (
	asyncPacketIn asyncKind = iota
	asyncPortStatus
	asyncFlowRemoved
)

// defaultAsync is the async configuration a connection starts with
// (OpenFlow 1.3.5 §7.3.10): masters and equals get every packet-in,
// port-status and flow-removed; slaves only port-status.
var defaultAsync = ofp13.AsyncConfig{
	PacketInMask:    [2]uint32{1<<ofp13.PacketInReasonNoMatch | 1<<ofp13.PacketInReasonAction, 0},
	PortStatusMask:  [2]uint32{0b111, 0b111},
	FlowRemovedMask: [2]uint32{0b1111, 0},
}

// sendAsync queues an asynchronous message if this connection's role and
// async config want it. It never blocks: a message for a controller that
// cannot keep up is dropped and counted.
func (c *conn) sendAsync(kind asyncKind, reason uint8, b []byte) {
	c.mu.Lock()
	i := 0
	if c.role == ofp13.RoleSlave {
		i = 1
	}
	var mask uint32
	switch kind {
	case asyncPacketIn:
		mask = c.async.PacketInMask[i]
	case asyncPortStatus:
		mask = c.async.PortStatusMask[i]
	case asyncFlowRemoved:
		mask = c.async.FlowRemovedMask[i]
	}
	c.mu.Unlock()
	if reason >= 32 || mask&(1<<reason) == 0 {
		return
	}
	select {
	case c.out <- b:
	default:
		if n := c.dropped.Add(1); n&(n-1) == 0 { // log at 1, 2, 4, 8…
			c.log.Warn("controller is not reading; asynchronous messages dropped", "dropped", n)
		}
	}
}
