// Package techprofile holds technology profiles: VOLTHA's tech-profile JSON
// (so the profiles operators already have load unchanged), validated, and
// stored in the KV store under <prefix>/techprofiles/<technology>/<id>.
//
// A profile says how a UNI's traffic is carried over the PON: one T-CONT
// (the upstream scheduler, us_scheduler) and a GEM port per priority queue
// (upstream_gem_port_attribute_list, paired by index with
// downstream_gem_port_attribute_list), each carrying the p-bits of its
// pbit_map. An OLT adapter instantiates a profile per UNI: it allocates the
// T-CONT's alloc id and the GEM port ids and programs the OLT's schedulers
// and queues.
package techprofile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultID is the profile a subscriber flow gets when its write_metadata
// names none (VOLTHA's default id).
const DefaultID = 64

// Technologies with a built-in default profile, as an openolt agent names
// them in DeviceInfo.technology.
var defaultTechnologies = []string{"GPON", "XGS-PON"}

// ErrInvalid marks a profile (or technology, or id) that cannot be stored;
// the error names the field.
var ErrInvalid = errors.New("invalid tech profile")

// ErrNotFound marks a profile that does not exist.
var ErrNotFound = errors.New("tech profile not found")

// Profile is VOLTHA's tech-profile JSON. Fields this package does not use
// are kept in the stored text, which is what Set was given.
type Profile struct {
	Name            string          `json:"name"`
	ProfileType     string          `json:"profile_type,omitempty"`
	Version         float64         `json:"version,omitempty"`
	NumGemPorts     int             `json:"num_gem_ports"`
	InstanceControl InstanceControl `json:"instance_control"`
	USScheduler     Scheduler       `json:"us_scheduler"`
	DSScheduler     Scheduler       `json:"ds_scheduler"`
	UpstreamGEMs    []GEMAttributes `json:"upstream_gem_port_attribute_list"`
	DownstreamGEMs  []GEMAttributes `json:"downstream_gem_port_attribute_list"`
}

// InstanceControl says how many instances an ONU and a UNI may have.
type InstanceControl struct {
	ONU               string `json:"onu"`
	UNI               string `json:"uni"`
	MaxGemPayloadSize string `json:"max_gem_payload_size,omitempty"`
}

// Scheduler is a T-CONT's scheduler (upstream) or the downstream one.
type Scheduler struct {
	AdditionalBW string `json:"additional_bw"`
	Direction    string `json:"direction"`
	Priority     int    `json:"priority"`
	Weight       int    `json:"weight"`
	QSchedPolicy string `json:"q_sched_policy"`
}

// GEMAttributes is one priority queue: a GEM port carrying the p-bits of
// PbitMap ("0b" and eight digits, the last one p-bit 0).
type GEMAttributes struct {
	PbitMap          string         `json:"pbit_map"`
	AESEncryption    string         `json:"aes_encryption,omitempty"`
	SchedulingPolicy string         `json:"scheduling_policy"`
	PriorityQ        int            `json:"priority_q"`
	Weight           int            `json:"weight"`
	DiscardPolicy    string         `json:"discard_policy"`
	MaxQSize         any            `json:"max_q_size,omitempty"`
	DiscardConfig    *DiscardConfig `json:"discard_config,omitempty"`
}

// DiscardConfig is a queue's RED thresholds.
type DiscardConfig struct {
	MaxThreshold   int `json:"max_threshold"`
	MinThreshold   int `json:"min_threshold"`
	MaxProbability int `json:"max_probability"`
}

// Parse decodes and validates profile JSON. Fields it does not know are
// allowed (newer VOLTHA profiles carry more); the ones it knows must be
// right. The error wraps ErrInvalid and names the field.
func Parse(data []byte) (*Profile, error) {
	var p Profile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return nil, invalid(te.Field, "is a JSON %s, want a %s", te.Value, jsonType(te.Type.Kind().String()))
		case errors.As(err, &se):
			return nil, fmt.Errorf("%w: not JSON: %v (at byte %d)", ErrInvalid, se, se.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%w: not JSON: it ends before the profile does", ErrInvalid)
		default:
			return nil, fmt.Errorf("%w: not a JSON object: %v", ErrInvalid, err)
		}
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "float64", "uint32":
		return "number"
	case "struct", "map", "ptr":
		return "object"
	case "slice":
		return "list"
	}
	return kind
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// Enumerations, compared without case: VOLTHA's own examples spell them
// both "hybrid" and "Hybrid", "auto" and "AdditionalBW_Auto".
var (
	instanceValues  = []string{"multi-instance", "single-instance"}
	addBWValues     = []string{"auto", "none", "na", "besteffort", "additionalbw_auto", "additionalbw_none", "additionalbw_na", "additionalbw_besteffort"}
	schedValues     = []string{"hybrid", "wrr", "strictpriority", "strict_priority"}
	discardValues   = []string{"taildrop", "wtaildrop", "red", "wred"}
	directionValues = map[string]string{"us_scheduler": "UPSTREAM", "ds_scheduler": "DOWNSTREAM"}
)

func oneOf(v string, values []string) bool {
	for _, x := range values {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

// Validate checks the fields an adapter relies on; the error wraps
// ErrInvalid and names the first wrong field.
func (p *Profile) Validate() error {
	if strings.TrimSpace(p.Name) == "" {
		return invalid("name", "is empty")
	}
	ic := p.InstanceControl
	if ic.ONU != "" && !oneOf(ic.ONU, instanceValues) {
		return invalid("instance_control.onu", "is %q, want multi-instance or single-instance", ic.ONU)
	}
	if ic.UNI != "" && !oneOf(ic.UNI, instanceValues) {
		return invalid("instance_control.uni", "is %q, want multi-instance or single-instance", ic.UNI)
	}
	for name, s := range map[string]Scheduler{"us_scheduler": p.USScheduler, "ds_scheduler": p.DSScheduler} {
		if err := s.validate(name); err != nil {
			return err
		}
	}
	n := len(p.UpstreamGEMs)
	if n == 0 || n > 8 {
		return invalid("upstream_gem_port_attribute_list", "has %d GEM ports, want 1 to 8", n)
	}
	if p.NumGemPorts != n {
		return invalid("num_gem_ports", "is %d, but upstream_gem_port_attribute_list has %d", p.NumGemPorts, n)
	}
	if len(p.DownstreamGEMs) != n {
		return invalid("downstream_gem_port_attribute_list", "has %d GEM ports, want %d (one per upstream GEM port)", len(p.DownstreamGEMs), n)
	}
	for _, list := range []struct {
		name string
		gems []GEMAttributes
	}{{"upstream_gem_port_attribute_list", p.UpstreamGEMs}, {"downstream_gem_port_attribute_list", p.DownstreamGEMs}} {
		var seen uint8
		for i, g := range list.gems {
			field := fmt.Sprintf("%s[%d]", list.name, i)
			bits, err := g.validate(field)
			if err != nil {
				return err
			}
			if bits&seen != 0 {
				return invalid(field+".pbit_map", "%s carries a p-bit an earlier GEM port carries", g.PbitMap)
			}
			seen |= bits
		}
	}
	return nil
}

func (s Scheduler) validate(name string) error {
	if s.Direction != "" && !strings.EqualFold(s.Direction, directionValues[name]) {
		return invalid(name+".direction", "is %q, want %s", s.Direction, directionValues[name])
	}
	if s.AdditionalBW != "" && !oneOf(s.AdditionalBW, addBWValues) {
		return invalid(name+".additional_bw", "is %q, want auto, none, na or besteffort", s.AdditionalBW)
	}
	if s.QSchedPolicy != "" && !oneOf(s.QSchedPolicy, schedValues) {
		return invalid(name+".q_sched_policy", "is %q, want hybrid, wrr or strictpriority", s.QSchedPolicy)
	}
	if s.Priority < 0 || s.Weight < 0 {
		return invalid(name, "has a negative priority or weight")
	}
	return nil
}

// validate checks one GEM port and returns the p-bits it carries.
func (g GEMAttributes) validate(field string) (uint8, error) {
	bits, ok := PbitBits(g.PbitMap)
	if !ok {
		return 0, invalid(field+".pbit_map", "is %q, want 0b and 8 binary digits", g.PbitMap)
	}
	if bits == 0 {
		return 0, invalid(field+".pbit_map", "is %q: it carries no p-bit", g.PbitMap)
	}
	if g.PriorityQ < 0 || g.PriorityQ > 7 {
		return 0, invalid(field+".priority_q", "is %d, want 0 to 7", g.PriorityQ)
	}
	if g.SchedulingPolicy != "" && !oneOf(g.SchedulingPolicy, schedValues) {
		return 0, invalid(field+".scheduling_policy", "is %q, want WRR, StrictPriority or Hybrid", g.SchedulingPolicy)
	}
	if g.Weight < 0 || g.Weight > 100 {
		return 0, invalid(field+".weight", "is %d, want 0 to 100", g.Weight)
	}
	if g.DiscardPolicy != "" && !oneOf(g.DiscardPolicy, discardValues) {
		return 0, invalid(field+".discard_policy", "is %q, want TailDrop, WTailDrop, Red or WRed", g.DiscardPolicy)
	}
	return bits, nil
}

// PbitBits decodes a pbit_map ("0b" and eight binary digits, the last
// one p-bit 0) into a bit set (bit i: p-bit i).
func PbitBits(m string) (uint8, bool) {
	if len(m) != 10 || !strings.HasPrefix(m, "0b") {
		return 0, false
	}
	var bits uint8
	for i := 2; i < 10; i++ {
		switch m[i] {
		case '1':
			bits |= 1 << (9 - i)
		case '0':
		default:
			return 0, false
		}
	}
	return bits, true
}

// Default is the built-in profile every technology in defaultTechnologies
// has under DefaultID until one is set: one T-CONT, one GEM port for all
// eight p-bits.
const defaultJSON = `{
  "name": "default",
  "profile_type": "XPON",
  "version": 1,
  "num_gem_ports": 1,
  "instance_control": {"onu": "multi-instance", "uni": "single-instance", "max_gem_payload_size": "auto"},
  "us_scheduler": {"additional_bw": "AdditionalBW_BestEffort", "direction": "UPSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "Hybrid"},
  "ds_scheduler": {"additional_bw": "AdditionalBW_BestEffort", "direction": "DOWNSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "Hybrid"},
  "upstream_gem_port_attribute_list": [
    {"pbit_map": "0b11111111", "aes_encryption": "True", "scheduling_policy": "StrictPriority", "priority_q": 0, "weight": 0,
     "discard_policy": "TailDrop", "max_q_size": "auto", "discard_config": {"max_threshold": 0, "min_threshold": 0, "max_probability": 0}}
  ],
  "downstream_gem_port_attribute_list": [
    {"pbit_map": "0b11111111", "aes_encryption": "True", "scheduling_policy": "StrictPriority", "priority_q": 0, "weight": 0,
     "discard_policy": "TailDrop", "max_q_size": "auto", "discard_config": {"max_threshold": 0, "min_threshold": 0, "max_probability": 0}}
  ]
}
`
