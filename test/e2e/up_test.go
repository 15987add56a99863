package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/testpeer"
)

// freeController is where no OpenFlow controller listens: the agent of
// `volt up` keeps retrying it quietly.
const freeController = "127.0.0.1:1"

// upArgs runs `volt up` with every port free and its data in dir.
// The simulated OLT keeps its address across runs, as the provisioned
// device is found by it.
func upArgs(dir, nbi, ponsim string) []string {
	return []string{"up", "--provision", "--data-dir", dir, "--nbi", nbi, "--http", "127.0.0.1:0",
		"--etcd-listen", "http://127.0.0.1:0", "--broker-listen", "127.0.0.1:0", "--ponsim", ponsim,
		"--ofagent-listen", "127.0.0.1:0", "--controller", freeController,
		"--log-level", "warn"}
}

// voltJSON runs a client command with -o json and decodes its output.
func voltJSON(t *testing.T, nbi string, v any, args ...string) {
	t.Helper()
	out, errOut, code := run(t, 30*time.Second, append(args, "--server", nbi, "-o", "json")...)
	if code != 0 {
		t.Fatalf("volt %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("volt %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type jsonDevice struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Root       bool   `json:"root"`
	ParentID   string `json:"parentId"`
	AdminState string `json:"adminState"`
	OperStatus string `json:"operStatus"`
}

func devices(t *testing.T, nbi string) []jsonDevice {
	var devs []jsonDevice
	voltJSON(t, nbi, &devs, "device", "list")
	sort.Slice(devs, func(i, j int) bool { return devs[i].ID < devs[j].ID })
	return devs
}

func waitUp(t *testing.T, nbi string) []jsonDevice {
	t.Helper()
	var devs []jsonDevice
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		_, _, code := run(t, 10*time.Second, "device", "list", "--server", nbi)
		if code == 0 {
			devs = devices(t, nbi)
			active := 0
			for _, d := range devs {
				if d.OperStatus == "OPER_STATUS_ACTIVE" && d.AdminState == "ADMIN_STATE_ENABLED" {
					active++
				}
			}
			if len(devs) == 5 && active == 5 {
				return devs
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("volt up --provision: devices never all ACTIVE: %+v", devs)
	return nil
}

// TestUpQuickstart follows the README: volt up --provision, then the CLI
// shows 1 OLT and 4 ONUs ACTIVE and 1 NNI and 4 UNI logical ports; a
// subscriber flow added with add-flow reaches the OLT's device flows, and
// so do flows that ovs-ofctl adds on the OpenFlow agent; a second run on
// the same data directory resumes the same devices.
func TestUpQuickstart(t *testing.T) {
	dir := t.TempDir()
	nbi, ponsim := freeAddr(t), freeAddr(t)
	up := start(t, upArgs(dir, nbi, ponsim)...)
	devs := waitUp(t, nbi)
	var olt string
	for _, d := range devs {
		if d.Root {
			olt = d.ID
		}
	}

	var lds []struct {
		ID string `json:"id"`
	}
	voltJSON(t, nbi, &lds, "logicaldevice", "list")
	if len(lds) != 1 {
		t.Fatalf("%d logical devices, want 1", len(lds))
	}
	ld := lds[0].ID
	var ports []struct {
		ID       string `json:"id"`
		RootPort bool   `json:"rootPort"`
		OfpPort  struct {
			PortNo int `json:"portNo"`
		} `json:"ofpPort"`
	}
	voltJSON(t, nbi, &ports, "logicaldevice", "ports", ld)
	nni, uni := []int{}, []int{}
	for _, p := range ports {
		if p.RootPort {
			nni = append(nni, p.OfpPort.PortNo)
		} else {
			uni = append(uni, p.OfpPort.PortNo)
		}
	}
	if len(nni) != 1 || len(uni) != 4 {
		t.Fatalf("logical ports: %d NNI and %d UNI, want 1 and 4", len(nni), len(uni))
	}

	// Program a subscriber on the first UNI.
	sort.Ints(uni)
	for _, args := range [][]string{
		{"ld", "add-meter", ld, "meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000"},
		{"ld", "add-flow", ld, fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=output:CONTROLLER", uni[0])},
		{"ld", "add-flow", ld, fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:101->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:1", uni[0])},
	} {
		if _, errOut, code := run(t, 30*time.Second, append(args, "--server", nbi)...); code != 0 {
			t.Fatalf("volt %s: %s", strings.Join(args, " "), errOut)
		}
	}
	var flows []json.RawMessage
	voltJSON(t, nbi, &flows, "device", "flows", olt)
	if len(flows) < 2 {
		t.Errorf("OLT has %d device flows after add-flow, want at least 2", len(flows))
	}
	// A flow that cannot be decomposed: one line, non-zero, nothing changed.
	_, errOut, code := run(t, 30*time.Second, "ld", "add-flow", ld, "table=0,priority=5,in_port=999,actions=output:1", "--server", nbi)
	if code == 0 || !strings.Contains(errOut, "InvalidArgument") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("undecomposable flow: code %d, stderr %q", code, errOut)
	}
	if _, errOut, code := run(t, 30*time.Second, "ld", "del-flow", ld, fmt.Sprintf("in_port=%d", uni[0]), "--server", nbi); code != 0 {
		t.Fatalf("del-flow: %s", errOut)
	}
	voltJSON(t, nbi, &flows, "device", "flows", olt)
	if len(flows) != 0 {
		t.Errorf("OLT has %d device flows after del-flow, want 0", len(flows))
	}

	ovsOfctlFlows(t, up, nbi, olt, nni[0], uni[0])

	up.stop(t)
	start(t, upArgs(dir, nbi, ponsim)...)
	again := waitUp(t, nbi)
	if fmt.Sprint(again) != fmt.Sprint(devs) {
		t.Errorf("second run shows other devices:\nfirst  %v\nsecond %v", devs, again)
	}
}

// ofListen is the OpenFlow listener that `volt up` says it serves.
func ofListen(t *testing.T, up *daemon) string {
	t.Helper()
	re := regexp.MustCompile(`OpenFlow agent: .* listening on (\S+) \(ovs-ofctl -O OpenFlow13 show tcp:(\S+)\)`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(up.stdout.String()); m != nil {
			if m[1] != m[2] {
				t.Errorf("volt up listens on %s but suggests tcp:%s", m[1], m[2])
			}
			return m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("volt up never said where the OpenFlow agent listens:\n%s", up.stdout)
	return ""
}

// ovsOfctlFlows: ovs-ofctl, without --no-names, adds flows on the agent of
// `volt up` that name the NNI by number and by name, and the core puts
// their share on the OLT; del-flows takes them off again.
func ovsOfctlFlows(t *testing.T, up *daemon, nbi, olt string, nni, uni int) {
	t.Helper()
	testpeer.Program(t, "ovs-ofctl", "apt-get install openvswitch-common")
	sw := "tcp:" + ofListen(t, up)
	ofctl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ovs-ofctl", append([]string{"-O", "OpenFlow13"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ovs-ofctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if ports := ofctl("dump-ports-desc", sw); !strings.Contains(ports, fmt.Sprintf(" %d(nni-%d): addr:", nni, nni)) {
		t.Errorf("ovs-ofctl dump-ports-desc lacks the NNI %d:\n%s", nni, ports)
	}
	ofctl("add-flow", sw, fmt.Sprintf("table=0,priority=10000,in_port=%d,dl_type=0x88cc,actions=CONTROLLER:65535", nni))
	ofctl("add-flow", sw, fmt.Sprintf("table=0,priority=1000,in_port=uni-%d,dl_vlan=55,actions=output:nni-%d", uni, nni))

	out, errOut, code := run(t, 30*time.Second, "device", "flows", olt, "--server", nbi)
	if code != 0 {
		t.Fatalf("volt device flows: %s", errOut)
	}
	for _, want := range []string{
		fmt.Sprintf("in_port=%d, eth_type=0x88cc, actions=CONTROLLER:65535", nni),
		fmt.Sprintf("vlan_vid=55, tunnel_id=%#x, actions=output:%d", uni, nni),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("volt device flows %s lacks %q:\n%s", olt, want, out)
		}
	}

	ofctl("del-flows", sw)
	var flows []json.RawMessage
	voltJSON(t, nbi, &flows, "device", "flows", olt)
	if len(flows) != 0 {
		t.Errorf("OLT has %d device flows after ovs-ofctl del-flows, want 0", len(flows))
	}
}

// TestTooManyPONsOrONUs: a simulated OLT larger than the port layout
// (adapter/portno) or ponsim allows is a one-line error naming the limit,
// from each command that would build one, before anything starts.
func TestTooManyPONsOrONUs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(upArgs(dir, freeAddr(t), freeAddr(t)), "--pon-ports", "17"), "--pon-ports 17 out of range 1..16"},
		{append(upArgs(dir, freeAddr(t), freeAddr(t)), "--onus-per-pon", "240"), "--onus-per-pon 240 out of range 1..128"},
		{[]string{"ponsim", "--grpc", freeAddr(t), "--pon-ports", "17"}, "--pon-ports 17 out of range 1..16"},
		{[]string{"bench", "activation", "--pon-ports", "17"}, "--pon-ports 17 out of range 1..16"},
		{[]string{"bench", "activation", "--onus-per-pon", "129"}, "--onus-per-pon 129 out of range 1..128"},
	} {
		_, errOut, code := run(t, 20*time.Second, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("volt %s: exit %d, stderr %q, want one line with %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}
