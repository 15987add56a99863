// Package flowtext renders OpenFlow 1.3 flows, groups and meters as text in
// the manner of ovs-ofctl, and parses that text back. The CLI prints with
// it, the flow decomposer's fixtures are written in it, and ParseFlow is
// meant for `volt logicaldevice add-flow`.
//
// A flow is one line:
//
//	table=0, priority=1000, cookie=0x1, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535
//
// Match fields take their OXM names (eth_type, vlan_vid, ipv4_dst …) and
// come in the order the flow holds them. Actions and instructions are listed
// in the order OpenFlow 1.3 executes the instructions (meter, apply-actions,
// clear-actions, write-actions, write-metadata, goto-table), apply-actions
// flattened as ovs-ofctl does, and "drop" when there are none. Port numbers
// are decimal, reserved ports by name. vlan_vid shows the VID without
// OFPVID_PRESENT (0x1064 is 100), "untagged" for OFPVID_NONE and "tagged"
// for the 0x1000/0x1000 wildcard; a hex vlan_vid is the raw OXM value.
//
// Groups and meters use ovs-ofctl add-group and add-meter syntax:
//
//	group_id=1,type=all,bucket=actions=pop_vlan,output:4112,bucket=actions=output:4128
//	meter=1,kbps,burst,band=type=drop,rate=10000,burst_size=1000
//
// The parsers take that text (FormatFlow's ", " or ovs-ofctl's "," between
// fields) and some ovs-ofctl aliases; what they return formats back to text
// that parses to the same message. That property is fuzzed.
//
// The package is pure: no I/O, no state.
package flowtext
