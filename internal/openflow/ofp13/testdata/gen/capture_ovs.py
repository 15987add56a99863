#!/usr/bin/python3
"""Drive ovs-ofctl against OVS 3.1 (ovs-vswitchd, dummy datapath) through
ofproxy.py and record which messages each command put on the wire.

Needs: ovs.sh has started OVS with bridge br0 (ptcp:16634) and ofproxy.py
listens on 16635 and logs to CAPLOG. Writes a JSON list of
{"label", "cmd", "msgs": [{"dir", "hex"}]} to OUT.

usage: capture_ovs.py CAPLOG OUT
"""
import json
import os
import subprocess
import sys
import time

SW = "tcp:127.0.0.1:16635"
OFCTL = ["ovs-ofctl", "-O", "OpenFlow13"]
ENV = dict(os.environ, OVS_RUNDIR="/tmp/ofp13-ovs/run")

ETH_UDP_DHCP = (
    # broadcast DHCP discover-like frame, C-tag 100 pcp 3
    "ffffffffffff" "001122334455" "8100" "6064" "0800"
    "45000024000000004011f9c90a010002ffffffff"
    "00440043001000000102030405060708"
)

STEPS = [
    ("hello_features_portdesc_getconfig", OFCTL + ["show", SW]),
    ("desc", OFCTL + ["dump-desc", SW]),
    ("echo", OFCTL + ["probe", SW]),
    ("set_config", OFCTL + ["set-frags", SW, "drop"]),
    ("meter_mod_add_drop", OFCTL + ["add-meter", SW,
        "meter=1 kbps burst stats bands=type=drop rate=10000 burst_size=1000"]),
    ("meter_mod_add_pktps", OFCTL + ["add-meter", SW,
        "meter=2 pktps stats bands=type=drop rate=100"]),
    ("meter_mod_dscp_remark", OFCTL + ["add-meter", SW,
        "meter=3 kbps bands=type=dscp_remark rate=500 prec_level=1"]),
    ("group_mod_all", OFCTL + ["add-group", SW,
        "group_id=1,type=all,bucket=output:1,bucket=actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1"]),
    ("group_mod_select", OFCTL + ["add-group", SW,
        "group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:LOCAL"]),
    ("group_mod_ff", OFCTL + ["add-group", SW,
        "group_id=3,type=fast_failover,bucket=watch_port:1,actions=output:1"]),
    ("group_mod_indirect", OFCTL + ["add-group", SW,
        "group_id=4,type=indirect,bucket=actions=set_queue:3,output:1"]),
    ("flow_mod_olt_upstream", OFCTL + ["add-flow", SW,
        "table=0,priority=1000,in_port=1,dl_vlan=100,cookie=0x1234,"
        "actions=meter:1,push_vlan:0x88a8,set_field:4296->vlan_vid,write_metadata:0x64/0xfff,goto_table:1"]),
    ("flow_mod_many_fields", OFCTL + ["add-flow", SW,
        "table=1,priority=200,in_port=1,dl_vlan=100,dl_vlan_pcp=3,dl_src=00:11:22:33:44:55,"
        "dl_dst=01:00:5e:00:00:00/ff:ff:ff:00:00:00,udp,nw_src=10.1.0.0/16,nw_dst=10.0.0.1,"
        "tp_src=68,tp_dst=67,metadata=0x5/0xff,tun_id=0x10,idle_timeout=60,hard_timeout=600,"
        "send_flow_rem,actions=pop_vlan,set_queue:3,group:1,CONTROLLER:65535"]),
    ("flow_mod_write_clear", OFCTL + ["add-flow", SW,
        "table=2,priority=10,tcp,tp_dst=80,actions=clear_actions,write_actions(output:1)"]),
    ("flow_mod_mpls_ttl", OFCTL + ["add-flow", SW,
        "table=3,priority=5,ip,actions=dec_ttl,mod_nw_ttl:9,push_mpls:0x8847,"
        "set_mpls_ttl:10,dec_mpls_ttl,output:1"]),
    ("flow_mod_pop_mpls", OFCTL + ["add-flow", SW,
        "table=3,priority=6,mpls,actions=pop_mpls:0x0800,output:1"]),
    ("flow_mod_trap", OFCTL + ["add-flow", SW,
        "table=0,priority=50000,in_port=1,dl_vlan=100,udp,tp_src=68,tp_dst=67,actions=CONTROLLER:65535"]),
    ("flow_mod_bad_group", OFCTL + ["add-flow", SW, "table=4,actions=group:99"]),
    ("flow_stats", OFCTL + ["dump-flows", SW]),
    ("flow_stats_table0", OFCTL + ["dump-flows", SW, "table=0,in_port=1"]),
    ("aggregate", OFCTL + ["dump-aggregate", SW]),
    ("table_stats", OFCTL + ["dump-tables", SW]),
    ("port_stats", OFCTL + ["dump-ports", SW]),
    ("port_stats_one", OFCTL + ["dump-ports", SW, "1"]),
    ("group_desc", OFCTL + ["dump-groups", SW]),
    ("group_stats", OFCTL + ["dump-group-stats", SW]),
    ("group_features", OFCTL + ["dump-group-features", SW]),
    ("meter_config", OFCTL + ["dump-meters", SW]),
    ("meter_stats", OFCTL + ["meter-stats", SW]),
    ("meter_features", OFCTL + ["meter-features", SW]),
    ("packet_out", OFCTL + ["packet-out", SW,
        "in_port=controller packet=" + ETH_UDP_DHCP + " actions=output:1"]),
    ("port_mod", OFCTL + ["mod-port", SW, "1", "no-flood"]),
    ("flow_mod_delete_strict", OFCTL + ["--strict", "del-flows", SW,
        "table=2,priority=10,tcp,tp_dst=80"]),
    ("group_mod_delete", OFCTL + ["del-groups", SW, "group_id=4"]),
    ("meter_mod_delete", OFCTL + ["del-meters", SW, "meter=2"]),
]


def count(path):
    with open(path) as f:
        return sum(1 for _ in f)


def lines(path, start):
    with open(path) as f:
        return [json.loads(l) for l in f.readlines()[start:]]


def main():
    caplog, out = sys.argv[1], sys.argv[2]
    result = []

    def step(label, cmd):
        n = count(caplog)
        p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
        time.sleep(0.3)
        msgs = [{"dir": m["dir"], "hex": m["hex"]} for m in lines(caplog, n)]
        result.append({"label": label, "cmd": " ".join(cmd), "rc": p.returncode,
                       "stdout": p.stdout, "stderr": p.stderr, "msgs": msgs})

    for label, cmd in STEPS:
        step(label, cmd)

    # Asynchronous messages: a monitor connection sees packet-in, flow-removed
    # and port-status while other commands cause them.
    n = count(caplog)
    mon = subprocess.Popen(OFCTL + ["--packet-in-format=standard", "monitor", SW, "65534"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    time.sleep(1.0)
    subprocess.run(["ovs-appctl", "netdev-dummy/receive", "p1", ETH_UDP_DHCP], env=ENV, check=True)
    time.sleep(0.5)
    subprocess.run(["ovs-vsctl", "--", "add-port", "br0", "p2", "--", "set", "interface", "p2",
                    "type=dummy", "ofport_request=2"], env=ENV, check=True)
    time.sleep(0.5)
    subprocess.run(OFCTL + ["mod-port", SW, "p2", "down"], env=ENV, check=True)
    time.sleep(0.5)
    subprocess.run(["ovs-vsctl", "del-port", "br0", "p2"], env=ENV, check=True)
    time.sleep(0.5)
    subprocess.run(OFCTL + ["del-flows", SW, "table=1"], env=ENV, check=True)
    time.sleep(0.5)
    subprocess.run(OFCTL + ["add-flow", SW, "table=5,priority=7,cookie=0x77,hard_timeout=1,send_flow_rem,"
                    "ip,nw_dst=192.168.0.0/24,actions=drop"], env=ENV, check=True)
    time.sleep(2.5)
    mon.terminate()
    text, _ = mon.communicate()
    msgs = [{"dir": m["dir"], "hex": m["hex"]} for m in lines(caplog, n)]
    result.append({"label": "monitor", "cmd": "monitor + netdev-dummy/receive + add/mod/del-port + del-flows",
                   "rc": mon.returncode, "stdout": text, "stderr": "", "msgs": msgs})

    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
