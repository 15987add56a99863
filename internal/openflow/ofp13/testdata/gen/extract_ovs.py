#!/usr/bin/python3
"""Write fixtures from a capture_ovs.py run.

Each fixture is one whole message as hex, after comment lines naming the
peer that produced it, the command that made it, and how
`ovs-ofctl ofp-print` decodes it.

usage: extract_ovs.py ovs|osken STEPS.json OUTDIR
  ovs:   STEPS.json from capture_ovs.py (ovs-ofctl <-> ovs-vswitchd)
  osken: STEPS.json from capture_osken.py (ovs-vswitchd <-> os-ken)
"""
import json
import os
import subprocess
import sys

# (fixture, step label, direction, ofp type, multipart type or None, nth match)
# c2s is ovs-ofctl -> ovs-vswitchd, s2c the reverse.
PICKS = [
    ("ovs-ofctl/hello", "hello_features_portdesc_getconfig", "c2s", 0, None, 0),
    ("ovs-vswitchd/hello", "hello_features_portdesc_getconfig", "s2c", 0, None, 0),
    ("ovs-ofctl/features_request", "hello_features_portdesc_getconfig", "c2s", 5, None, 0),
    ("ovs-vswitchd/features_reply", "hello_features_portdesc_getconfig", "s2c", 6, None, 0),
    ("ovs-ofctl/port_desc_request", "hello_features_portdesc_getconfig", "c2s", 18, 13, 0),
    ("ovs-vswitchd/port_desc_reply", "hello_features_portdesc_getconfig", "s2c", 19, 13, 0),
    ("ovs-ofctl/get_config_request", "hello_features_portdesc_getconfig", "c2s", 7, None, 0),
    ("ovs-vswitchd/get_config_reply", "set_config", "s2c", 8, None, 1),
    ("ovs-ofctl/set_config", "set_config", "c2s", 9, None, 0),
    ("ovs-ofctl/barrier_request", "set_config", "c2s", 20, None, 0),
    ("ovs-vswitchd/barrier_reply", "set_config", "s2c", 21, None, 0),
    ("ovs-ofctl/desc_request", "desc", "c2s", 18, 0, 0),
    ("ovs-vswitchd/desc_reply", "desc", "s2c", 19, 0, 0),
    ("ovs-ofctl/echo_request", "echo", "c2s", 2, None, 0),
    ("ovs-vswitchd/echo_reply", "echo", "s2c", 3, None, 0),
    ("ovs-vswitchd/echo_request", "monitor", "s2c", 2, None, 0),
    ("ovs-ofctl/meter_mod_add_kbps_drop", "meter_mod_add_drop", "c2s", 29, None, 0),
    ("ovs-ofctl/meter_mod_add_pktps_drop", "meter_mod_add_pktps", "c2s", 29, None, 0),
    ("ovs-ofctl/meter_mod_add_dscp_remark", "meter_mod_dscp_remark", "c2s", 29, None, 0),
    ("ovs-vswitchd/error_meter_bad_band", "meter_mod_dscp_remark", "s2c", 1, None, 0),
    ("ovs-ofctl/meter_mod_delete", "meter_mod_delete", "c2s", 29, None, 0),
    ("ovs-ofctl/group_mod_add_all", "group_mod_all", "c2s", 15, None, 0),
    ("ovs-ofctl/group_mod_add_select", "group_mod_select", "c2s", 15, None, 0),
    ("ovs-ofctl/group_mod_add_ff", "group_mod_ff", "c2s", 15, None, 0),
    ("ovs-ofctl/group_mod_add_indirect", "group_mod_indirect", "c2s", 15, None, 0),
    ("ovs-ofctl/group_mod_delete", "group_mod_delete", "c2s", 15, None, 0),
    ("ovs-ofctl/table_features_request", "group_mod_all", "c2s", 18, 12, 0),
    ("ovs-vswitchd/table_features_reply_last", "group_mod_all", "s2c", 19, 12, 19),
    ("ovs-ofctl/flow_mod_olt_upstream", "flow_mod_olt_upstream", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_many_fields", "flow_mod_many_fields", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_write_clear", "flow_mod_write_clear", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_mpls_ttl", "flow_mod_mpls_ttl", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_pop_mpls", "flow_mod_pop_mpls", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_trap_dhcp", "flow_mod_trap", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_bad_group", "flow_mod_bad_group", "c2s", 14, None, 0),
    ("ovs-vswitchd/error_bad_out_group", "flow_mod_bad_group", "s2c", 1, None, 0),
    ("ovs-ofctl/flow_mod_delete_strict", "flow_mod_delete_strict", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_delete_table1", "monitor", "c2s", 14, None, 0),
    ("ovs-ofctl/flow_mod_add_hard_timeout", "monitor", "c2s", 14, None, 1),
    ("ovs-ofctl/flow_stats_request", "flow_stats", "c2s", 18, 1, 0),
    ("ovs-vswitchd/flow_stats_reply", "flow_stats", "s2c", 19, 1, 0),
    ("ovs-ofctl/flow_stats_request_match", "flow_stats_table0", "c2s", 18, 1, 0),
    ("ovs-vswitchd/flow_stats_reply_table0", "flow_stats_table0", "s2c", 19, 1, 0),
    ("ovs-ofctl/aggregate_request", "aggregate", "c2s", 18, 2, 0),
    ("ovs-vswitchd/aggregate_reply", "aggregate", "s2c", 19, 2, 0),
    ("ovs-ofctl/table_stats_request", "table_stats", "c2s", 18, 3, 0),
    ("ovs-vswitchd/table_stats_reply", "table_stats", "s2c", 19, 3, 0),
    ("ovs-ofctl/port_stats_request_all", "port_stats", "c2s", 18, 4, 0),
    ("ovs-vswitchd/port_stats_reply", "port_stats", "s2c", 19, 4, 0),
    ("ovs-ofctl/port_stats_request_one", "port_stats_one", "c2s", 18, 4, 0),
    ("ovs-ofctl/group_desc_request", "group_desc", "c2s", 18, 7, 0),
    ("ovs-vswitchd/group_desc_reply", "group_desc", "s2c", 19, 7, 0),
    ("ovs-ofctl/group_stats_request", "group_stats", "c2s", 18, 6, 0),
    ("ovs-vswitchd/group_stats_reply", "group_stats", "s2c", 19, 6, 0),
    ("ovs-ofctl/group_features_request", "group_features", "c2s", 18, 8, 0),
    ("ovs-vswitchd/group_features_reply", "group_features", "s2c", 19, 8, 0),
    ("ovs-ofctl/meter_config_request", "meter_config", "c2s", 18, 10, 0),
    ("ovs-vswitchd/meter_config_reply", "meter_config", "s2c", 19, 10, 0),
    ("ovs-ofctl/meter_stats_request", "meter_stats", "c2s", 18, 9, 0),
    ("ovs-vswitchd/meter_stats_reply", "meter_stats", "s2c", 19, 9, 0),
    ("ovs-ofctl/meter_features_request", "meter_features", "c2s", 18, 11, 0),
    ("ovs-vswitchd/meter_features_reply", "meter_features", "s2c", 19, 11, 0),
    ("ovs-ofctl/packet_out", "packet_out", "c2s", 13, None, 0),
    ("ovs-ofctl/port_mod", "port_mod", "c2s", 16, None, 0),
    ("ovs-ofctl/experimenter_nx_packet_in_format", "monitor", "c2s", 4, None, 0),
    ("ovs-vswitchd/packet_in", "monitor", "s2c", 10, None, 0),
    ("ovs-vswitchd/port_status_add", "monitor", "s2c", 12, None, 0),
    ("ovs-vswitchd/port_status_modify", "monitor", "s2c", 12, None, 1),
    ("ovs-vswitchd/port_status_delete", "monitor", "s2c", 12, None, 4),
    ("ovs-vswitchd/flow_removed_delete", "monitor", "s2c", 11, None, 0),
    ("ovs-vswitchd/flow_removed_hard_timeout", "monitor", "s2c", 11, None, 1),
]


# From capture_osken.py; there c2s is ovs-vswitchd -> os-ken.
OSKEN_PICKS = [
    ("ovs-vswitchd/hello_to_osken", "osken", "c2s", 0, None, 0),
    ("os-ken/hello_live", "osken", "s2c", 0, None, 0),
    ("os-ken/role_request_master_live", "osken", "s2c", 24, None, 0),
    ("ovs-vswitchd/role_reply_master", "osken", "c2s", 25, None, 0),
    ("ovs-vswitchd/error_role_stale", "osken", "c2s", 1, None, 0),
    ("ovs-vswitchd/role_reply_nochange", "osken", "c2s", 25, None, 1),
    ("os-ken/get_async_request_live", "osken", "s2c", 26, None, 0),
    ("ovs-vswitchd/get_async_reply", "osken", "c2s", 27, None, 0),
    ("os-ken/flow_mod_write_metadata_goto", "osken", "s2c", 14, None, 0),
    ("os-ken/flow_mod_table_miss", "osken", "s2c", 14, None, 1),
    ("ovs-vswitchd/packet_in_table_miss_metadata", "osken", "c2s", 10, None, 0),
]

PEERS = {
    "ovs-ofctl/": "ovs-ofctl (controller side)",
    "ovs-vswitchd/": "ovs-vswitchd (switch side)",
    "os-ken/": "os-ken 2.5.0 osken-manager (controller side), live against ovs-vswitchd",
}


def ofp_print(hexstr):
    p = subprocess.run(["ovs-ofctl", "ofp-print", hexstr], capture_output=True, text=True)
    return (p.stdout + p.stderr).rstrip("\n")


def write_fixture(path, header, hexstr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for line in header:
            f.write(("# " + line).rstrip() + "\n")
        for i in range(0, len(hexstr), 64):
            f.write(hexstr[i:i + 64] + "\n")


def main():
    picks = {"ovs": PICKS, "osken": OSKEN_PICKS}[sys.argv[1]]
    steps = {s["label"]: s for s in json.load(open(sys.argv[2]))}
    out = sys.argv[3]
    version = subprocess.run(["ovs-ofctl", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    version = version.replace("ovs-ofctl (Open vSwitch)", "Open vSwitch")
    for name, label, direction, typ, mp, nth in picks:
        step = steps[label]
        found = []
        for m in step["msgs"]:
            b = bytes.fromhex(m["hex"])
            if m["dir"] != direction or b[1] != typ:
                continue
            if mp is not None and int.from_bytes(b[8:10], "big") != mp:
                continue
            found.append(m["hex"])
        hexstr = found[nth]
        producer = next(v for k, v in PEERS.items() if name.startswith(k))
        printed = ofp_print(hexstr)
        if len(printed.splitlines()) > 40:
            printed = "\n".join(printed.splitlines()[:40] + ["..."])
        header = [
            "peer: " + producer + ("" if name.startswith("os-ken/") else ", " + version),
            "captured on the wire by gen/ofproxy.py during: " + step["cmd"].replace("tcp:127.0.0.1:16635", "SWITCH"),
            "ovs-ofctl ofp-print decodes it as:",
        ] + ["  " + l for l in printed.splitlines()]
        write_fixture(os.path.join(out, name + ".hex"), header, hexstr)
        print(name, len(hexstr) // 2)


if __name__ == "__main__":
    main()
