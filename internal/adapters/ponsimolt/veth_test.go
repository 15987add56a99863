package ponsimolt_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/frameio"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// netns is a network namespace made for one test, with veth pairs in it.
type netns struct {
	t    *testing.T
	name string
	path string
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newNetns(t *testing.T) *netns {
	testpeer.Root(t, "creates a network namespace and veth pairs and opens AF_PACKET sockets")
	var r [4]byte
	_, _ = rand.Read(r[:])
	n := &netns{t: t, name: "vt-" + hex.EncodeToString(r[:])}
	n.path = "/run/netns/" + n.name
	ip(t, "netns", "add", n.name)
	t.Cleanup(func() { ip(t, "netns", "del", n.name) })
	// No IPv6 chatter on the links: only the test's frames cross them.
	ip(t, "netns", "exec", n.name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	return n
}

// veth makes a veth pair a–b and waits until both ends are up.
func (n *netns) veth(a, b string) {
	ip(n.t, "-n", n.name, "link", "add", a, "type", "veth", "peer", "name", b)
	for _, ifname := range []string{a, b} {
		ip(n.t, "-n", n.name, "link", "set", ifname, "up")
	}
	testkit.Eventually(n.t, a+" up", func() error {
		for _, ifname := range []string{a, b} {
			out, err := exec.Command("ip", "-n", n.name, "-o", "link", "show", "dev", ifname).Output()
			if err != nil || !strings.Contains(string(out), "state UP") {
				return fmt.Errorf("%s not up", ifname)
			}
		}
		return nil
	})
}

func (n *netns) open(ifname string) *frameio.RawPort {
	p, err := frameio.Open(ifname, frameio.Options{NetNS: n.path})
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { p.Close() })
	return p
}

// catcher keeps the frames a port receives.
type catcher struct {
	mu     sync.Mutex // guards frames
	frames [][]byte
}

func catch(p frameio.Port) *catcher {
	c := &catcher{}
	p.Subscribe(nil, func(f []byte) {
		c.mu.Lock()
		c.frames = append(c.frames, bytes.Clone(f))
		c.mu.Unlock()
	})
	return c
}

// wait returns the first frame received since the last wait.
func (c *catcher) wait(t *testing.T, what string) []byte {
	t.Helper()
	var got []byte
	testkit.Eventually(t, what, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.frames) == 0 {
			return fmt.Errorf("no frame yet")
		}
		got, c.frames = c.frames[0], c.frames[1:]
		return nil
	})
	return got
}

// TestSubscriberOnVeth binds ponsim's NNI and a UNI to veth pairs, programs
// an ATT-like subscriber through the NBI, and sends real frames: untagged
// from the UNI side leaves the NNI with the S-tag and C-tag (read with a
// raw socket and auxdata); double-tagged into the NNI reaches the UNI
// untagged; EAPOL becomes a packet-in of the UNI; a packet-out to the UNI
// arrives on its wire.
func TestSubscriberOnVeth(t *testing.T) {
	ns := newNetns(t)
	ns.veth("nni-sim", "nni-net")
	ns.veth("uni-sim", "uni-host")
	s := newStack(t)
	sim, addr := s.heldSim("veth", 1, 1)
	bound, err := sim.Bind(ns.open("nni-sim"), []frameio.Port{ns.open("uni-sim")})
	if err != nil {
		t.Fatal(err)
	}
	defer bound.Close()
	network, host := ns.open("nni-net"), ns.open("uni-host")
	fromNNI, toHost := catch(network), catch(host)

	oltID := s.createOLT(addr)
	ld := s.waitActive(oltID, 1)
	const sVID, cVID = 1000, 101
	nni, uni := portno.NNI(0), portno.UNI(0, 1, 0)
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meterMod(ld, m)
	}
	for _, f := range subscriberFlows(nni, uni, sVID, cVID) {
		s.flowMod(ld, f)
	}
	s.inPonSim(sim, oltID)

	payload := make([]byte, 46) // a minimum-size frame: no padding to think of
	for i := range payload {
		payload[i] = byte(i)
	}
	if err := host.Send(ethFrame(0x0800, payload)); err != nil {
		t.Fatal(err)
	}
	got := fromNNI.wait(t, "upstream frame on the NNI")
	if want := ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID}); !bytes.Equal(got, want) {
		t.Errorf("NNI side received %x, want %x", got, want)
	}
	if tags, _ := frameio.Tags(got); len(tags) != 2 || tags[0].TPID != 0x88a8 || tags[0].VID != sVID || tags[1].VID != cVID {
		t.Errorf("tags on the NNI: %v", tags)
	}

	if err := network.Send(ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})); err != nil {
		t.Fatal(err)
	}
	if got, want := toHost.wait(t, "downstream frame at the UNI"), ethFrame(0x0800, payload); !bytes.Equal(got, want) {
		t.Errorf("UNI side received %x, want %x", got, want)
	}

	// EAPOL from the subscriber: a packet-in naming the UNI.
	ins := s.packetIns(t, ld)
	eapol := ethFrame(0x888e, payload)
	var in *voltv1.PacketIn
	testkit.Eventually(t, "EAPOL packet-in", func() error {
		if err := host.Send(eapol); err != nil {
			return err
		}
		select {
		case in = <-ins:
			return nil
		case <-time.After(200 * time.Millisecond):
			return fmt.Errorf("no packet-in")
		}
	})
	checkPacketIn(t, in, ld, uni, ethFrame(0x888e, payload, [2]uint16{0x8100, 4091}))

	// A packet-out to the UNI arrives on its wire.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.nbi.StreamPacketsOut(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frame := ethFrame(0x88cc, payload)
	if err := out.Send(&voltv1.PacketOut{LogicalDeviceId: ld, PacketOut: &openflowv1.PacketOut{
		BufferId: 0xffffffff, InPort: 0xfffffffd, Data: frame,
		Actions: []*openflowv1.Action{{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: uni}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := out.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if got := toHost.wait(t, "packet-out at the UNI"); !bytes.Equal(got, frame) {
		t.Errorf("UNI side received %x, want the packet-out %x", got, frame)
	}
}
