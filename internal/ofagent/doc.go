// Package ofagent is the OpenFlow agent: it shows each logical device of
// the core as one OpenFlow 1.3 switch to SDN controllers, and turns what
// the controllers ask into calls on the core's NBI (volt.v1.VoltService).
// It talks to the core through the NBI only.
//
// # Connections
//
// The agent follows the logical devices (ListLogicalDevices, then the
// ReceiveChangeEvents stream, re-read every Config.Resync). For each one it
// keeps a connection to every controller in Config.Controllers, redialed
// with backoff (100ms doubling to Config.MaxBackoff, with jitter) and
// quietly while nothing listens: one log line at info, then debug.
//
// With Config.Listen the agent also listens, so that active-only clients
// (ovs-ofctl) can connect. A client cannot name a datapath, so the listener
// port picks it:
//
//   - Config.Listen (port P) serves the first logical device in id order,
//     P+1 the second, and so on: the agent opens P+i when there is an i-th
//     logical device, and logs which device each port serves whenever that
//     changes. With one OLT (volt up) that is simply P.
//   - The device is picked when the client connects and stays for the
//     connection; when it goes, its connections close.
//   - A client on a port with no device is logged and closed. Until the
//     logical devices were first read the listener does not accept: a
//     client that connects early waits in the backlog and is then served.
//   - With port 0 only the first port exists (random, given to Ready).
//
// # Protocol
//
// A connection starts with HELLO both ways: the peer must accept OpenFlow
// 1.3 (version bitmap, or a header version of at least 0x04), else it gets
// OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE and the connection closes. That is
// the only message that ends a connection: every other bad message —
// truncated, bad length, over 64 KiB, unknown type, an unsupported field,
// action or multipart type, one a switch never receives — gets the OpenFlow
// error the codec (internal/openflow/ofp13) names for it, with the
// message's xid and first 64 bytes, and a log line at warn.
//
// Echo requests are answered; an idle peer is probed every
// Config.EchoInterval and dropped after three silent intervals. Features
// come from the logical device (its datapath id, table count and
// capabilities; n_buffers is 0 since the agent buffers nothing and
// packet-ins carry whole frames). Get/set config, role request (generation
// ids, one master, slaves refused with OFPBRC_IS_SLAVE) and get/set async
// are kept per connection as the spec says.
//
// Multipart replies (desc, port desc, port stats, flow, aggregate, table,
// table features, group desc, group stats, group features, meter config,
// meter stats, meter features) are built from NBI data at the time of the
// request and split at 64 KiB. Flow and aggregate stats filter by table,
// cookie, out_port, out_group and non-strict match here, as the NBI lists
// every flow. Table features describe every table as taking every OpenFlow
// 1.3 match field, instruction and action, since ovs-ofctl needs them
// before it sends a flow-mod; the core refuses what it cannot realise when
// the flow arrives.
//
// Flow-, group- and meter-mods go to UpdateLogicalDevice{Flow,FlowGroup,
// Meter}Table, port-mod to Enable/DisableLogicalDevicePort (OFPPC_PORT_DOWN
// only), packet-out to the StreamPacketsOut stream (output actions to
// existing ports only, checked here because the stream has no reply).
// Packet-in, port-status (LogicalPortChange) and flow-removed (FlowChange
// REMOVED of a flow with OFPFF_SEND_FLOW_REM) come from the NBI streams and
// go to every connection of the datapath whose role and async config want
// them; a controller that does not read loses them (counted, logged).
//
// # Ordering and throughput
//
// Flow-mods go to the core in batches (UpdateLogicalDeviceFlowTables, which
// applies a batch in order and reports each failure by index): what a
// controller sends while earlier batches are in the core forms the next
// one, up to 4 batches in the core and Config.MaxInFlight flow-mods
// accepted per connection. The orders controllers rely on are kept (see
// sequencer): mods of one flow apply in order; group-, meter-, port-mods
// and wildcard modify/delete are fences; a barrier is answered only when
// every earlier message is applied, after the errors of those that failed;
// reads and packet-outs wait for the mods before them.
//
// # Errors from the core
//
// The core refuses a change with a gRPC status. If the status carries a
// google.rpc.ErrorInfo with domain "openflow" and metadata "type" and
// "code", that is the error sent. Otherwise the agent maps the code and the
// core's message with errorRules (InvalidArgument naming a missing meter →
// OFPMMFC_UNKNOWN_METER, a missing group → OFPBAC_BAD_OUT_GROUP, an
// unsupported match field → OFPBMC_BAD_FIELD, an unsupported action →
// OFPBAC_BAD_TYPE, AlreadyExists → OFPFMFC_OVERLAP / OFPGMFC_GROUP_EXISTS /
// OFPMMFC_METER_EXISTS, …), and anything else (Unavailable, a timeout, an
// internal error) to the request type's generic failure
// (OFPFMFC_UNKNOWN, OFPGMFC_EPERM, OFPMMFC_UNKNOWN, OFPPMFC_EPERM,
// OFPBRC_EPERM for reads).
//
// # Port numbers and ovs-ofctl
//
// Logical port numbers are the core's (adapter/portno): NNIs are 1..15,
// UNIs pon<<12|onu<<4|uni up to 0xfeff. Open vSwitch keeps 16-bit port
// numbers and its tools take OpenFlow 1.3 port numbers below 0xff00, so
// every port fits: ovs-ofctl -O OpenFlow13 show, dump-ports-desc,
// add-flow, dump-flows, add-group and packet-out work as they are, and a
// flow names a port by number (in_port=1, output:16) or by its name
// (in_port=nni-1, output:uni-16, which ovs-ofctl reads from the port
// descriptions; it prints names only on a terminal or with --names).
package ofagent
