package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/core/nbi"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/techprofile"
)

const twoQueueTP = `{
  "name": "2QueueHybrid",
  "profile_type": "XPON",
  "version": 1,
  "num_gem_ports": 2,
  "instance_control": {"onu": "multi-instance", "uni": "single-instance", "max_gem_payload_size": "auto"},
  "us_scheduler": {"additional_bw": "auto", "direction": "UPSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "hybrid"},
  "ds_scheduler": {"additional_bw": "auto", "direction": "DOWNSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "hybrid"},
  "upstream_gem_port_attribute_list": [
    {"pbit_map": "0b00001111", "aes_encryption": "True", "scheduling_policy": "WRR", "priority_q": 2, "weight": 25, "discard_policy": "TailDrop", "max_q_size": "auto"},
    {"pbit_map": "0b11110000", "aes_encryption": "True", "scheduling_policy": "StrictPriority", "priority_q": 5, "weight": 75, "discard_policy": "TailDrop", "max_q_size": "auto"}
  ],
  "downstream_gem_port_attribute_list": [
    {"pbit_map": "0b00001111", "aes_encryption": "True", "scheduling_policy": "WRR", "priority_q": 2, "weight": 25, "discard_policy": "TailDrop", "max_q_size": "auto"},
    {"pbit_map": "0b11110000", "aes_encryption": "True", "scheduling_policy": "StrictPriority", "priority_q": 5, "weight": 75, "discard_policy": "TailDrop", "max_q_size": "auto"}
  ],
  "is_multicast": "False"
}
`

// TestTechProfileRoundTrip drives `volt techprofile` against the core's
// real NBI handler and tech-profile store (over the in-memory KV store).
func TestTechProfileRoundTrip(t *testing.T) {
	kv := kvstore.NewMemory()
	t.Cleanup(func() { _ = kv.Close() })
	srv := nbi.New(nbi.Config{TechProfiles: techprofile.NewStore(kv, "volt")})
	addr := serve(t, func(s grpc.ServiceRegistrar) { voltv1.RegisterVoltServiceServer(s, srv) })
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	volt := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := run(t, cli.NewTechProfileCommand(), append(args, "--server", addr)...)
		return out, err
	}

	// Out of the box: the built-in defaults.
	out, err := volt("list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GPON 64 default true", "XGS-PON 64 default true"} {
		if !hasRow(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	good := write("tp.json", twoQueueTP)
	if out, err = volt("set", "65", "--file", good); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "2QueueHybrid") {
		t.Errorf("set printed:\n%s", out)
	}
	if got, err := kv.Get(t.Context(), "/volt/techprofiles/XGS-PON/65"); err != nil || string(got.Value) != twoQueueTP {
		t.Fatalf("stored %q, %v; want the file unchanged", got.Value, err)
	}
	out, err = volt("get", "65")
	if err != nil || out != twoQueueTP {
		t.Fatalf("get = %q, %v; want the file back", out, err)
	}
	if out, err = volt("list", "--technology", "XGS-PON"); err != nil || !hasRow(out, "XGS-PON 65 2QueueHybrid false") || strings.Contains(out, "GPON ") {
		t.Fatalf("list --technology XGS-PON = %v:\n%s", err, out)
	}

	// Invalid profiles: InvalidArgument naming the field; nothing stored.
	for _, c := range []struct{ name, text, field string }{
		{"pbit", strings.Replace(twoQueueTP, `"0b11110000", "aes_encryption": "True", "scheduling_policy": "StrictPriority"`, `"0b1111000x", "aes_encryption": "True", "scheduling_policy": "StrictPriority"`, 1), "upstream_gem_port_attribute_list[1].pbit_map"},
		{"num", strings.Replace(twoQueueTP, `"num_gem_ports": 2`, `"num_gem_ports": 3`, 1), "num_gem_ports"},
		{"type", strings.Replace(twoQueueTP, `"priority_q": 2`, `"priority_q": "two"`, 1), "upstream_gem_port_attribute_list.priority_q"},
		{"sched", strings.Replace(twoQueueTP, `"q_sched_policy": "hybrid"}`, `"q_sched_policy": "fair"}`, 1), "us_scheduler.q_sched_policy"},
		{"syntax", twoQueueTP[:40], "not JSON"},
	} {
		_, err := volt("set", "66", "--file", write(c.name+".json", c.text))
		if err == nil || !strings.HasPrefix(err.Error(), "InvalidArgument: ") || !strings.Contains(err.Error(), c.field) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: set = %v; want one line InvalidArgument naming %s", c.name, err, c.field)
		}
	}
	if _, err := kv.Get(t.Context(), "/volt/techprofiles/XGS-PON/66"); err == nil {
		t.Error("an invalid profile was stored")
	}
	if _, err := volt("get", "66"); err == nil || !strings.HasPrefix(err.Error(), "NotFound: ") {
		t.Errorf("get of a missing profile = %v", err)
	}
	if _, err := volt("set", "65", "--technology", "XGS PON", "--file", good); err == nil || !strings.Contains(err.Error(), "technology") {
		t.Errorf("set with a bad technology = %v", err)
	}

	// A set default replaces the built-in one until it is deleted.
	if _, err = volt("set", "64", "--technology", "GPON", "-f", good); err != nil {
		t.Fatal(err)
	}
	if out, _ = volt("get", "64", "--technology", "GPON"); !strings.Contains(out, "2QueueHybrid") {
		t.Fatalf("GPON 64 after set:\n%s", out)
	}
	for _, args := range [][]string{{"delete", "65"}, {"delete", "64", "--technology", "GPON"}} {
		if _, err := volt(args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if out, _ = volt("get", "64", "--technology", "GPON"); !strings.Contains(out, `"name": "default"`) {
		t.Fatalf("GPON 64 after delete is not the built-in default:\n%s", out)
	}
	if _, err := volt("delete", "65"); err == nil || !strings.HasPrefix(err.Error(), "NotFound: ") {
		t.Errorf("second delete = %v", err)
	}
	if _, err := volt("get", "x"); err == nil || err.Error() != `tech profile ID "x" is not a number` {
		t.Errorf("get x = %v", err)
	}
}

// hasRow reports whether a table has a row with these space-separated cells.
func hasRow(table, row string) bool {
	for _, line := range strings.Split(table, "\n") {
		if strings.Join(strings.Fields(line), " ") == row {
			return true
		}
	}
	return false
}
