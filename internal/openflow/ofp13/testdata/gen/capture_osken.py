#!/usr/bin/python3
"""Connect OVS (ovs.sh) to an os-ken controller running osken_app.py through
ofproxy.py, inject a frame, and write the messages both sides exchanged to
OUT as JSON (dir "c2s" is ovs-vswitchd to os-ken here).

usage: capture_osken.py OUT
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, OVS_RUNDIR="/tmp/ofp13-ovs/run")
LOG = "/tmp/ofp13-osken-cap.jsonl"
FRAME = ("ffffffffffff" "001122334455" "0800"
         "45000024000000004011f9c90a010002ffffffff" "00440043001000000102030405060708")


def main():
    if os.path.exists(LOG):
        os.remove(LOG)
    ctl = subprocess.Popen(["/usr/bin/python3", "/usr/bin/osken-manager", "--ofp-listen-host", "127.0.0.1",
                            "--ofp-tcp-listen-port", "16660", os.path.join(HERE, "osken_app.py")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proxy = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "ofproxy.py"), "16661", "16660", LOG])
    try:
        time.sleep(2)
        subprocess.run(["ovs-vsctl", "set-controller", "br0", "ptcp:16634:127.0.0.1", "tcp:127.0.0.1:16661"],
                       env=ENV, check=True)
        time.sleep(3)
        subprocess.run(["ovs-appctl", "netdev-dummy/receive", "p1", FRAME], env=ENV, check=True)
        time.sleep(1)
        subprocess.run(["ovs-vsctl", "set-controller", "br0", "ptcp:16634:127.0.0.1"], env=ENV, check=True)
        time.sleep(1)
    finally:
        proxy.terminate()
        ctl.terminate()
        out, _ = ctl.communicate()
        proxy.wait()
    msgs = [json.loads(l) for l in open(LOG)]
    json.dump([{"label": "osken", "cmd": "osken-manager osken_app.py with OVS br0 as its switch",
                "stdout": out, "msgs": msgs}], open(sys.argv[1], "w"), indent=1)


if __name__ == "__main__":
    main()
