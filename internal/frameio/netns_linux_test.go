package frameio

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// veth is a veth pair in a network namespace of its own, made for one test
// and deleted after it: IPv6 is off, so nothing but the test's frames cross.
type veth struct {
	ns     string // namespace name
	nsPath string // for Options.NetNS
	a, b   string // the two ends
}

// needRoot skips tests that need network namespaces and AF_PACKET sockets
// when not run as root. CI runs them as root.
func needRoot(t testing.TB) {
	t.Helper()
	testpeer.Root(t, "creates a network namespace and veth pair and opens AF_PACKET sockets")
}

func newVeth(t testing.TB) veth {
	needRoot(t)
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(r[:])
	v := veth{ns: "fio-" + id, nsPath: "/run/netns/fio-" + id, a: "fa" + id, b: "fb" + id}
	run(t, "ip", "netns", "add", v.ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", v.ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", v.ns, err, out)
		}
	})
	// Off before the links exist, so they never send router solicitations
	// or MLD reports.
	run(t, "ip", "netns", "exec", v.ns, "sysctl", "-qw",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	run(t, "ip", "-n", v.ns, "link", "add", v.a, "type", "veth", "peer", "name", v.b)
	for _, ifname := range []string{v.a, v.b} {
		run(t, "ip", "netns", "exec", v.ns, "sysctl", "-qw", "net.ipv6.conf."+ifname+".disable_ipv6=1")
		run(t, "ip", "-n", v.ns, "link", "set", ifname, "up")
	}
	// Until linkwatch sees the carrier the qdisc drops everything.
	for _, ifname := range []string{v.a, v.b} {
		testkit.Becomes(t, ifname+" up", func() bool {
			out, err := exec.Command("ip", "-n", v.ns, "-o", "link", "show", "dev", ifname).Output()
			return err == nil && strings.Contains(string(out), "state UP")
		})
	}
	return v
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// open opens one end of the pair, closed when the test ends.
func (v veth) open(t testing.TB, ifname string, opts Options) *RawPort {
	t.Helper()
	opts.NetNS = v.nsPath
	p, err := Open(ifname, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close %s: %v", ifname, err)
		}
	})
	return p
}

func rawLink(t testing.TB, opts Options) (Port, Port) {
	v := newVeth(t)
	return v.open(t, v.a, opts), v.open(t, v.b, opts)
}
