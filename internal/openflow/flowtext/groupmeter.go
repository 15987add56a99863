package flowtext

import (
	"fmt"
	"strconv"
	"strings"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// FormatBuckets renders a group's buckets for a table column,
// "; "-separated: "actions=pop_vlan,output:4112; weight:50,actions=output:4128".
func FormatBuckets(buckets []*openflowv1.Bucket) string {
	parts := make([]string, len(buckets))
	for i, b := range buckets {
		parts[i] = bucketText(b)
	}
	return strings.Join(parts, "; ")
}

func bucketText(b *openflowv1.Bucket) string {
	var s []string
	if w := b.GetWeight(); w != 0 {
		s = append(s, "weight:"+strconv.FormatUint(uint64(w), 10))
	}
	if p := b.GetWatchPort(); p != 0 && p != ofppAny {
		s = append(s, "watch_port:"+FormatPort(p))
	}
	if g := b.GetWatchGroup(); g != 0 && g != ofpgAny {
		s = append(s, "watch_group:"+strconv.FormatUint(uint64(g), 10))
	}
	acts := FormatActions(b.GetActions())
	if acts == "" {
		acts = "drop"
	}
	return strings.Join(append(s, "actions="+acts), ",")
}

// FormatGroup renders a group as ovs-ofctl add-group reads it:
//
//	group_id=1,type=all,bucket=actions=pop_vlan,output:4112,bucket=actions=output:4128
func FormatGroup(g *openflowv1.GroupDesc) string {
	var b strings.Builder
	b.WriteString("group_id=")
	b.WriteString(strconv.FormatUint(uint64(g.GetGroupId()), 10))
	b.WriteString(",type=")
	b.WriteString(groupTypeName(g.GetType()))
	for _, bk := range g.GetBuckets() {
		b.WriteString(",bucket=")
		b.WriteString(bucketText(bk))
	}
	return b.String()
}

var groupTypes = map[openflowv1.GroupType]string{
	openflowv1.GroupType_GROUP_TYPE_ALL:           "all",
	openflowv1.GroupType_GROUP_TYPE_SELECT:        "select",
	openflowv1.GroupType_GROUP_TYPE_INDIRECT:      "indirect",
	openflowv1.GroupType_GROUP_TYPE_FAST_FAILOVER: "ff",
}

func groupTypeName(t openflowv1.GroupType) string {
	if s, ok := groupTypes[t]; ok {
		return s
	}
	return strconv.Itoa(int(t))
}

// Meter flags (OFPMF_*) by bit.
var meterFlags = []struct {
	bit  uint32
	name string
}{
	{1 << 0, "kbps"},
	{1 << 1, "pktps"},
	{1 << 2, "burst"},
	{1 << 3, "stats"},
}

// FormatMeterFlags renders OFPMF_* flags by name, comma-separated, with
// unknown bits in hex.
func FormatMeterFlags(flags uint32) string {
	var parts []string
	for _, mf := range meterFlags {
		if flags&mf.bit != 0 {
			parts = append(parts, mf.name)
			flags &^= mf.bit
		}
	}
	if flags != 0 {
		parts = append(parts, fmt.Sprintf("%#x", flags))
	}
	return strings.Join(parts, ",")
}

var bandTypes = map[openflowv1.MeterBandType]string{
	openflowv1.MeterBandType_METER_BAND_TYPE_UNSPECIFIED:  "unknown",
	openflowv1.MeterBandType_METER_BAND_TYPE_DROP:         "drop",
	openflowv1.MeterBandType_METER_BAND_TYPE_DSCP_REMARK:  "dscp_remark",
	openflowv1.MeterBandType_METER_BAND_TYPE_EXPERIMENTER: "experimenter",
}

func bandTypeName(t openflowv1.MeterBandType) string {
	if s, ok := bandTypes[t]; ok {
		return s
	}
	return strconv.Itoa(int(t))
}

// FormatBands renders meter bands for a table column, "; "-separated:
// "type=drop rate=10000 burst_size=1000".
func FormatBands(bands []*openflowv1.MeterBand) string {
	parts := make([]string, len(bands))
	for i, b := range bands {
		parts[i] = strings.Join(bandFields(b), " ")
	}
	return strings.Join(parts, "; ")
}

func bandFields(b *openflowv1.MeterBand) []string {
	s := []string{
		"type=" + bandTypeName(b.GetType()),
		"rate=" + strconv.FormatUint(uint64(b.GetRate()), 10),
		"burst_size=" + strconv.FormatUint(uint64(b.GetBurstSize()), 10),
	}
	switch b.GetType() {
	case openflowv1.MeterBandType_METER_BAND_TYPE_DSCP_REMARK:
		s = append(s, "prec_level="+strconv.FormatUint(uint64(b.GetPrecLevel()), 10))
	case openflowv1.MeterBandType_METER_BAND_TYPE_EXPERIMENTER:
		s = append(s, fmt.Sprintf("experimenter=%#x", b.GetExperimenter()))
	}
	return s
}

// FormatMeter renders a meter as ovs-ofctl add-meter reads it:
//
//	meter=1,kbps,burst,band=type=drop,rate=10000,burst_size=1000
func FormatMeter(m *openflowv1.MeterConfig) string {
	parts := []string{"meter=" + strconv.FormatUint(uint64(m.GetMeterId()), 10)}
	if f := FormatMeterFlags(m.GetFlags()); f != "" {
		parts = append(parts, f)
	}
	for _, b := range m.GetBands() {
		parts = append(parts, "band="+strings.Join(bandFields(b), ","))
	}
	return strings.Join(parts, ",")
}
