package ofagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openvolt/openvolt/internal/openflow/ofp13"
	"github.com/openvolt/openvolt/logging"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopSharedStack()
	if code == 0 {
		if err := goleak.Find(
			// etcd's and grpc's process-wide background goroutines.
			goleak.IgnoreAnyFunction("go.opencensus.io/stats/view.(*worker).start"),
			goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
			goleak.IgnoreTopFunction("go.etcd.io/etcd/client/pkg/v3/logutil.(*MergeLogger).outputLoop"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// runningAgent is an agent run by a test.
type runningAgent struct {
	listen string
	logs   *logging.Buffer
	stop   func()
}

// startAgent runs the agent until the test ends and returns once it is
// ready.
func startAgent(t testing.TB, cfg Config) *runningAgent {
	t.Helper()
	reg, buf := logging.Capture("debug")
	if cfg.Logs == nil {
		cfg.Logs = reg
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg.Ready = func(addr string) { ready <- addr }
	go func() { done <- Run(ctx, cfg) }()
	ra := &runningAgent{logs: buf}
	select {
	case ra.listen = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("agent stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("agent did not get ready")
	}
	stopped := false
	ra.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("agent did not stop")
		}
	}
	t.Cleanup(ra.stop)
	return ra
}

// ofClient is a minimal OpenFlow 1.3 controller for tests.
type ofClient struct {
	t   testing.TB
	nc  net.Conn
	br  *bufio.Reader
	xid uint32
	// pending holds messages read while looking for another one.
	pending []ofp13.Message
	// noEcho leaves the agent's echo requests unanswered.
	noEcho bool
}

// dialOF connects to addr and exchanges hellos.
func dialOF(t testing.TB, addr string) *ofClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &ofClient{t: t, nc: nc, br: bufio.NewReader(nc), xid: 1000}
	c.send(ofp13.NewHello(0))
	if m := c.next(); m.Hdr().Type != ofp13.TypeHello {
		t.Fatalf("first message %v, want hello", m.Hdr().Type)
	}
	return c
}

// send encodes m with a fresh xid unless it has one and returns the xid.
func (c *ofClient) send(m ofp13.Message) uint32 {
	c.t.Helper()
	if _, hello := m.(*ofp13.Hello); m.Hdr().Xid == 0 && !hello {
		c.xid++
		m.Hdr().Xid = c.xid
	}
	b, err := m.MarshalBinary()
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
	return m.Hdr().Xid
}

func (c *ofClient) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one message from the wire, answering echo requests.
func (c *ofClient) read() (ofp13.Message, error) {
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		raw, err := ofp13.ReadMessage(c.br, 0)
		if err != nil {
			return nil, err
		}
		m, err := ofp13.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("decode %x: %w", raw, err)
		}
		if e, ok := m.(*ofp13.EchoRequest); ok && !c.noEcho {
			c.send(&ofp13.EchoReply{Header: ofp13.Header{Xid: e.Xid}, Data: e.Data})
			continue
		}
		return m, nil
	}
}

// next returns the next message, pending ones first.
func (c *ofClient) next() ofp13.Message {
	c.t.Helper()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m
	}
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// waitFor returns the first message that keep accepts, keeping the others
// for next.
func (c *ofClient) waitFor(what string, keep func(ofp13.Message) bool) ofp13.Message {
	c.t.Helper()
	for i, m := range c.pending {
		if keep(m) {
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			return m
		}
	}
	for {
		m, err := c.read()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if keep(m) {
			return m
		}
		c.pending = append(c.pending, m)
	}
}

// reply waits for the message with xid.
func (c *ofClient) reply(xid uint32) ofp13.Message {
	c.t.Helper()
	return c.waitFor(fmt.Sprintf("xid %d", xid), func(m ofp13.Message) bool { return m.Hdr().Xid == xid })
}

// request sends m and returns its reply.
func (c *ofClient) request(m ofp13.Message) ofp13.Message {
	c.t.Helper()
	return c.reply(c.send(m))
}

// multipart sends a multipart request and returns every part of the reply.
func (c *ofClient) multipart(m ofp13.Message) []ofp13.Message {
	c.t.Helper()
	xid := c.send(m)
	var parts []ofp13.Message
	for {
		r := c.reply(xid)
		parts = append(parts, r)
		if _, ok := r.(ofp13.Multipart); !ok {
			return parts // an error
		}
		raw, _ := r.MarshalBinary()
		if multipartFlags(raw)&ofp13.MultipartReplyMore == 0 {
			return parts
		}
	}
}

// barrier sends a barrier and returns every message up to its reply.
func (c *ofClient) barrier() []ofp13.Message {
	c.t.Helper()
	xid := c.send(&ofp13.BarrierRequest{})
	var got []ofp13.Message
	for {
		m := c.next()
		if m.Hdr().Xid == xid && m.Hdr().Type == ofp13.TypeBarrierReply {
			return got
		}
		got = append(got, m)
	}
}

// wantError checks that m is an OpenFlow error of type t and code.
func wantError(t testing.TB, m ofp13.Message, typ ofp13.ErrorType, code uint16) {
	t.Helper()
	e, ok := m.(*ofp13.ErrorMsg)
	if !ok {
		t.Fatalf("got %v, want error %v/%s", m.Hdr().Type, typ, ofp13.ErrorCodeName(typ, code))
	}
	if e.Type != typ || e.Code != code {
		t.Fatalf("got error %s, want %v/%s", e, typ, ofp13.ErrorCodeName(typ, code))
	}
}

// alive checks that the connection still answers.
func (c *ofClient) alive() {
	c.t.Helper()
	r := c.request(&ofp13.EchoRequest{Data: []byte("alive?")})
	if _, ok := r.(*ofp13.EchoReply); !ok {
		c.t.Fatalf("echo answered with %v", r.Hdr().Type)
	}
}

// closed waits until the agent closes the connection.
func (c *ofClient) closed() error {
	for {
		_, err := c.read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return err
			}
			return nil
		}
	}
}
