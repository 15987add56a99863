// Package netns gives dataplane tests a network namespace of their own, with
// veth pairs in it and AF_PACKET ports on them (iproute2 and root needed;
// tests skip with the reason where root is missing), and a catcher that
// keeps the frames a port receives.
package netns

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/openvolt/openvolt/internal/frameio"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// NS is a network namespace made for one test; it is deleted when the test
// ends.
type NS struct {
	t    *testing.T
	Name string
	Path string // /run/netns/<Name>, for frameio.Options.NetNS
}

// IP runs ip(8) and fails the test when it fails.
func IP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// New makes a namespace named prefix-<random> with IPv6 off, so only the
// test's own frames cross its links.
func New(t *testing.T, prefix string) *NS {
	t.Helper()
	testpeer.Root(t, "creates a network namespace and veth pairs and opens AF_PACKET sockets")
	var r [4]byte
	_, _ = rand.Read(r[:])
	n := &NS{t: t, Name: prefix + "-" + hex.EncodeToString(r[:])}
	n.Path = "/run/netns/" + n.Name
	IP(t, "netns", "add", n.Name)
	t.Cleanup(func() { IP(t, "netns", "del", n.Name) })
	IP(t, "netns", "exec", n.Name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	return n
}

// Veth makes a veth pair a–b in the namespace and waits until both ends are
// up.
func (n *NS) Veth(a, b string) {
	n.t.Helper()
	IP(n.t, "-n", n.Name, "link", "add", a, "type", "veth", "peer", "name", b)
	for _, ifname := range []string{a, b} {
		IP(n.t, "-n", n.Name, "link", "set", ifname, "up")
	}
	testkit.Eventually(n.t, a+" up", func() error {
		for _, ifname := range []string{a, b} {
			out, err := exec.Command("ip", "-n", n.Name, "-o", "link", "show", "dev", ifname).Output()
			if err != nil || !strings.Contains(string(out), "state UP") {
				return fmt.Errorf("%s not up", ifname)
			}
		}
		return nil
	})
}

// Open opens an AF_PACKET port on ifname in the namespace, closed when the
// test ends.
func (n *NS) Open(ifname string) *frameio.RawPort {
	n.t.Helper()
	p, err := frameio.Open(ifname, frameio.Options{NetNS: n.Path})
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { p.Close() })
	return p
}

// Catcher keeps the frames a port receives, in order.
type Catcher struct {
	mu     sync.Mutex // guards frames
	frames [][]byte
}

// Catch subscribes to every frame p receives.
func Catch(p frameio.Port) *Catcher {
	c := &Catcher{}
	p.Subscribe(nil, func(f []byte) {
		c.mu.Lock()
		c.frames = append(c.frames, bytes.Clone(f))
		c.mu.Unlock()
	})
	return c
}

// Wait returns the first frame received since the last Wait, failing the
// test when none comes in testkit.Eventually's time.
func (c *Catcher) Wait(t *testing.T, what string) []byte {
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

// Drain forgets the frames received so far and returns how many there were.
func (c *Catcher) Drain() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.frames)
	c.frames = nil
	return n
}
