"""os-ken probe app for capture_osken.py: once OVS connects, exercise role,
async config, a two-table pipeline that ends in a table-miss to the
controller, and a stale role request that OVS must refuse.

run: osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port 16660 osken_app.py
"""
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


class Probe(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp, p = dp.ofproto, dp.ofproto_parser
        dp.send_msg(p.OFPRoleRequest(dp, ofp.OFPCR_ROLE_MASTER, 7))
        dp.send_msg(p.OFPGetAsyncRequest(dp))
        dp.send_msg(p.OFPSetAsync(dp, [0x7, 0x0], [0x7, 0x7], [0xf, 0x0]))
        dp.send_msg(p.OFPFlowMod(dp, table_id=0, priority=10, match=p.OFPMatch(in_port=1),
                                 instructions=[p.OFPInstructionWriteMetadata(0x64, 0xfff),
                                               p.OFPInstructionGotoTable(7)]))
        dp.send_msg(p.OFPFlowMod(dp, table_id=7, priority=0, match=p.OFPMatch(), instructions=[
            p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                    [p.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])]))
        dp.send_msg(p.OFPBarrierRequest(dp))
        dp.send_msg(p.OFPRoleRequest(dp, ofp.OFPCR_ROLE_SLAVE, 6))
        dp.send_msg(p.OFPRoleRequest(dp, ofp.OFPCR_ROLE_NOCHANGE, 0))
        dp.send_msg(p.OFPMeterFeaturesStatsRequest(dp, 0))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        self.logger.info("packet-in %s", ev.msg)
