#!/usr/bin/python3
"""Serialize controller-to-switch OpenFlow 1.3 messages with os-ken's
ofproto_v1_3_parser (python3-os-ken 2.5.0) and write them as fixtures,
each annotated with `ovs-ofctl ofp-print`'s decoding of the same bytes.

os-ken only serializes what a controller sends; switch-side messages come
from ovs-vswitchd (capture_ovs.py, osken_app.py).

usage: osken_serialize.py OUTDIR
"""
import os
import subprocess
import sys

from os_ken.ofproto import ofproto_protocol, ofproto_v1_3 as ofp, ofproto_v1_3_parser as p

import extract_ovs

dp = ofproto_protocol.ProtocolDesc(version=ofp.OFP_VERSION)

# Actions OVS 3.1 accepts after an IPv4 match.
OVS_ACTIONS = [
    p.OFPActionPushVlan(0x8100),
    p.OFPActionSetField(vlan_vid=0x1000 | 10),
    p.OFPActionSetField(vlan_pcp=3),
    p.OFPActionSetQueue(7),
    p.OFPActionGroup(9),
    p.OFPActionSetNwTtl(32),
    p.OFPActionDecNwTtl(),
    p.OFPActionSetField(eth_src="02:00:00:00:00:01"),
    p.OFPActionSetField(ipv4_dst="192.0.2.1"),
    p.OFPActionSetField(tunnel_id=0x1234567890),
    p.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER),
]

# Valid OpenFlow 1.3 that OVS 3.1 does not implement (its ofp-print says so).
NON_OVS_ACTIONS = [
    p.OFPActionCopyTtlOut(),
    p.OFPActionCopyTtlIn(),
    p.OFPActionPushPbb(0x88e7),
    p.OFPActionPopPbb(),
    p.OFPActionSetField(ipv6_src="2001:db8::1"),
    p.OFPActionExperimenterUnknown(0x00abcdef, b"\x01\x02\x03\x04\x05\x06\x07\x08"),
    p.OFPActionOutput(1, 0),
]


def apply(*actions):
    return [p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, list(actions))]


def flow_mod(match, instructions, **kw):
    args = dict(cookie=0xfeed, cookie_mask=0, table_id=0, command=ofp.OFPFC_ADD, idle_timeout=0,
                hard_timeout=0, priority=100, buffer_id=ofp.OFP_NO_BUFFER, out_port=ofp.OFPP_ANY,
                out_group=ofp.OFPG_ANY, flags=0, match=match, instructions=instructions)
    args.update(kw)
    return p.OFPFlowMod(dp, **args)


MSGS = [
    ("hello", p.OFPHello(dp)),
    ("echo_request_data", p.OFPEchoRequest(dp, data=b"ping-1234")),
    ("features_request", p.OFPFeaturesRequest(dp)),
    ("set_config_no_buffer", p.OFPSetConfig(dp, ofp.OFPC_FRAG_NORMAL, ofp.OFPCML_NO_BUFFER)),
    ("barrier_request", p.OFPBarrierRequest(dp)),
    ("role_request_master", p.OFPRoleRequest(dp, ofp.OFPCR_ROLE_MASTER, 7)),
    ("role_request_slave", p.OFPRoleRequest(dp, ofp.OFPCR_ROLE_SLAVE, 0xfffffffffffffff0)),
    ("get_async_request", p.OFPGetAsyncRequest(dp)),
    ("set_async", p.OFPSetAsync(dp, [0x7, 0x0], [0x7, 0x7], [0xf, 0x0])),
    ("table_mod", p.OFPTableMod(dp, 2, 3)),
    ("experimenter", p.OFPExperimenter(dp, 0x00abcdef, 42, b"hello!!!")),
    ("port_mod", p.OFPPortMod(dp, 3, "0a:0b:0c:0d:0e:0f", ofp.OFPPC_PORT_DOWN, ofp.OFPPC_PORT_DOWN,
                              ofp.OFPPF_10GB_FD | ofp.OFPPF_FIBER)),
    ("flow_mod_ipv4_tcp_all_instructions", flow_mod(
        p.OFPMatch(in_port=1, metadata=(0x5, 0xff), eth_dst=("01:00:5e:00:00:00", "ff:ff:ff:00:00:00"),
                   eth_src="00:11:22:33:44:55", eth_type=0x0800, vlan_vid=(0x1000, 0x1000), vlan_pcp=5,
                   ip_dscp=46, ip_ecn=1, ip_proto=6, ipv4_src=("10.0.0.0", "255.0.0.0"), ipv4_dst="10.1.2.3",
                   tcp_src=1024, tcp_dst=80, tunnel_id=(0x10, 0xffff)),
        [p.OFPInstructionMeter(5),
         p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, OVS_ACTIONS),
         p.OFPInstructionActions(ofp.OFPIT_CLEAR_ACTIONS, []),
         p.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS, [p.OFPActionOutput(2, 0)]),
         p.OFPInstructionWriteMetadata(0x0000000100000000, 0xffffffff00000000),
         p.OFPInstructionGotoTable(3)],
        flags=ofp.OFPFF_SEND_FLOW_REM | ofp.OFPFF_CHECK_OVERLAP, idle_timeout=30, hard_timeout=300)),
    ("flow_mod_not_in_ovs", flow_mod(
        p.OFPMatch(in_port=1, in_phy_port=1, eth_type=0x88e7, pbb_isid=(0xabcdef, 0xffffff)),
        apply(*NON_OVS_ACTIONS))),
    ("flow_mod_ipv6_exthdr", flow_mod(p.OFPMatch(eth_type=0x86dd, ipv6_exthdr=(0x100, 0x1ff)), apply(p.OFPActionOutput(1, 0)))),
    ("flow_mod_udp_nni", flow_mod(
        p.OFPMatch(in_port=0x100000, eth_type=0x0800, ip_proto=17, udp_src=68, udp_dst=67),
        apply(p.OFPActionOutput(ofp.OFPP_CONTROLLER, 128)), table_id=1, priority=10000)),
    ("flow_mod_vlan_pop", flow_mod(
        p.OFPMatch(in_port=2, vlan_vid=0x1000 | 4000), apply(p.OFPActionPopVlan(), p.OFPActionOutput(1, 0)))),
    ("flow_mod_untagged", flow_mod(
        p.OFPMatch(in_port=2, vlan_vid=0x0000), apply(p.OFPActionPushVlan(0x88a8), p.OFPActionSetField(vlan_vid=0x1000 | 20),
                                                      p.OFPActionOutput(1, 0)))),
    ("flow_mod_mpls", flow_mod(
        p.OFPMatch(eth_type=0x8847, mpls_label=0xfffff, mpls_tc=7, mpls_bos=1),
        apply(p.OFPActionSetMplsTtl(64), p.OFPActionDecMplsTtl(), p.OFPActionPopMpls(0x0800), p.OFPActionOutput(1, 0)))),
    ("flow_mod_push_mpls", flow_mod(
        p.OFPMatch(eth_type=0x0800), apply(p.OFPActionPushMpls(0x8847), p.OFPActionSetField(mpls_label=17),
                                           p.OFPActionOutput(1, 0)))),
    ("flow_mod_arp", flow_mod(
        p.OFPMatch(eth_type=0x0806, arp_op=1, arp_spa=("192.168.1.0", "255.255.255.0"), arp_tpa="192.168.1.1",
                   arp_sha=("00:11:22:00:00:00", "ff:ff:ff:00:00:00"), arp_tha="00:00:00:00:00:00"),
        apply(p.OFPActionOutput(ofp.OFPP_FLOOD, 0)))),
    ("flow_mod_ipv6_nd_sll", flow_mod(
        p.OFPMatch(eth_type=0x86dd, ipv6_src=("2001:db8::", "ffff:ffff::"), ipv6_dst="fe80::1",
                   ipv6_flabel=(0x12345, 0xfffff), ip_proto=58, icmpv6_type=135, icmpv6_code=0,
                   ipv6_nd_target="2001:db8::7", ipv6_nd_sll="00:11:22:33:44:55"),
        apply(p.OFPActionOutput(ofp.OFPP_NORMAL, 0)))),
    ("flow_mod_ipv6_nd_tll", flow_mod(
        p.OFPMatch(eth_type=0x86dd, ip_proto=58, icmpv6_type=136, ipv6_nd_target="2001:db8::7",
                   ipv6_nd_tll="66:77:88:99:aa:bb"),
        apply(p.OFPActionOutput(ofp.OFPP_ALL, 0)))),
    ("flow_mod_sctp", flow_mod(
        p.OFPMatch(eth_type=0x0800, ip_proto=132, sctp_src=9, sctp_dst=10), apply(p.OFPActionOutput(ofp.OFPP_LOCAL, 0)),
        command=ofp.OFPFC_MODIFY_STRICT)),
    ("flow_mod_icmpv4", flow_mod(
        p.OFPMatch(eth_type=0x0800, ip_proto=1, icmpv4_type=8, icmpv4_code=0), apply(p.OFPActionOutput(ofp.OFPP_IN_PORT, 0)),
        command=ofp.OFPFC_MODIFY)),
    ("flow_mod_delete_out_port", flow_mod(p.OFPMatch(), [], command=ofp.OFPFC_DELETE, table_id=ofp.OFPTT_ALL,
                                          out_port=5, cookie=0x100, cookie_mask=0xf00)),
    ("group_mod_ff_watch", p.OFPGroupMod(dp, ofp.OFPGC_MODIFY, ofp.OFPGT_FF, 17, [
        p.OFPBucket(0, 1, ofp.OFPG_ANY, [p.OFPActionOutput(1, 0)]),
        p.OFPBucket(0, ofp.OFPP_ANY, 18, [p.OFPActionGroup(18)])])),
    ("meter_mod_drop_dscp", p.OFPMeterMod(dp, ofp.OFPMC_ADD, ofp.OFPMF_KBPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS, 3, [
        p.OFPMeterBandDrop(rate=20000, burst_size=2000),
        p.OFPMeterBandDscpRemark(rate=10000, burst_size=1000, prec_level=2)])),
    ("packet_out_no_buffer", p.OFPPacketOut(dp, ofp.OFP_NO_BUFFER, ofp.OFPP_CONTROLLER,
                                             [p.OFPActionPushVlan(0x8100), p.OFPActionSetField(vlan_vid=0x1000 | 7),
                                              p.OFPActionOutput(1, 0)],
                                             bytes.fromhex("ffffffffffff0011223344550806" + "00" * 46))),
    ("flow_stats_request_filtered", p.OFPFlowStatsRequest(dp, 0, 2, ofp.OFPP_ANY, 9, 0x1, 0xff,
                                                          p.OFPMatch(in_port=3, eth_type=0x88cc))),
    ("aggregate_request_all", p.OFPAggregateStatsRequest(dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0,
                                                         p.OFPMatch())),
    ("port_stats_request_any", p.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY)),
    ("group_stats_request_all", p.OFPGroupStatsRequest(dp, 0, ofp.OFPG_ALL)),
    ("group_desc_request", p.OFPGroupDescStatsRequest(dp, 0)),
    ("meter_config_request_all", p.OFPMeterConfigStatsRequest(dp, 0, ofp.OFPM_ALL)),
    ("meter_stats_request_one", p.OFPMeterStatsRequest(dp, 0, 3)),
    ("meter_features_request", p.OFPMeterFeaturesStatsRequest(dp, 0)),
    ("port_desc_request", p.OFPPortDescStatsRequest(dp, 0)),
    ("desc_request", p.OFPDescStatsRequest(dp, 0)),
    ("table_stats_request", p.OFPTableStatsRequest(dp, 0)),
    ("group_features_request", p.OFPGroupFeaturesStatsRequest(dp, 0)),
    ("queue_stats_request", p.OFPQueueStatsRequest(dp, 0, ofp.OFPP_ANY, ofp.OFPQ_ALL)),
]


def main():
    out = sys.argv[1]
    for i, (name, msg) in enumerate(MSGS):
        msg.set_xid(0x100 + i)
        msg.serialize()
        hexstr = bytes(msg.buf).hex()
        printed = extract_ovs.ofp_print(hexstr)
        header = ["peer: os-ken 2.5.0 (python3-os-ken) ofproto_v1_3_parser, controller side, serialized offline",
                  "by gen/osken_serialize.py: " + type(msg).__name__,
                  "ovs-ofctl ofp-print decodes it as:"] + ["  " + l for l in printed.splitlines()]
        extract_ovs.write_fixture(os.path.join(out, "os-ken", name + ".hex"), header, hexstr)
        print(name, len(hexstr) // 2)


if __name__ == "__main__":
    main()
