package openolt

import (
	"fmt"
	"strings"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// onuConfig is what an ONU's OMCI configuration asks of the dataplane of
// its UNI (the simulator forwards on one UNI per ONU).
type onuConfig struct {
	locked bool       // PPTP administratively locked: the UNI is down
	gems   int        // GEM ports configured (none: nothing to carry frames)
	gemIDs []uint32   // every GEM port network CTP's port id
	mcast  bool       // a multicast GEM port: frames the OLT multicasts reach the UNI
	rules  []vlanRule // extended VLAN tagging operation rules, in order
}

// vlanRule is one extended VLAN tagging rule, upstream view: a filter on
// the frame from the UNI and a treatment. Downstream applies the inverse.
type vlanRule struct {
	untagged bool   // filter: untagged frames only
	vid      int    // filter: outer VID of a tagged frame; -1 any
	ethType  uint16 // filter: 0 any
	remove   int    // treatment: tags to remove (0..2)
	push     []tag  // treatment: tags to add, innermost first
}

type tag struct {
	tpid uint16
	vid  uint16
	pcp  int // -1: leave as it is
}

// onuFlows is the ONU flow table that makes cfg happen on UNI uni: per
// rule, upstream frames from the UNI are retagged and sent onto the PON
// with tunnel_id = uni; downstream frames for uni tagged as the rule tags
// are untagged again. A locked UNI or an ONU without GEM ports forwards
// nothing.
func onuFlows(uni uint32, cfg onuConfig) []*openflowv1.Flow {
	if cfg.locked || cfg.gems == 0 {
		return nil
	}
	var out []*openflowv1.Flow
	add := func(text string) {
		f, err := flowtext.ParseFlow(text)
		if err != nil {
			return // the texts below are well-formed; a rule that is not stays unforwarded
		}
		f.Id = uint64(len(out) + 1)
		out = append(out, f)
	}
	for _, r := range cfg.rules {
		prio := 1000
		var m []string
		switch {
		case r.untagged:
			m = append(m, "vlan_vid=untagged")
		case r.vid >= 0:
			m = append(m, fmt.Sprintf("vlan_vid=%d", r.vid))
			prio += 10
		default:
			m = append(m, "vlan_vid=tagged")
		}
		if r.ethType != 0 {
			m = append(m, fmt.Sprintf("eth_type=0x%04x", r.ethType))
			prio += 100
		}
		var up []string
		for range r.remove {
			up = append(up, "pop_vlan")
		}
		for _, t := range r.push {
			up = append(up, fmt.Sprintf("push_vlan:0x%04x", t.tpid), fmt.Sprintf("set_field:%d->vlan_vid", t.vid))
			if t.pcp >= 0 {
				up = append(up, fmt.Sprintf("set_field:%d->vlan_pcp", t.pcp))
			}
		}
		up = append(up, fmt.Sprintf("set_field:%d->tunnel_id", uni), fmt.Sprintf("output:%d", portno.ONUPON))
		add(fmt.Sprintf("priority=%d,in_port=%d,%s,actions=%s", prio, uni, strings.Join(m, ","), strings.Join(up, ",")))

		// Downstream: the outermost tag pushed names the rule; pop what was
		// pushed, put back what was removed (a single tag of VID vid).
		dm := []string{fmt.Sprintf("in_port=%d", portno.ONUPON), fmt.Sprintf("tunnel_id=%d", uni)}
		if len(r.push) > 0 {
			dm = append(dm, fmt.Sprintf("vlan_vid=%d", r.push[len(r.push)-1].vid))
		} else if r.untagged {
			dm = append(dm, "vlan_vid=untagged")
		} else if r.vid >= 0 {
			dm = append(dm, fmt.Sprintf("vlan_vid=%d", r.vid))
		}
		if r.ethType != 0 {
			dm = append(dm, fmt.Sprintf("eth_type=0x%04x", r.ethType))
		}
		var down []string
		for range r.push {
			down = append(down, "pop_vlan")
		}
		if r.remove == 1 && r.vid >= 0 {
			down = append(down, "push_vlan:0x8100", fmt.Sprintf("set_field:%d->vlan_vid", r.vid))
		}
		down = append(down, fmt.Sprintf("output:%d", uni))
		add(fmt.Sprintf("priority=%d,%s,actions=%s", prio, strings.Join(dm, ","), strings.Join(down, ",")))
	}
	if cfg.mcast {
		// Multicast comes down the PON without a GEM port of one ONU
		// (tunnel_id 0) and leaves the UNI as it came.
		add(fmt.Sprintf("priority=500,in_port=%d,tunnel_id=0,actions=output:%d", portno.ONUPON, uni))
	}
	return out
}
