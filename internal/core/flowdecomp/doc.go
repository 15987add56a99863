// Package flowdecomp turns the flows of a logical device (one OpenFlow
// switch per OLT) into the flows of its devices: the OLT and the ONUs.
// It is pure: logical flows, groups and meters and the routes between
// logical ports (package route) in, device flows, groups and meters out;
// no I/O, no goroutines, no logging. The fixtures in testdata show every
// rule below on flows; read them with this comment.
//
// # Device flows
//
// A device flow is a single-table flow (table 0) with the logical flow's
// priority and cookie, a match sorted by field type, at most a meter and
// one apply-actions list ending in its output. Its id is DeviceFlowID: a
// hash of the device id, table, priority, cookie and match, so decomposing
// a flow again gives the same ids (adds are idempotent; a delete can be
// worked out by decomposing the deleted flow). Timeouts and flags stay on
// the logical flow: the core owns a flow's life.
//
// tunnel_id is the subscriber's GEM port: its value is the UNI's logical
// port number. The side that sends a subscriber's frame onto the PON sets
// it (set_field:UNI->tunnel_id before the output to the PON port), the side
// that receives it matches it (tunnel_id=UNI with in_port=PON). So an OLT
// flow from a PON port matches the UNI the frame came from, an ONU flow
// from its PON port matches only frames for its UNI, and an adapter finds a
// flow's subscriber in either place. Multicast sets no tunnel_id.
//
// On an OLT flow from the NNI, a metadata match is the VID of the inner
// tag (OpenFlow 1.3 has no field for it); it is there when the OLT pops the
// outer tag and subscribers share it.
//
// # Which logical flows become which device flows
//
// Traps (output to CONTROLLER):
//   - from the NNI (LLDP, DHCP answers, PPPoE discovery): one OLT flow,
//     in_port=NNI, the logical match and actions.
//   - from a UNI (EAPOL, DHCPv4/v6, IGMP, PPPoE discovery): an ONU flow,
//     in_port=UNI, that does all the logical actions (push/set the VLAN
//     the flow asks for) and outputs to the ONU's PON port; and an OLT flow,
//     in_port=PON and tunnel_id=UNI, matching the packet as the ONU sends it
//     (the VLAN it set), that outputs to CONTROLLER. The meter goes to the
//     ONU flow.
//
// Unicast in one table (table 0, output to a port):
//   - upstream, UNI → NNI: the ONU does the actions up to the push_vlan that
//     gives the frame a second tag (what concerns the subscriber's tag: push
//     or set the C-tag, set the PCP); the OLT does that push and the rest
//     (push the S-tag, set its VID) and outputs to the NNI.
//   - downstream, NNI → UNI: when the actions pop two tags, the OLT does
//     the first pop (the S-tag) and what comes before it; otherwise the ONU
//     does all the actions. The OLT outputs to the PON port, the ONU to the
//     UNI.
//   - the meter goes to the ingress device: the ONU upstream, the OLT
//     downstream.
//
// Unicast in two tables (table 0 with goto_table, then a final table):
//   - table 0 is the ingress device's. Upstream (in_port=UNI) the ONU does
//     the actions (the C-tag) and outputs to its PON port. Downstream
//     (in_port=NNI) the OLT does the actions (pop the S-tag) and outputs
//     to the PON port of the UNI that write_metadata names.
//   - the final table is the egress device's, on the packet as the first
//     device sent it: upstream the OLT (in_port=PON, tunnel_id=UNI; push
//     the S-tag, output to the NNI), downstream the ONU (in_port=PON,
//     tunnel_id=UNI; pop or set the C-tag, output to the UNI). Its metadata
//     match is dropped: tunnel_id and the VLAN name the subscriber.
//   - meters stay with the device flow of the logical flow that has them.
//   - write_metadata is read as ONOS's OLT pipeline writes it: bits 63–48
//     the C-tag VID, 47–32 the technology profile, 31–0 a port. A
//     downstream table-0 flow must name its UNI in bits 31–0; when it pops a
//     tag, the C-tag of bits 63–48 becomes the OLT flow's inner-VID match.
//     Upstream, write_metadata is not needed (the ONU's only way out is its
//     PON port). Only its technology-profile bits reach the devices: the
//     OLT's flows of a logical flow whose write_metadata names a profile
//     carry write_metadata:<profile><<32/0xffff00000000, so that the OLT's
//     adapter can instantiate that profile for the UNI.
//
// Multicast (table 0, from the NNI, to a group of type all or indirect):
// the OLT gets the flow with its actions and the group action, and a copy
// of the group whose buckets output to the PON ports of the bucket UNIs
// (one bucket per PON port). Each ONU with a bucket UNI gets a flow from
// its PON port, matching the packet as the OLT sends it, doing the
// bucket's actions and outputting to the UNI; buckets for two UNIs of one
// ONU must have the same actions, and share the ONU's flow.
//
// Drops (no output): table 0 drops at the ingress device; a later table
// drops on the OLT for a flow from a UNI. A drop has no meter.
//
// A flow without in_port stands for one flow per logical port it can come
// in by (the NNIs, then the UNIs, skipping those with no route for it): a
// table-miss trap becomes a trap on the NNI and on every UNI.
//
// Meters and groups the device flows use are given to the devices with
// them, under the logical ids.
//
// # What is refused
//
// A flow that cannot be decomposed is refused with an *Error that names it
// and says why; it wraps coreerr.ErrInvalidArgument and one of ErrNoRoute,
// ErrUnsupported, ErrUnknownMeter, ErrUnknownGroup, ErrConflict:
// ports with no route between them (UNI to UNI, NNI to NNI, an ONU not
// linked to the OLT, a port that does not exist); match fields other than
// in_port, metadata, Ethernet, VLAN, IPv4/IPv6, ARP, TCP/UDP and ICMP ones
// (tunnel_id is the decomposer's); actions other than output, push_vlan
// 0x8100/0x88a8, pop_vlan, set_field of VLAN VID/PCP, MAC addresses or
// DSCP, set_queue and group; write_actions; more than one output, or
// actions after it; more than two tables; a meter or group that does not
// exist yet; two logical flows that would be one device flow with other
// actions; a metadata match in table 0 of a flow from a UNI; a downstream
// table-0 flow whose write_metadata names no UNI; a drop in a later table
// from the NNI (no UNI says which ONU); groups from a UNI, in a later
// table, of type select or fast failover, or with buckets that do not end
// in an output to a UNI.
package flowdecomp
