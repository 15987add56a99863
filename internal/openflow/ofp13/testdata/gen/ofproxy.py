#!/usr/bin/python3
"""Recording OpenFlow proxy used to capture fixture bytes from real peers.

Listens on LISTEN_PORT, relays every connection to UPSTREAM_PORT on
127.0.0.1 and appends each complete OpenFlow message, framed by its header
length, to LOG as one JSON line: {"conn": n, "dir": "c2s"|"s2c", "hex": ...}.
c2s is controller (ovs-ofctl, os-ken) to switch (ovs-vswitchd).

usage: ofproxy.py LISTEN_PORT UPSTREAM_PORT LOG
"""
import json
import socket
import sys
import threading

lock = threading.Lock()


def pump(conn_id, direction, src, dst, log):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            while len(buf) >= 8:
                n = int.from_bytes(buf[2:4], "big")
                if n < 8 or len(buf) < n:
                    break
                msg, buf = buf[:n], buf[n:]
                with lock:
                    log.write(json.dumps({"conn": conn_id, "dir": direction, "hex": msg.hex()}) + "\n")
                    log.flush()
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    listen_port, upstream_port, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    log = open(path, "a")
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(16)
    conn_id = 0
    while True:
        c, _ = ls.accept()
        conn_id += 1
        u = socket.create_connection(("127.0.0.1", upstream_port))
        threading.Thread(target=pump, args=(conn_id, "c2s", c, u, log), daemon=True).start()
        threading.Thread(target=pump, args=(conn_id, "s2c", u, c, log), daemon=True).start()


if __name__ == "__main__":
    main()
