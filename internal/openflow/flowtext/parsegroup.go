package flowtext

import (
	"errors"
	"fmt"
	"strings"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// ParseGroup reads a group in the text FormatGroup writes, which is
// ovs-ofctl add-group's:
//
//	group_id=1,type=all,bucket=actions=pop_vlan,output:4112,bucket=weight:50,actions=output:4128
//
// A bucket runs from "bucket=" to the next; in it weight:N, watch_port:P and
// watch_group:G come before "actions=", which takes the rest of the bucket
// ("actions=" may be left out). type defaults to all.
func ParseGroup(s string) (*openflowv1.GroupDesc, error) {
	g := &openflowv1.GroupDesc{Type: openflowv1.GroupType_GROUP_TYPE_ALL}
	head, buckets := splitOn(s, "bucket=")
	hasID := false
	for _, tok := range splitFields(head) {
		key, val, _ := strings.Cut(tok, "=")
		var err error
		switch strings.ToLower(key) {
		case "group_id":
			g.GroupId, err = parseUint32(val, 0xffffffff)
			hasID = true
		case "type":
			g.Type, err = parseGroupType(val)
		default:
			err = errors.New("unknown keyword")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tok, err)
		}
	}
	if !hasID {
		return nil, errors.New("no group_id")
	}
	for _, b := range buckets {
		bk, err := parseBucket(b)
		if err != nil {
			return nil, fmt.Errorf("bucket=%s: %w", b, err)
		}
		g.Buckets = append(g.Buckets, bk)
	}
	return g, nil
}

// splitOn cuts s at each occurrence of key that starts a field (at the
// start, or after a comma or blank), returning what comes before the first
// and the text after each.
func splitOn(s, key string) (head string, parts []string) {
	var starts []int
	for i := 0; ; {
		j := strings.Index(s[i:], key)
		if j < 0 {
			break
		}
		j += i
		if j == 0 || strings.ContainsRune(", \t", rune(s[j-1])) {
			starts = append(starts, j)
		}
		i = j + len(key)
	}
	if len(starts) == 0 {
		return s, nil
	}
	head = s[:starts[0]]
	for k, st := range starts {
		end := len(s)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		parts = append(parts, strings.Trim(s[st+len(key):end], ", \t"))
	}
	return head, parts
}

func parseGroupType(s string) (openflowv1.GroupType, error) {
	ls := strings.ToLower(s)
	if ls == "fast_failover" {
		ls = "ff"
	}
	for t, name := range groupTypes {
		if name == ls {
			return t, nil
		}
	}
	n, err := parseUint32(s, 0x7fffffff)
	if err != nil {
		return 0, fmt.Errorf("unknown group type %q", s)
	}
	return openflowv1.GroupType(n), nil
}

func parseBucket(s string) (*openflowv1.Bucket, error) {
	b := &openflowv1.Bucket{}
	rest := s
	for rest != "" {
		var tok string
		tok, rest, _ = strings.Cut(rest, ",")
		tok = strings.TrimSpace(tok)
		name, arg, _ := cutArg(tok)
		var err error
		switch strings.ToLower(name) {
		case "weight":
			b.Weight, err = parseUint32(arg, 0xffff)
		case "watch_port":
			b.WatchPort, err = parsePort(arg)
			if b.WatchPort == ofppAny { // the same as none
				b.WatchPort = 0
			}
		case "watch_group":
			b.WatchGroup, err = parseUint32(arg, 0xffffffff)
			if b.WatchGroup == ofpgAny {
				b.WatchGroup = 0
			}
		default:
			acts := strings.TrimSpace(tok + "," + rest)
			if rest == "" {
				acts = tok
			}
			lower := strings.ToLower(acts)
			if strings.HasPrefix(lower, "actions=") {
				acts = acts[len("actions="):]
			}
			b.Actions, err = ParseActions(acts)
			rest = ""
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ParseMeter reads a meter in the text FormatMeter writes, which is
// ovs-ofctl add-meter's:
//
//	meter=1,kbps,burst,stats,band=type=drop,rate=10000,burst_size=1000
//
// Flags by name (kbps, pktps, burst, stats) or as a hex number; each band
// runs from "band=" to the next.
func ParseMeter(s string) (*openflowv1.MeterConfig, error) {
	m := &openflowv1.MeterConfig{}
	head, bands := splitOn(s, "band=")
	hasID := false
	for _, tok := range splitFields(head) {
		key, val, hasVal := strings.Cut(tok, "=")
		key = strings.ToLower(key)
		var err error
		switch {
		case key == "meter" && hasVal:
			m.MeterId, err = parseUint32(val, 0xffffffff)
			hasID = true
		case !hasVal && isHex(key):
			var fl uint32
			fl, err = parseUint32(key, 0xffffffff)
			m.Flags |= fl
		case !hasVal:
			err = errors.New("unknown flag")
			for _, mf := range meterFlags {
				if key == mf.name {
					m.Flags |= mf.bit
					err = nil
				}
			}
		default:
			err = errors.New("unknown keyword")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tok, err)
		}
	}
	if !hasID {
		return nil, errors.New("no meter=ID")
	}
	for _, b := range bands {
		band, err := parseBand(b)
		if err != nil {
			return nil, fmt.Errorf("band=%s: %w", b, err)
		}
		m.Bands = append(m.Bands, band)
	}
	return m, nil
}

func parseBand(s string) (*openflowv1.MeterBand, error) {
	b := &openflowv1.MeterBand{}
	var hasPrec, hasExp bool
	for _, tok := range splitFields(s) {
		key, val, _ := strings.Cut(tok, "=")
		var err error
		switch strings.ToLower(key) {
		case "type":
			b.Type, err = parseBandType(val)
		case "rate":
			b.Rate, err = parseUint32(val, 0xffffffff)
		case "burst_size":
			b.BurstSize, err = parseUint32(val, 0xffffffff)
		case "prec_level":
			b.PrecLevel, err = parseUint32(val, 0xff)
			hasPrec = true
		case "experimenter":
			b.Experimenter, err = parseUint32(val, 0xffffffff)
			hasExp = true
		default:
			err = errors.New("unknown keyword")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tok, err)
		}
	}
	if hasPrec && b.Type != openflowv1.MeterBandType_METER_BAND_TYPE_DSCP_REMARK {
		return nil, errors.New("prec_level is for type=dscp_remark")
	}
	if hasExp && b.Type != openflowv1.MeterBandType_METER_BAND_TYPE_EXPERIMENTER {
		return nil, errors.New("experimenter is for type=experimenter")
	}
	return b, nil
}

func parseBandType(s string) (openflowv1.MeterBandType, error) {
	ls := strings.ToLower(s)
	for t, name := range bandTypes {
		if name == ls {
			return t, nil
		}
	}
	n, err := parseUint32(s, 0x7fffffff)
	if err != nil {
		return 0, fmt.Errorf("unknown band type %q", s)
	}
	return openflowv1.MeterBandType(n), nil
}
