#!/bin/sh
# Start (ovs.sh start) or stop (ovs.sh stop) a private OVS 3.1 in userspace
# for fixture capture: bridge br0 on the dummy datapath, OpenFlow13 only,
# dpid 0xabc, dummy port p1 (ofport 1), controller listener ptcp:16634.
set -e
S=${OVS_SCRATCH:-/tmp/ofp13-ovs}
export OVS_RUNDIR=$S/run OVS_LOGDIR=$S/log OVS_DBDIR=$S/db OVS_SYSCONFDIR=$S/etc
case "$1" in
start)
	rm -rf "$S"; mkdir -p "$S/run" "$S/log" "$S/db" "$S/etc"
	ovsdb-tool create "$OVS_DBDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ovsdb-server "$OVS_DBDIR/conf.db" --remote=punix:"$OVS_RUNDIR/db.sock" \
		--pidfile="$OVS_RUNDIR/ovsdb-server.pid" --detach --log-file="$OVS_LOGDIR/ovsdb-server.log"
	ovs-vsctl --no-wait init
	ovs-vswitchd unix:"$OVS_RUNDIR/db.sock" --enable-dummy=system --disable-system \
		--pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" --detach --log-file="$OVS_LOGDIR/ovs-vswitchd.log"
	ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy protocols=OpenFlow13 \
		other-config:datapath-id=0000000000000abc
	ovs-vsctl add-port br0 p1 -- set interface p1 type=dummy ofport_request=1
	ovs-vsctl set-controller br0 ptcp:16634:127.0.0.1
	;;
stop)
	ovs-appctl -t "$OVS_RUNDIR/ovs-vswitchd.$(cat "$OVS_RUNDIR/ovs-vswitchd.pid").ctl" exit || true
	ovs-appctl -t "$OVS_RUNDIR/ovsdb-server.$(cat "$OVS_RUNDIR/ovsdb-server.pid").ctl" exit || true
	;;
esac
