package ofagent

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// Tests against real OpenFlow peers (Debian packages openvswitch-common,
// openvswitch-testcontroller, python3-os-ken). Each skips, saying which
// package to install, when its peer is missing (fails in CI: testpeer).

func needPeer(t *testing.T, bin, pkg string) string {
	t.Helper()
	return testpeer.Program(t, bin, "apt-get install "+pkg)
}

// ofctl runs ovs-ofctl -O OpenFlow13 and returns its output; it fails the
// test when ovs-ofctl fails.
func ofctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ofctlErr(args...)
	if err != nil {
		t.Fatalf("ovs-ofctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func ofctlErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ovs-ofctl", append([]string{"-O", "OpenFlow13"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestOVSOfctl drives the passive listener with ovs-ofctl. Every logical
// port number is below 0xff00 (adapter/portno), where Open vSwitch's tools
// take OpenFlow 1.3 port numbers, so ovs-ofctl reads the ports and names
// the NNI in a flow by number or by name, without --no-names.
func TestOVSOfctl(t *testing.T) {
	needPeer(t, "ovs-ofctl", "openvswitch-common")
	s := getStack(t)
	s.clearTables(t)
	ag := s.agent(t)
	sw := "tcp:" + ag.listen
	nni, uni1, uni2 := s.nni, s.unis[0], s.unis[1]

	show := ofctl(t, "show", sw)
	if !strings.Contains(show, fmt.Sprintf("dpid:%016x", s.ld.GetDatapathId())) || !strings.Contains(show, "n_tables:2") {
		t.Errorf("show:\n%s", show)
	}
	ports := ofctl(t, "dump-ports-desc", sw)
	for _, p := range append([]uint32{nni}, s.unis...) {
		if !strings.Contains(ports, fmt.Sprintf(" %d(%s): addr:", p, portno.Name(p))) {
			t.Errorf("dump-ports-desc lacks port %d:\n%s", p, ports)
		}
	}
	if strings.Contains(ports, "error") || strings.Contains(ports, "outside the supported range") {
		t.Errorf("dump-ports-desc complains:\n%s", ports)
	}

	eapol := "table=0,priority=10000,in_port=%d,dl_type=0x888e,actions=push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER"
	ofctl(t, "add-flow", sw, fmt.Sprintf(eapol, uni1, 0x1000|4091))
	ofctl(t, "--no-names", "add-flow", sw, fmt.Sprintf(eapol, uni2, 0x1000|4091)) // still works
	// The NNI by number, then the ports by the names ovs-ofctl read.
	ofctl(t, "add-flow", sw, fmt.Sprintf("table=0,priority=1000,in_port=%d,dl_vlan=55,actions=output:%d", nni, uni1))
	ofctl(t, "add-flow", sw, fmt.Sprintf("table=0,priority=1000,in_port=%s,dl_vlan=55,actions=output:%s", portno.Name(uni1), portno.Name(nni)))
	// ovs-ofctl shows numbers unless on a terminal or given --names.
	flows := ofctl(t, "dump-flows", sw)
	named := ofctl(t, "--names", "dump-flows", sw)
	for _, f := range [][2]uint32{{nni, uni1}, {uni1, nni}} {
		if want := fmt.Sprintf("in_port=%d,dl_vlan=55 actions=output:%d", f[0], f[1]); !strings.Contains(flows, want) {
			t.Errorf("dump-flows lacks %q:\n%s", want, flows)
		}
		// It quotes the names, which have a '-'.
		if want := fmt.Sprintf("in_port=%q,dl_vlan=55 actions=output:%q", portno.Name(f[0]), portno.Name(f[1])); !strings.Contains(named, want) {
			t.Errorf("dump-flows --names lacks %q:\n%s", want, named)
		}
	}
	if n := strings.Count(flows, "dl_type=0x888e"); n != 2 {
		t.Errorf("dump-flows shows %d EAPOL flows:\n%s", n, flows)
	}
	if got := len(s.logicalFlows(t)); got != 4 {
		t.Errorf("core has %d logical flows, want 4", got)
	}
	// A flow the core refuses: ovs-ofctl prints the OpenFlow error.
	out, err := ofctlErr("add-flow", sw, fmt.Sprintf("table=0,priority=5,in_port=%d,dl_type=0x8847,mpls_label=5,actions=output:CONTROLLER", uni1))
	if err == nil || !strings.Contains(out, "OFPBMC_BAD_FIELD") {
		t.Errorf("refused add-flow: %v\n%s", err, out)
	}

	ofctl(t, "del-flows", sw, fmt.Sprintf("in_port=%d", uni2))
	if flows := ofctl(t, "dump-flows", sw); strings.Count(flows, "priority=10000") != 1 {
		t.Errorf("after del-flows in_port=%d:\n%s", uni2, flows)
	}
	ofctl(t, "del-flows", sw, "in_port="+portno.Name(nni))
	if flows := ofctl(t, "dump-flows", sw); strings.Contains(flows, "in_port="+portno.Name(nni)) {
		t.Errorf("after del-flows in_port=%s:\n%s", portno.Name(nni), flows)
	}
	ofctl(t, "del-flows", sw)
	if flows := ofctl(t, "dump-flows", sw); strings.Contains(flows, "priority=") {
		t.Errorf("after del-flows:\n%s", flows)
	}

	ofctl(t, "add-group", sw, fmt.Sprintf("group_id=1,type=all,bucket=output:%d,bucket=output:%s", uni1, portno.Name(uni2)))
	if g := ofctl(t, "dump-groups", sw); !strings.Contains(g, fmt.Sprintf("group_id=1,type=all,bucket=actions=output:%d,bucket=actions=output:%d", uni1, uni2)) {
		t.Errorf("dump-groups:\n%s", g)
	}
	ofctl(t, "add-meter", sw, "meter=1 kbps burst stats bands=type=drop rate=10000 burst_size=1000")
	if m := ofctl(t, "dump-meters", sw); !strings.Contains(m, "meter=1 kbps burst stats") || !strings.Contains(m, "rate=10000 burst_size=1000") {
		t.Errorf("dump-meters:\n%s", m)
	}
	if tables := ofctl(t, "dump-tables", sw); !strings.Contains(tables, "table 0:") {
		t.Errorf("dump-tables:\n%s", tables)
	}
	frame := hex.EncodeToString(eapolFrame())
	ofctl(t, "packet-out", sw, fmt.Sprintf("in_port=controller packet=%s actions=output:%d", frame, uni1))
	ofctl(t, "packet-out", sw, fmt.Sprintf("in_port=controller packet=%s actions=output:%s", frame, portno.Name(nni)))
	// A packet-out to a port that does not exist is refused.
	out, err = ofctlErr("packet-out", sw, "in_port=controller packet="+frame+" actions=output:999")
	if err == nil || !strings.Contains(out, "OFPBAC_BAD_OUT_PORT") {
		t.Errorf("packet-out to port 999: %v\n%s", err, out)
	}
}

// freeAddr returns a loopback address nothing listens on, kept for the
// test (testpeer.ReserveAddr) so that no other process takes it before the
// peer given it binds it.
func freeAddr(t testing.TB) string {
	t.Helper()
	return testpeer.ReserveAddr(t)
}

// peerProcess is a peer run for one test, its output kept.
type peerProcess struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func startPeer(t *testing.T, env []string, name string, args ...string) *peerProcess {
	t.Helper()
	p := &peerProcess{cmd: exec.Command(name, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// waitLine waits until the peer's output has a line containing s.
func (p *peerProcess) waitLine(t *testing.T, s string) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%q in the peer's output", s), func() error {
		select {
		case <-p.done:
			t.Fatalf("peer exited:\n%s", p.out)
		default:
		}
		if !strings.Contains(p.out.String(), s) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestOVSTestController: ovs-testcontroller accepts the agent's
// connection and negotiates OpenFlow 1.3 with it.
func TestOVSTestController(t *testing.T) {
	bin := needPeer(t, "ovs-testcontroller", "openvswitch-testcontroller")
	s := getStack(t)
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	run := t.TempDir()
	p := startPeer(t, []string{"OVS_RUNDIR=" + run, "OVS_LOGDIR=" + run}, bin,
		"-O", "OpenFlow13", "-n", "-v", "ptcp:"+port+":"+host)
	ag := s.agent(t, addr)
	// The agent redials until the controller listens; the controller logs
	// the features reply it got, with our datapath id.
	p.waitLine(t, "OFPT_FEATURES_REPLY")
	p.waitLine(t, fmt.Sprintf("dpid:%016x", s.ld.GetDatapathId()))
	testkit.Eventually(t, "the agent's log", func() error {
		if !strings.Contains(ag.logs.String(), "connected to controller") {
			return fmt.Errorf("no connection logged")
		}
		return nil
	})
}

// TestOSKen: an os-ken application connects, reads the ports, installs a
// subscriber's flows, which the core decomposes for the OLT and the ONU,
// and receives a packet-in.
func TestOSKen(t *testing.T) {
	needPeer(t, "osken-manager", "python3-os-ken")
	testpeer.Python3(t, "os_ken", "apt-get install python3-os-ken")
	s := getStack(t)
	s.clearTables(t)
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	app, err := filepath.Abs("testdata/subscriber_app.py")
	if err != nil {
		t.Fatal(err)
	}
	p := startPeer(t, nil, "/usr/bin/python3", "/usr/bin/osken-manager",
		"--ofp-listen-host", host, "--ofp-tcp-listen-port", port, app)
	s.agent(t, addr)

	p.waitLine(t, fmt.Sprintf("FEATURES dpid=%016x n_tables=2", s.ld.GetDatapathId()))
	p.waitLine(t, fmt.Sprintf("PORTS %d:nni-%d %d:uni-%d %d:uni-%d", s.nni, s.nni, s.unis[0], s.unis[0], s.unis[1], s.unis[1]))
	p.waitLine(t, "INSTALLED")
	if strings.Contains(p.out.String(), "ERROR type=") {
		t.Fatalf("os-ken got errors:\n%s", p.out)
	}
	if n := len(s.logicalFlows(t)); n != 4 {
		t.Fatalf("%d logical flows, want 4", n)
	}
	df := s.deviceFlows(t)
	onu := 0
	for id, n := range df {
		if id != s.olt {
			onu += n
		}
	}
	if df[s.olt] == 0 || onu == 0 {
		t.Fatalf("device flows %v: want some on the OLT and the ONU", df)
	}
	s.sendPacketIn(t, s.unis[0], eapolFrame())
	p.waitLine(t, fmt.Sprintf("PACKET-IN in_port=%d len=%d", s.unis[0], len(eapolFrame())))
}
