package ofagent

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// TestActiveConnections: the agent dials the controller for each logical
// device, redials after the controller drops it, and closes the
// connection when the logical device goes.
func TestActiveConnections(t *testing.T) {
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	f := newFakeNBI()
	ld, ports := nbitest.LogicalDevice("ld1", testDPID)
	f.AddLogical(ld, ports)
	startAgent(t, Config{Server: f.Serve(t), Controllers: []string{ctl.Addr().String()}, MaxBackoff: 200 * time.Millisecond})

	accept := func() *ofClient {
		t.Helper()
		nc, err := ctl.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		c := &ofClient{t: t, nc: nc, br: bufio.NewReader(nc), xid: 1000}
		c.send(ofp13.NewHello(0))
		if m := c.next(); m.Hdr().Type != ofp13.TypeHello {
			t.Fatalf("first message %v", m.Hdr().Type)
		}
		return c
	}
	c := accept()
	if fr := c.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply); fr.DatapathID != testDPID {
		t.Fatalf("dpid %x", fr.DatapathID)
	}
	c.nc.Close()
	c = accept() // redialed
	ld2, ports2 := nbitest.LogicalDevice("ld2", 0x42)
	f.AddLogical(ld2, ports2)
	c2 := accept()
	if fr := c2.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply); fr.DatapathID != 0x42 {
		t.Fatalf("dpid %x, want the new logical device's", fr.DatapathID)
	}
	// A port added to ld2 arrives as port-status ADD.
	np := &voltv1.LogicalPort{Id: "uni-48", LogicalDeviceId: "ld2", OfpPort: &openflowv1.Port{PortNo: 48, Name: "uni-48", HwAddr: make([]byte, 6)}}
	f.Publish(&voltv1.Event{LogicalDeviceId: "ld2", Payload: &voltv1.Event_LogicalPort{LogicalPort: &voltv1.LogicalPortChange{
		Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED, Port: np}}})
	ps := c2.waitFor("port-status", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypePortStatus }).(*ofp13.PortStatus)
	if ps.Reason != 0 || ps.Desc.PortNo != 48 {
		t.Errorf("port-status %+v", ps)
	}
	f.RemoveLogical("ld2")
	if err := c2.closed(); err != nil {
		t.Fatalf("connection of a removed logical device: %v", err)
	}
	c.alive()
}

// TestKeepalive: a controller that answers echoes stays; one that does not
// is dropped after three intervals. The talker must not go quiet for three
// intervals either: they are long enough for a test goroutine that a
// loaded machine holds up now and then.
func TestKeepalive(t *testing.T) {
	_, ag := withFake(t, func(c *Config) { c.EchoInterval = 200 * time.Millisecond })
	quiet := dialOF(t, ag.listen)
	quiet.noEcho = true
	talker := dialOF(t, ag.listen)
	quietGone := make(chan error, 1)
	go func() { quietGone <- quiet.closed() }()
	// The talker keeps answering (alive reads and answers the agent's
	// echo requests) until the quiet one is dropped.
	testkit.Eventually(t, "silent controller dropped", func() error {
		talker.alive()
		select {
		case err := <-quietGone:
			if err != nil {
				t.Fatalf("silent controller: %v", err)
			}
			return nil
		default:
			return fmt.Errorf("still connected")
		}
	})
	talker.alive()
	if !strings.Contains(ag.logs.String(), "controller silent") {
		t.Error("no log line for the dropped controller")
	}
}

// TestListenerPorts: with a fixed base port, the second logical device in
// id order gets the next port.
func TestListenerPorts(t *testing.T) {
	f := newFakeNBI()
	ldB, portsB := nbitest.LogicalDevice("ld-b", 0xb)
	ldA, portsA := nbitest.LogicalDevice("ld-a", 0xa)
	f.AddLogical(ldB, portsB)
	f.AddLogical(ldA, portsA)
	base := freePortPair(t)
	ag := startAgent(t, Config{Server: f.Serve(t), Listen: base})
	host, port, _ := net.SplitHostPort(base)
	var p int
	fmt.Sscan(port, &p)
	for i, want := range []uint64{0xa, 0xb} {
		addr := net.JoinHostPort(host, fmt.Sprint(p+i))
		var c *ofClient
		testkit.Eventually(t, "listener "+addr, func() error {
			nc, err := net.Dial("tcp", addr)
			if err == nil {
				nc.Close()
			}
			return err
		})
		c = dialOF(t, addr)
		if fr := c.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply); fr.DatapathID != want {
			t.Errorf("port %s serves dpid %x, want %x", addr, fr.DatapathID, want)
		}
	}
	if !strings.Contains(ag.logs.String(), "passive listener serves logical device") {
		t.Error("the log does not say which port serves which device")
	}
}

// freePortPair returns a loopback address whose port and the next one are
// free, both kept for the test (testpeer.ReserveAddr) so that no other
// process takes them before the agent binds them.
func freePortPair(t *testing.T) string {
	t.Helper()
	for range 50 {
		addr := testpeer.ReserveAddr(t)
		_, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		if _, err := testpeer.Reserve(t, p+1); err == nil {
			return addr
		}
	}
	t.Fatal("no two free consecutive ports")
	return ""
}

// TestCoreRestart: when the NBI goes away the agent keeps its controller
// connections, reconnects when the core is back and re-reads the logical
// devices, dropping the connections of one that is gone.
func TestCoreRestart(t *testing.T) {
	f := newFakeNBI()
	ld1, ports1 := nbitest.LogicalDevice("ld1", 1)
	ld2, ports2 := nbitest.LogicalDevice("ld2", 2)
	f.AddLogical(ld1, ports1)
	f.AddLogical(ld2, ports2)
	addr, stop := f.ServeAt(t, "127.0.0.1:0")
	ag := startAgent(t, Config{Server: addr, Listen: "127.0.0.1:0", MaxBackoff: 100 * time.Millisecond})
	c1 := dialOF(t, ag.listen) // the first in id order: ld1
	if fr := c1.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply); fr.DatapathID != 1 {
		t.Fatalf("dpid %d", fr.DatapathID)
	}
	stop()
	testkit.Eventually(t, "the agent notices", func() error {
		if !strings.Contains(ag.logs.String(), "lost the core's event stream") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	c1.alive() // the connection stays while the core is away

	// While the core is away: the port description comes from the cache
	// (ovs-ofctl asks for it to resolve port names before a flow-mod), and
	// the flow-mod itself is refused as a flow-mod, which ovs-ofctl prints.
	pd := c1.multipart(&ofp13.PortDescRequest{})
	if len(pd) != 1 || len(pd[0].(*ofp13.PortDescReply).Ports) != len(ports1) {
		t.Errorf("port desc while the core is away: %+v", pd)
	}
	xid := c1.send(flowMod(ofp13.FlowAdd, 10, 1, 16))
	wantError(t, c1.reply(xid), ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedUnknown)

	// The core comes back without ld1.
	f2 := newFakeNBI()
	f2.AddLogical(ld2, ports2)
	f2.ServeAt(t, addr)
	if err := c1.closed(); err != nil {
		t.Fatalf("connection of the vanished logical device: %v", err)
	}
	c2 := dialOF(t, ag.listen) // now slot 0 serves ld2
	if fr := c2.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply); fr.DatapathID != 2 {
		t.Fatalf("dpid %d, want 2", fr.DatapathID)
	}
}
