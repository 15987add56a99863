package techprofile

import (
	"errors"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/internal/kvstore"
)

// volthaStyle is written the way VOLTHA's own examples are: lower-case
// enumerations, version as a float, fields this package does not read.
const volthaStyle = `{"name":"4QueueHybridProfileMap1TcontGem","profile_type":"XPON","version":1.0,"num_gem_ports":4,
"instance_control":{"onu":"multi-instance","uni":"single-instance","max_gem_payload_size":"auto"},
"us_scheduler":{"additional_bw":"AdditionalBW_Auto","direction":"UPSTREAM","priority":0,"weight":0,"q_sched_policy":"hybrid"},
"ds_scheduler":{"additional_bw":"AdditionalBW_Auto","direction":"DOWNSTREAM","priority":0,"weight":0,"q_sched_policy":"hybrid"},
"upstream_gem_port_attribute_list":[
 {"pbit_map":"0b00000101","aes_encryption":"True","scheduling_policy":"WRR","priority_q":4,"weight":25,"discard_policy":"TailDrop","max_q_size":"auto","discard_config":{"max_threshold":0,"min_threshold":0,"max_probability":0}},
 {"pbit_map":"0b00011010","aes_encryption":"True","scheduling_policy":"WRR","priority_q":3,"weight":75,"discard_policy":"TailDrop","max_q_size":"auto","discard_config":{"max_threshold":0,"min_threshold":0,"max_probability":0}},
 {"pbit_map":"0b00100000","aes_encryption":"True","scheduling_policy":"StrictPriority","priority_q":2,"weight":0,"discard_policy":"TailDrop","max_q_size":"auto","discard_config":{"max_threshold":0,"min_threshold":0,"max_probability":0}},
 {"pbit_map":"0b11000000","aes_encryption":"True","scheduling_policy":"StrictPriority","priority_q":1,"weight":25,"discard_policy":"TailDrop","max_q_size":"auto","discard_config":{"max_threshold":0,"min_threshold":0,"max_probability":0}}],
"downstream_gem_port_attribute_list":[
 {"pbit_map":"0b00000101","aes_encryption":"True","scheduling_policy":"WRR","priority_q":4,"weight":10,"discard_policy":"TailDrop","max_q_size":"auto"},
 {"pbit_map":"0b00011010","aes_encryption":"True","scheduling_policy":"WRR","priority_q":3,"weight":90,"discard_policy":"TailDrop","max_q_size":"auto"},
 {"pbit_map":"0b00100000","aes_encryption":"True","scheduling_policy":"StrictPriority","priority_q":2,"weight":0,"discard_policy":"TailDrop","max_q_size":"auto"},
 {"pbit_map":"0b11000000","aes_encryption":"True","scheduling_policy":"StrictPriority","priority_q":1,"weight":25,"discard_policy":"TailDrop","max_q_size":"auto"}],
"is_multicast":"False","dynamic_access_control_list":"4096","static_access_control_list":"4096"}`

func TestParse(t *testing.T) {
	p, err := Parse([]byte(volthaStyle))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.UpstreamGEMs) != 4 || p.UpstreamGEMs[1].PriorityQ != 3 {
		t.Fatalf("parsed %+v", p)
	}
	if _, err := Parse([]byte(defaultJSON)); err != nil {
		t.Fatalf("the built-in default: %v", err)
	}
	for _, c := range []struct{ from, to, field string }{
		{`"name":"4QueueHybridProfileMap1TcontGem"`, `"name":""`, "name "},
		{`"num_gem_ports":4`, `"num_gem_ports":3`, "num_gem_ports "},
		{`"0b00100000","aes_encryption":"True","scheduling_policy":"StrictPriority","priority_q":2,"weight":0,"discard_policy":"TailDrop","max_q_size":"auto","discard_config"`,
			`"0b00100001","aes_encryption":"True","scheduling_policy":"StrictPriority","priority_q":2,"weight":0,"discard_policy":"TailDrop","max_q_size":"auto","discard_config"`,
			"upstream_gem_port_attribute_list[2].pbit_map "},
		{`"priority_q":4,"weight":25`, `"priority_q":9,"weight":25`, "upstream_gem_port_attribute_list[0].priority_q "},
		{`"direction":"DOWNSTREAM"`, `"direction":"UPSTREAM"`, "ds_scheduler.direction "},
		{`"onu":"multi-instance"`, `"onu":"many"`, "instance_control.onu "},
		{`"weight":90,"discard_policy":"TailDrop"`, `"weight":90,"discard_policy":"Drop"`, "downstream_gem_port_attribute_list[1].discard_policy "},
		{`"version":1.0`, `"version":"one"`, "version "},
	} {
		_, err := Parse([]byte(strings.Replace(volthaStyle, c.from, c.to, 1)))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s → %s: %v; want ErrInvalid naming %q", c.from, c.to, err, c.field)
		}
	}
}

func TestPbitBits(t *testing.T) {
	for m, want := range map[string]uint8{"0b00000001": 1, "0b10000000": 0x80, "0b11111111": 0xff, "0b00011010": 0x1a} {
		if got, ok := PbitBits(m); !ok || got != want {
			t.Errorf("PbitBits(%s) = %#x, %v", m, got, ok)
		}
	}
	for _, m := range []string{"", "0b1", "11111111", "0b0000000a", "0b000000001"} {
		if _, ok := PbitBits(m); ok {
			t.Errorf("PbitBits(%q) ok", m)
		}
	}
}

func TestStoreBuiltInAndBadRefs(t *testing.T) {
	s := NewStore(kvstore.NewMemory(), "")
	ctx := t.Context()
	e, err := s.Get(ctx, "XGS-PON", DefaultID)
	if err != nil || !e.BuiltIn || e.Profile.Name != "default" {
		t.Fatalf("built-in default: %+v, %v", e, err)
	}
	if _, err := s.Get(ctx, "XGS-PON", 65); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing profile: %v", err)
	}
	if err := s.Delete(ctx, "XGS-PON", DefaultID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting the built-in default: %v", err)
	}
	for _, c := range []struct {
		tech  string
		id    uint32
		field string
	}{{"", 64, "technology"}, {"a/b", 64, "technology"}, {"GPON", 0, "id"}, {"GPON", 70000, "id"}} {
		if _, err := s.Set(ctx, c.tech, c.id, []byte(defaultJSON)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("Set(%q, %d): %v", c.tech, c.id, err)
		}
	}
}
