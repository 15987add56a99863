package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUpOpenOLT: `volt up --provision --olt-type openolt` drives the
// bundled ponsim over its openolt face with the openolt adapter: the OLT
// turns ACTIVE and its 4 ONUs are activated and become child devices.
// The same stack serves `volt techprofile`: the built-in default is
// listed, and an invalid profile exits 1 with InvalidArgument naming the
// field.
func TestUpOpenOLT(t *testing.T) {
	dir := t.TempDir()
	nbi, ponsim := freeAddr(t), freeAddr(t)
	start(t, append(upArgs(dir, nbi, ponsim), "--olt-type", "openolt")...)

	var devs []jsonDevice
	deadline := time.Now().Add(60 * time.Second)
	for ok := false; !ok; {
		if time.Now().After(deadline) {
			t.Fatalf("volt up --olt-type openolt: want an ACTIVE openolt OLT with 4 ONUs up, have %+v", devs)
		}
		time.Sleep(100 * time.Millisecond)
		if _, _, code := run(t, 10*time.Second, "device", "list", "--server", nbi); code != 0 {
			continue
		}
		devs = devices(t, nbi)
		olt, up := 0, 0
		for _, d := range devs {
			switch {
			case d.Root && d.Type == "openolt" && d.OperStatus == "OPER_STATUS_ACTIVE" && d.AdminState == "ADMIN_STATE_ENABLED":
				olt++
			case !d.Root && d.Type == "omci_onu" && d.OperStatus == "OPER_STATUS_ACTIVE":
				up++
			}
		}
		ok = olt == 1 && up == 4
	}

	out, errOut, code := run(t, 30*time.Second, "techprofile", "list", "--server", nbi)
	if code != 0 || !strings.Contains(out, "XGS-PON") {
		t.Fatalf("volt techprofile list: exit %d: %s%s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name": "x", "num_gem_ports": 1, "upstream_gem_port_attribute_list": [{"pbit_map": "0b2"}], "downstream_gem_port_attribute_list": [{"pbit_map": "0b11111111"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, 30*time.Second, "techprofile", "set", "70", "--file", bad, "--server", nbi)
	if code != 1 || !strings.Contains(errOut, "InvalidArgument") || !strings.Contains(errOut, "upstream_gem_port_attribute_list[0].pbit_map") {
		t.Fatalf("volt techprofile set of an invalid profile: exit %d: %s", code, errOut)
	}
}
