package e2e

import (
	"bufio"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/openflow/ofp13"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// TestOfagentProcess runs `volt up --provision` and a separate `volt
// ofagent` in front of its NBI: an OpenFlow client on the agent's
// passive listener gets the logical device's datapath, and ovs-ofctl
// shows its UNIs; the agent stops cleanly on SIGINT.
func TestOfagentProcess(t *testing.T) {
	dir := t.TempDir()
	nbi, ponsim, listen := freeAddr(t), freeAddr(t), freeAddr(t)
	start(t, upArgs(dir, nbi, ponsim)...)
	waitUp(t, nbi)
	var lds []struct {
		ID         string `json:"id"`
		DatapathID string `json:"datapathId"`
	}
	voltJSON(t, nbi, &lds, "logicaldevice", "list")
	if len(lds) != 1 {
		t.Fatalf("%d logical devices", len(lds))
	}

	agent := start(t, "ofagent", "--server", nbi, "--controller", "", "--listen", listen, "--grpc", "127.0.0.1:0", "--log-level", "debug")
	waitTCP(t, listen)

	// Hello, then features: the datapath id is the logical device's.
	nc, err := net.DialTimeout("tcp", listen, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(nc)
	for _, m := range []ofp13.Message{ofp13.NewHello(1), &ofp13.FeaturesRequest{Header: ofp13.Header{Xid: 2}}} {
		b, _ := m.MarshalBinary()
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	var features *ofp13.FeaturesReply
	for features == nil {
		raw, err := ofp13.ReadMessage(br, 0)
		if err != nil {
			t.Fatalf("read: %v\nagent log:\n%s", err, agent.stderr)
		}
		m, err := ofp13.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		features, _ = m.(*ofp13.FeaturesReply)
	}
	if got, want := features.DatapathID, lds[0].DatapathID; want != "" && want != strconv.FormatUint(got, 10) {
		t.Errorf("datapath id %d, logical device says %s", got, want)
	}
	nc.Close()

	ofctl := testpeer.Program(t, "ovs-ofctl", "apt-get install openvswitch-common")
	out, err := exec.Command(ofctl, "-O", "OpenFlow13", "dump-ports-desc", "tcp:"+listen).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(uni-") {
		t.Errorf("ovs-ofctl dump-ports-desc: %v\n%s", err, out)
	}
	if !strings.Contains(agent.stderr.String(), "passive listener serves logical device") {
		t.Errorf("the agent's log does not say which device the listener serves:\n%s", agent.stderr)
	}
	agent.stop(t)
}

// TestOfagentBadFlags: a bad flag is a one-line error and a non-zero exit.
func TestOfagentBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"ofagent", "--server", "127.0.0.1:1", "--controller", "nohost"},
		{"ofagent", "--server", "127.0.0.1:1", "--controller", ""},
	} {
		_, errOut, code := run(t, 20*time.Second, args...)
		if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("volt %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
		}
	}
}
