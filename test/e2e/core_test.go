package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// coreArgs runs a core with embedded etcd on free ports in dir, using the
// broker at brokers.
func coreArgs(nbi, etcd, dir, brokers string) []string {
	return []string{"core", "--etcd", "embedded", "--etcd-listen", "http://" + etcd, "--data-dir", dir,
		"--nbi", nbi, "--brokers", brokers, "--http", "127.0.0.1:0"}
}

// startBrokerAndOLTAdapter runs `volt broker` and `volt adapter ponsim-olt`
// and returns the broker's address: the core creates devices only of a type
// an adapter registered.
func startBrokerAndOLTAdapter(t *testing.T) string {
	t.Helper()
	brokers := freeAddr(t)
	start(t, "broker", "--listen", brokers, "--log-level", "warn")
	waitTCP(t, brokers)
	start(t, "adapter", "ponsim-olt", "--brokers", brokers, "--log-level", "warn")
	return brokers
}

// waitType waits until the core at nbi knows device type typ.
func waitType(t *testing.T, nbi, typ string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, _, code := run(t, 10*time.Second, "devicetype", "list", "--server", nbi, "--format", "{{.Id}}")
		if code == 0 && strings.Contains(out, typ+"\n") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("device type %s never registered with the core at %s", typ, nbi)
}

func nbiClient(t *testing.T, addr string) voltv1.VoltServiceClient {
	return nbitest.Dial(t, addr)
}

func deviceIDs(t *testing.T, c voltv1.VoltServiceClient) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	devs, err := c.ListDevices(ctx, &voltv1.ListDevicesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range devs.GetItems() {
		ids = append(ids, d.GetId())
	}
	sort.Strings(ids)
	return ids
}

// 200 devices created through the CLI survive a SIGKILL of the core.
func TestCoreSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	nbi, etcd := freeAddr(t), freeAddr(t)
	brokers := startBrokerAndOLTAdapter(t)
	core := start(t, coreArgs(nbi, etcd, dir, brokers)...)
	waitTCP(t, nbi)
	waitType(t, nbi, "ponsim_olt")
	createErrors(t, nbi, brokers)
	c := nbiClient(t, nbi)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A few through the CLI, which prints the id alone.
	for i := range 3 {
		out, errOut, code := run(t, 20*time.Second, "device", "create", "--server", nbi, "--type", "ponsim_olt", "--address", fmt.Sprintf("10.9.0.%d:50060", i+1))
		if code != 0 || strings.TrimSpace(out) == "" || strings.ContainsAny(strings.TrimSpace(out), " \n") {
			t.Fatalf("device create: code %d, out %q, err %q", code, out, errOut)
		}
	}
	for i := 3; i < 200; i++ {
		if _, err := c.CreateDevice(ctx, &voltv1.Device{Type: "ponsim_olt", HostAndPort: fmt.Sprintf("10.9.%d.%d:50060", i/250, i%250+1)}); err != nil {
			t.Fatal(err)
		}
	}
	before := deviceIDs(t, c)
	if len(before) != 200 {
		t.Fatalf("%d devices, want 200", len(before))
	}
	// etcd's own client sees them where DESIGN says they are.
	etcdctl := testpeer.Program(t, "etcdctl", "apt-get install etcd-client")
	keys, err := exec.Command(etcdctl, "--endpoints", etcd, "get", "--prefix", "--keys-only", "/volt/devices/").Output()
	if err != nil {
		t.Fatalf("etcdctl get: %v", err)
	}
	var stored []string
	for _, k := range strings.Fields(string(keys)) {
		stored = append(stored, strings.TrimPrefix(k, "/volt/devices/"))
	}
	sort.Strings(stored)
	if strings.Join(stored, ",") != strings.Join(before, ",") {
		t.Errorf("etcdctl lists %d keys under /volt/devices/, want the 200 devices: %.200q", len(stored), keys)
	}
	core.kill()

	start(t, coreArgs(nbi, etcd, dir, brokers)...)
	waitTCP(t, nbi)
	after := deviceIDs(t, nbiClient(t, nbi))
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Fatalf("after SIGKILL and restart the core lists %d devices, want the same 200", len(after))
	}
}

// The core serves VoltService, LogService and health through reflection,
// and the log level of one package changes at run time.
func TestCoreReflectionAndLogLevels(t *testing.T) {
	nbi, etcd := freeAddr(t), freeAddr(t)
	core := start(t, coreArgs(nbi, etcd, t.TempDir(), "127.0.0.1:1")...)
	waitTCP(t, nbi)

	_, errOut, code := run(t, 20*time.Second, "log", "set", "debug", "--package", "core/device", "--server", nbi)
	if code != 0 {
		t.Fatalf("log set: %d %s", code, errOut)
	}
	out, _, code := run(t, 20*time.Second, "log", "list", "-o", "json", "--server", nbi)
	var levels []struct{ Package, Level string }
	if err := json.Unmarshal([]byte(out), &levels); code != 0 || err != nil {
		t.Fatalf("log list -o json: code %d, %v\n%s", code, err, out)
	}
	got := make(map[string]string)
	for _, l := range levels {
		got[l.Package] = l.Level
	}
	if got["core/device"] != "debug" || got["core/nbi"] != "info" {
		t.Errorf("after set debug on core/device: core/device=%q core/nbi=%q, want debug and info", got["core/device"], got["core/nbi"])
	}
	_, errOut, code = run(t, 20*time.Second, "log", "set", "loud", "--server", nbi)
	if code == 0 || !strings.Contains(errOut, "debug, info, warn, error") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("invalid level: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = run(t, 20*time.Second, "log", "set", "debug", "--package", "no/such", "--server", nbi)
	if code == 0 || !strings.Contains(errOut, "NotFound") {
		t.Errorf("unknown package: code %d, stderr %q", code, errOut)
	}

	grpcurl := testpeer.Program(t, "grpcurl", "make tools")
	list, err := exec.Command(grpcurl, "-plaintext", nbi, "list").CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl list: %v\n%s", err, list)
	}
	for _, svc := range []string{"volt.v1.VoltService", "volt.v1.LogService", "grpc.health.v1.Health"} {
		if !strings.Contains(string(list), svc) {
			t.Errorf("grpcurl list misses %s:\n%s", svc, list)
		}
	}
	core.stop(t)
}

func TestCoreBadInput(t *testing.T) {
	// Unknown flag and command: one line, non-zero.
	for _, args := range [][]string{{"core", "--no-such-flag"}, {"no-such-command"}} {
		_, errOut, code := run(t, 10*time.Second, args...)
		if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "goroutine") {
			t.Errorf("volt %v: code %d, stderr %q", args, code, errOut)
		}
	}
	// etcd unreachable: a clear error naming the endpoint, quickly.
	dead := freeAddr(t)
	start := time.Now()
	_, errOut, code := run(t, 30*time.Second, "core", "--etcd", dead, "--nbi", freeAddr(t), "--http", "127.0.0.1:0", "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, dead) {
		t.Errorf("unreachable etcd: code %d, stderr %q", code, errOut)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("unreachable etcd took %v to report", time.Since(start))
	}
	// NBI port in use.
	nbi, etcd := freeAddr(t), freeAddr(t)
	start2 := startListener(t, nbi)
	defer start2()
	_, errOut, code = run(t, 30*time.Second, append(coreArgs(nbi, etcd, t.TempDir(), "127.0.0.1:1"), "--log-level", "error")...)
	if code == 0 || !strings.Contains(errOut, "address already in use") {
		t.Errorf("port in use: code %d, stderr %q", code, errOut)
	}
	// Invalid log level flag.
	_, errOut, code = run(t, 10*time.Second, "core", "--log-level", "loud")
	if code == 0 || !strings.Contains(errOut, "debug, info, warn, error") {
		t.Errorf("bad --log-level: code %d, stderr %q", code, errOut)
	}
}

// createErrors: device create checks the type before the address and
// stores nothing it refuses; errors are one line, a code when the server
// answered; a --server that is no NBI fails fast.
func createErrors(t *testing.T, nbi, brokers string) {
	t.Helper()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"device", "create", "--server", nbi, "--type", "nosuchtype", "--address", "300.1.1.1:50060"},
			`volt: InvalidArgument: unknown device type "nosuchtype" (registered by the adapters: ponsim_olt)`},
		{[]string{"device", "create", "--server", nbi, "--type", "ponsim_olt", "--address", "300.1.1.1:50060"},
			`volt: InvalidArgument: address "300.1.1.1:50060": 300.1.1.1 is not an IP address`},
		{[]string{"device", "create", "--server", nbi, "--type", "ponsim_olt", "--address", "10.9.9.9:1", "--id", strings.Repeat("x", 65)},
			`volt: InvalidArgument: id is 65 bytes, more than the limit of 64`},
		{[]string{"device", "list", "--server", "not-a-host"}, `volt: invalid --server "not-a-host": want HOST:PORT, e.g. 127.0.0.1:50057`},
		// Not the --timeout: the connection attempt itself ends.
		{[]string{"device", "list", "--server", brokers, "--timeout", "10m"}, "volt: " + brokers + " is not an OpenVOLT server: it took the connection but gave no gRPC answer within 2s"},
	} {
		_, errOut, code := run(t, 60*time.Second, tc.args...)
		if code == 0 || !strings.HasPrefix(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("volt %s: exit %d, stderr %q, want one line starting %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	out, _, _ := run(t, 20*time.Second, "device", "list", "--server", nbi, "--format", "{{.Id}}")
	if strings.TrimSpace(out) != "" {
		t.Errorf("refused creates stored devices: %q", out)
	}
}
