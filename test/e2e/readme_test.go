package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/testpeer"
)

// readmeBlock is one ```sh block of README.md with the e2e marker before it.
type readmeBlock struct {
	name string // the marker's name: build, up, client, …, or skip
	line int    // of the opening fence
	text string
}

// readmeSections are the names TestREADME runs; every sh block of the
// README carries one of them, or skip with a reason.
var readmeSections = []string{"build", "up", "client", "parts", "openflow", "metrics", "subscriber", "openolt", "telemetry"}

var markerRE = regexp.MustCompile(`^<!-- e2e: (\S+)(.*)-->$`)

// readmeBlocks reads the sh blocks of README.md; a block without a marker,
// or with one the test does not know, fails the test, so none can be added
// without being run.
func readmeBlocks(t *testing.T, path string) map[string]readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]bool{"skip": true}
	for _, n := range readmeSections {
		known[n] = true
	}
	blocks := map[string]readmeBlock{}
	var (
		prev string // the last non-empty line before a fence
		cur  *readmeBlock
		n    int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			blocks[cur.name] = *cur
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case line == "```sh":
			m := markerRE.FindStringSubmatch(prev)
			switch {
			case m == nil:
				t.Errorf("README.md:%d: sh block without an <!-- e2e: NAME --> marker before it", n)
			case !known[m[1]]:
				t.Errorf("README.md:%d: unknown e2e marker %q", n, m[1])
			case m[1] == "skip" && strings.TrimSpace(m[2]) == "":
				t.Errorf("README.md:%d: e2e: skip without a reason", n)
			case blocks[m[1]].text != "" && m[1] != "skip":
				t.Errorf("README.md:%d: a second block named %q", n, m[1])
			}
			name := "skip"
			if m != nil {
				name = m[1]
			}
			cur = &readmeBlock{name: name, line: n}
		}
		if strings.TrimSpace(line) != "" {
			prev = strings.TrimSpace(line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range readmeSections {
		if blocks[name].text == "" {
			t.Errorf("README.md has no sh block marked e2e: %s", name)
		}
	}
	return blocks
}

// script is the bash script that runs a README block as written, except
// that a command the README says to stop with Ctrl-C gets one after a few
// seconds, as a reader would send it.
func script(block string) string {
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	for _, line := range strings.Split(block, "\n") {
		if strings.Contains(line, "(Ctrl-C to stop)") {
			cmd, _, _ := strings.Cut(line, "#")
			line = "timeout --preserve-status -s INT 6 " + strings.TrimSpace(cmd)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

var nsCount atomic.Int32

// netns makes a network namespace with loopback up, so that the README's
// default ports are free whatever else runs on the machine; it is deleted
// when the test ends.
func netns(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("volt-readme-%d-%d", os.Getpid(), nsCount.Add(1))
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// shell runs a README block in bash, in namespace ns (none: the host's)
// and directory dir. Its process group is killed when it ends or the test
// does, so that what the block left in the background goes too.
type shell struct {
	cmd  *exec.Cmd
	out  *lockedWriter
	done chan error
}

func startShell(t *testing.T, ns, dir, path, block string) *shell {
	t.Helper()
	args := []string{"bash", "-c", script(block)}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path, "VOLT_SERVER=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lockedWriter{buf: new(bytes.Buffer)}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &shell{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case err := <-s.done:
			s.done <- err
		case <-time.After(10 * time.Second):
		}
	})
	return s
}

// wait waits for the block to finish and fails the test unless it exits 0
// within timeout.
func (s *shell) wait(t *testing.T, what string, timeout time.Duration) string {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("README %s: %v\n%s", what, err, s.out)
		}
	case <-time.After(timeout):
		t.Fatalf("README %s did not finish within %v\n%s", what, timeout, s.out)
	}
	s.gone(t, what)
	return s.out.String()
}

// gone waits until nothing the block started runs any more (what it left
// in the background and stopped is still exiting), as the next block may
// take the same ports; what is left after a while is killed, and that is a
// failure: the README leaves it running.
func (s *shell) gone(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(-s.cmd.Process.Pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("README %s left processes running\n%s", what, s.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitOutput waits until the block has printed want.
func (s *shell) waitOutput(t *testing.T, what, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(s.out.String(), want) {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("README %s ended (%v) before printing %q\n%s", what, err, want, s.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("README %s did not print %q within %v\n%s", what, want, timeout, s.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends Ctrl-C to the block's process group and waits for it.
func (s *shell) stop(t *testing.T, what string) {
	t.Helper()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("README %s after Ctrl-C: %v\n%s", what, err, s.out)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("README %s did not stop on Ctrl-C", what)
	}
	s.gone(t, what)
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("README %s: output lacks %q:\n%s", what, want, out)
		}
	}
}

// TestREADME runs every sh block of the README as written, the way a new
// user goes through it: build, volt up (and the commands it suggests),
// the client commands, OpenFlow with ovs-ofctl, each part alone, and a
// subscriber on veth pairs with tcpdump. They run in order, in one
// directory and one network namespace (so that the README's default ports
// are free whatever else runs on the machine), as a reader going through
// it would: each section starts where the previous one left off.
func TestREADME(t *testing.T) {
	testpeer.Root(t, "the README's commands run in network namespaces (default ports, veth pairs)")
	path := os.Getenv("PATH")
	for _, p := range []struct{ name, install string }{
		{"grpcurl", "make tools"}, {"ovs-ofctl", "apt-get install openvswitch-common"},
		{"tcpdump", "apt-get install tcpdump"}, {"make", "apt-get install make"}, {"curl", "apt-get install curl"},
	} {
		path = filepath.Dir(testpeer.Program(t, p.name, p.install)) + ":" + path
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(root, "README.md"))
	if t.Failed() {
		t.FailNow()
	}

	// Build, in the repository, as written; every group then runs the
	// binary it made as bin/volt.
	startShell(t, "", root, path, blocks["build"].text).wait(t, "build", 5*time.Minute)
	ns, dir := netns(t), t.TempDir()
	if err := os.Symlink(filepath.Join(root, "bin"), filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}

	// Each section starts where the one before left off: stop at the first
	// that fails.
	section := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	section("up, its hints, client, openflow, metrics", func(t *testing.T) {
		up := startShell(t, ns, dir, path, blocks["up"].text)
		up.waitOutput(t, "up", "Stop with Ctrl-C.", 90*time.Second)
		printed := up.out.String()
		mustContain(t, "up", printed, "1/1 OLT and 4/4 ONUs active; 1 logical device with 1 NNI and 4 UNI ports")

		// The commands volt up suggests work as printed.
		_, hints, _ := strings.Cut(printed, "Try, in another terminal:\n")
		hints, _, _ = strings.Cut(hints, "Stop with Ctrl-C.")
		if strings.Count(hints, "\n") < 4 {
			t.Fatalf("volt up printed too few hints:\n%s", printed)
		}
		for _, hint := range strings.Split(strings.TrimSpace(hints), "\n") {
			hint = strings.TrimSpace(hint)
			if strings.Contains(hint, " events") {
				hint += " # (Ctrl-C to stop)"
			}
			out := startShell(t, ns, dir, path, hint).wait(t, "hint "+hint, 60*time.Second)
			if strings.Contains(out, "<") {
				t.Errorf("hint %q has a placeholder: %s", hint, out)
			}
		}

		out := startShell(t, ns, dir, path, blocks["client"].text).wait(t, "client", 2*time.Minute)
		mustContain(t, "client", out, "nni-1", "uni-16", "volt.v1.VoltService", "ponsim_olt runs in one process with the core")
		if !regexp.MustCompile(`(?m)^core/device +debug$`).MatchString(out) {
			t.Errorf("client: log set debug did not show core/device at debug:\n%s", out)
		}
		out = startShell(t, ns, dir, path, blocks["openflow"].text).wait(t, "openflow", 2*time.Minute)
		mustContain(t, "openflow", out, "1(nni-1): addr:", "in_port=1, eth_type=0x88cc, actions=CONTROLLER:65535", `in_port="uni-16",dl_vlan=55 actions=output:"nni-1"`)
		out = startShell(t, ns, dir, path, blocks["metrics"].text).wait(t, "metrics", time.Minute)
		mustContain(t, "metrics", out, "ok\n", `volt_devices{admin_state="ADMIN_STATE_ENABLED",component="core",connect_status="CONNECT_STATUS_REACHABLE",oper_status="OPER_STATUS_ACTIVE",type="ponsim_onu"} 4`)
		out = startShell(t, ns, dir, path, blocks["telemetry"].text).wait(t, "telemetry", 2*time.Minute)
		mustContain(t, "telemetry", out, "pon,port", " 2s ", "rx_packets=", "ONU_DYING_GASP", "ONU_LOS", "RAISED", "CLEARED")
		up.stop(t, "up")
	})

	section("parts", func(t *testing.T) {
		out := startShell(t, ns, dir, path, blocks["parts"].text).wait(t, "parts", 2*time.Minute)
		if !regexp.MustCompile(`(?m)^ID +TYPE`).MatchString(out) {
			t.Errorf("parts: no device list printed:\n%s", out)
		}
	})

	section("subscriber", func(t *testing.T) {
		out := startShell(t, ns, dir, path, blocks["subscriber"].text).wait(t, "subscriber", 2*time.Minute)
		mustContain(t, "subscriber", out, "ethertype 802.1Q-QinQ (0x88a8), length", "vlan 1000, p 0, ethertype 802.1Q (0x8100), vlan 101")
		// After traffic, the counters reached the controller's view.
		for _, re := range []string{
			`n_packets=[1-9]\d*, n_bytes=[1-9]\d*, priority=1000,in_port="uni-16",vlan_tci=0x0000/0x1fff`,
			`(?s)OFPST_PORT reply.*rx pkts=\d+.*tx pkts=[1-9]`,
			`meter:1 flow_count:1 packet_in_count:[1-9]`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("subscriber: output lacks %s:\n%s", re, out)
			}
		}
	})

	section("openolt", func(t *testing.T) {
		out := startShell(t, ns, dir, path, blocks["openolt"].text).wait(t, "openolt", 2*time.Minute)
		mustContain(t, "openolt", out, "openolt.Openolt", `"ponPorts": 1`, "initial-mib-downloaded", "PhysicalPathTerminationPointEthernetUni",
			"XGS-PON      65")
		if n := strings.Count(out, "omci_onu"); n < 4 {
			t.Errorf("openolt: %d omci_onu lines, want the 4 ONUs:\n%s", n, out)
		}
	})

}
