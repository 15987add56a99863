# An os-ken application for the agent's peer test. It prints one line per
# thing the test waits for, on stdout:
#   FEATURES dpid=<hex> n_tables=<n>
#   PORTS <no>:<name> ...
#   INSTALLED                      (the barrier after the subscriber's flows)
#   ERROR type=<t> code=<c> xid=<x>
#   PACKET-IN in_port=<n> len=<n>
# The subscriber is the lowest-numbered UNI; the NNIs are the ports
# numbered 1..15 (adapter/portno).
import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Subscriber(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.installed = set()

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        say("FEATURES dpid=%016x n_tables=%d" % (ev.msg.datapath_id, ev.msg.n_tables))
        dp.send_msg(dp.ofproto_parser.OFPPortDescStatsRequest(dp, 0))

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def ports(self, ev):
        dp = ev.msg.datapath
        ports = sorted((p.port_no, p.name.decode() if isinstance(p.name, bytes) else p.name) for p in ev.msg.body)
        say("PORTS " + " ".join("%d:%s" % p for p in ports))
        if dp.id in self.installed:
            return
        nnis = [no for no, _ in ports if 1 <= no <= 15]
        unis = [no for no, _ in ports if 15 < no < 0xff00]
        if not nnis or not unis:
            return
        self.installed.add(dp.id)
        self.install(dp, unis[0], nnis[0])

    def install(self, dp, uni, nni):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPMeterMod(dp, command=ofp.OFPMC_ADD, flags=ofp.OFPMF_KBPS | ofp.OFPMF_BURST, meter_id=1,
                                       bands=[parser.OFPMeterBandDrop(rate=100000, burst_size=1000)]))

        def flow(priority, match, actions, meter=None):
            inst = []
            if meter is not None:
                inst.append(parser.OFPInstructionMeter(meter, ofp.OFPIT_METER))
            inst.append(parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions))
            dp.send_msg(parser.OFPFlowMod(dp, table_id=0, priority=priority, match=match, instructions=inst))

        # EAPOL from the subscriber to the controller.
        flow(10000, parser.OFPMatch(in_port=uni, eth_type=0x888e),
             [parser.OFPActionPushVlan(0x8100), parser.OFPActionSetField(vlan_vid=0x1000 | 4091),
              parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])
        # LLDP from the NNI to the controller.
        flow(10000, parser.OFPMatch(in_port=nni, eth_type=0x88cc),
             [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])
        # Upstream: untagged from the UNI, metered, double tagged to the NNI.
        flow(1000, parser.OFPMatch(in_port=uni, vlan_vid=0),
             [parser.OFPActionPushVlan(0x8100), parser.OFPActionSetField(vlan_vid=0x1000 | 101),
              parser.OFPActionPushVlan(0x88a8), parser.OFPActionSetField(vlan_vid=0x1000 | 1000),
              parser.OFPActionOutput(nni)], meter=1)
        # Downstream: both tags off, to the UNI.
        flow(1000, parser.OFPMatch(in_port=nni, vlan_vid=0x1000 | 1000, metadata=101),
             [parser.OFPActionPopVlan(), parser.OFPActionPopVlan(), parser.OFPActionOutput(uni)])
        dp.send_msg(parser.OFPBarrierRequest(dp))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier(self, ev):
        say("INSTALLED")

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error(self, ev):
        say("ERROR type=%d code=%d xid=%d" % (ev.msg.type, ev.msg.code, ev.msg.xid))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        say("PACKET-IN in_port=%d len=%d" % (ev.msg.match["in_port"], len(ev.msg.data)))
