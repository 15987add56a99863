package ofagent

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// datapath is one logical device as an OpenFlow switch: its description,
// a cache of its ports, its controller connections and the role state they
// share.
type datapath struct {
	a   *agent
	id  string
	log *slog.Logger

	ctx    context.Context // ends when the logical device goes or Run ends
	cancel context.CancelFunc
	wg     sync.WaitGroup // the dialers and the connections

	mu     sync.Mutex // guards the fields below
	ld     *voltv1.LogicalDevice
	ports  map[uint32]*voltv1.LogicalPort // by port number
	conns  map[*conn]struct{}
	genID  uint64 // the last master/slave generation id
	genSet bool   // whether genID was ever set

	refusals refusals // flow-mods answered before a device refused them (refusals.go)
}

func newDatapath(a *agent, ld *voltv1.LogicalDevice) *datapath {
	ctx, cancel := context.WithCancel(a.ctx)
	return &datapath{
		a: a, id: ld.GetId(),
		log:    a.log.With("logical_device", ld.GetId()),
		ctx:    ctx,
		cancel: cancel,
		ld:     ld,
		ports:  map[uint32]*voltv1.LogicalPort{},
		conns:  map[*conn]struct{}{},
	}
}

// start dials every controller, each in its own goroutine; the agent waits
// for the datapath.
func (dp *datapath) start() {
	for _, addr := range dp.a.cfg.Controllers {
		dp.wg.Add(1)
		go func() {
			defer dp.wg.Done()
			dp.dialLoop(addr)
		}()
	}
	dp.a.goAttach(func() {
		<-dp.ctx.Done()
		dp.wg.Wait()
	})
}

// stop closes the datapath's connections and stops its dialers; it does not
// wait (Run does).
func (dp *datapath) stop() { dp.cancel() }

func (dp *datapath) update(ld *voltv1.LogicalDevice) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	dp.ld = ld
}

func (dp *datapath) logicalDevice() *voltv1.LogicalDevice {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	return dp.ld
}

// dialLoop keeps one connection to a controller, redialing with backoff.
// While the controller does not answer it retries quietly: the first
// failure is logged at info, the rest at debug.
func (dp *datapath) dialLoop(addr string) {
	ctx := dp.ctx
	log := dp.log.With("controller", addr)
	bo := backoff{max: dp.a.cfg.MaxBackoff}
	quiet := false
	var d net.Dialer
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		nc, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !quiet {
				log.Info("controller not reachable; retrying quietly", "err", err)
				quiet = true
			} else {
				log.Debug("controller still not reachable", "err", err)
			}
			if !bo.wait(ctx) {
				return
			}
			continue
		}
		quiet = false
		log.Info("connected to controller")
		start := time.Now()
		err = dp.serve(nc)
		if ctx.Err() != nil {
			return
		}
		log.Info("controller connection ended; redialing", "err", err)
		if time.Since(start) > 10*time.Second {
			bo.reset()
		}
		if !bo.wait(ctx) {
			return
		}
	}
}

// serve runs one connection to the end, active or passive.
func (dp *datapath) serve(nc net.Conn) error {
	c := newConn(dp, nc)
	return c.serve()
}

// attach adds a connection that finished its handshake; false when the
// datapath is already stopping.
func (dp *datapath) attach(c *conn) bool {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if dp.ctx.Err() != nil {
		return false
	}
	dp.conns[c] = struct{}{}
	return true
}

func (dp *datapath) detach(c *conn) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	delete(dp.conns, c)
}

// syncPorts re-reads the ports and sends port-status for what changed
// since the cache was last filled.
func (dp *datapath) syncPorts(ctx context.Context) error {
	cctx, cancel := dp.a.call(ctx)
	ports, err := dp.a.nbi.ListLogicalDevicePorts(cctx, &voltv1.ID{Id: dp.id})
	cancel()
	if err != nil {
		return fmt.Errorf("list ports of logical device %s: %w", dp.id, err)
	}
	type change struct {
		kind voltv1.ChangeKind
		lp   *voltv1.LogicalPort
	}
	var changes []change
	dp.mu.Lock()
	next := map[uint32]*voltv1.LogicalPort{}
	for _, lp := range ports.GetItems() {
		no := lp.GetOfpPort().GetPortNo()
		next[no] = lp
		old, ok := dp.ports[no]
		switch {
		case !ok:
			changes = append(changes, change{voltv1.ChangeKind_CHANGE_KIND_ADDED, lp})
		case !proto.Equal(old.GetOfpPort(), lp.GetOfpPort()):
			changes = append(changes, change{voltv1.ChangeKind_CHANGE_KIND_MODIFIED, lp})
		}
	}
	for no, lp := range dp.ports {
		if _, ok := next[no]; !ok {
			changes = append(changes, change{voltv1.ChangeKind_CHANGE_KIND_REMOVED, lp})
		}
	}
	dp.ports = next
	dp.mu.Unlock()
	for _, ch := range changes {
		dp.sendPortStatus(ch.kind, ch.lp)
	}
	return nil
}

// portChanged applies a port event to the cache and tells the controllers.
func (dp *datapath) portChanged(kind voltv1.ChangeKind, lp *voltv1.LogicalPort) {
	no := lp.GetOfpPort().GetPortNo()
	dp.mu.Lock()
	old, had := dp.ports[no]
	if kind == voltv1.ChangeKind_CHANGE_KIND_REMOVED {
		delete(dp.ports, no)
	} else {
		dp.ports[no] = lp
	}
	dp.mu.Unlock()
	switch {
	case kind == voltv1.ChangeKind_CHANGE_KIND_REMOVED && !had:
		return // already gone (a resync saw it first)
	case kind != voltv1.ChangeKind_CHANGE_KIND_REMOVED && had && proto.Equal(old.GetOfpPort(), lp.GetOfpPort()):
		return // nothing a controller sees changed
	case kind == voltv1.ChangeKind_CHANGE_KIND_ADDED && had:
		kind = voltv1.ChangeKind_CHANGE_KIND_MODIFIED
	case kind == voltv1.ChangeKind_CHANGE_KIND_MODIFIED && !had:
		kind = voltv1.ChangeKind_CHANGE_KIND_ADDED
	}
	dp.sendPortStatus(kind, lp)
}

// cachedPorts returns the cached ports by number.
func (dp *datapath) cachedPorts() []*voltv1.LogicalPort {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	out := make([]*voltv1.LogicalPort, 0, len(dp.ports))
	for _, lp := range dp.ports {
		out = append(out, lp)
	}
	slices.SortFunc(out, func(a, b *voltv1.LogicalPort) int {
		return cmp.Compare(a.GetOfpPort().GetPortNo(), b.GetOfpPort().GetPortNo())
	})
	return out
}

// port returns the cached port n.
func (dp *datapath) port(n uint32) (*voltv1.LogicalPort, bool) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	lp, ok := dp.ports[n]
	return lp, ok
}

var portReasons = map[voltv1.ChangeKind]openflowv1.PortReason{
	voltv1.ChangeKind_CHANGE_KIND_ADDED:    openflowv1.PortReason_PORT_REASON_ADD,
	voltv1.ChangeKind_CHANGE_KIND_MODIFIED: openflowv1.PortReason_PORT_REASON_MODIFY,
	voltv1.ChangeKind_CHANGE_KIND_REMOVED:  openflowv1.PortReason_PORT_REASON_DELETE,
}

func (dp *datapath) sendPortStatus(kind voltv1.ChangeKind, lp *voltv1.LogicalPort) {
	m, err := ofp13.PortStatusFromProto(&openflowv1.PortStatus{Reason: portReasons[kind], Desc: lp.GetOfpPort()})
	if err != nil {
		dp.log.Warn("port cannot be described in OpenFlow; no port-status sent", "port", lp.GetId(), "err", err)
		return
	}
	dp.broadcast(asyncPortStatus, uint8(m.Reason), m)
}

// packetIn sends a packet-in from the core to the controllers.
func (dp *datapath) packetIn(p *openflowv1.PacketIn) {
	m, err := ofp13.PacketInFromProto(p)
	if err != nil {
		dp.log.Warn("packet-in cannot be encoded; dropped", "err", err)
		return
	}
	dp.broadcast(asyncPacketIn, uint8(m.Reason), m)
}

// flowRemoved sends flow-removed for a flow that left the table, when the
// flow asked for it (OFPFF_SEND_FLOW_REM).
func (dp *datapath) flowRemoved(fc *voltv1.FlowChange) {
	f := fc.GetFlow()
	if f.GetFlags()&uint32(ofp13.FlowFlagSendFlowRem) == 0 {
		return
	}
	reason := fc.GetRemovedReason()
	if reason == openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_UNSPECIFIED {
		reason = openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_DELETE
	}
	m, err := ofp13.FlowRemovedFromProto(&openflowv1.FlowRemoved{
		Cookie: f.GetCookie(), Priority: f.GetPriority(), Reason: reason, TableId: f.GetTableId(),
		DurationSec: f.GetDurationSec(), DurationNsec: f.GetDurationNsec(),
		IdleTimeout: f.GetIdleTimeout(), HardTimeout: f.GetHardTimeout(),
		PacketCount: f.GetPacketCount(), ByteCount: f.GetByteCount(), Match: f.GetMatch(),
	})
	if err != nil {
		dp.log.Warn("flow-removed cannot be encoded; dropped", "err", err)
		return
	}
	dp.broadcast(asyncFlowRemoved, uint8(m.Reason), m)
}

// broadcast encodes an asynchronous message once and offers it to every
// connection, which sends it if its role and async config want it.
func (dp *datapath) broadcast(kind asyncKind, reason uint8, m ofp13.Message) {
	b, err := m.MarshalBinary()
	if err != nil {
		dp.log.Warn("cannot encode an asynchronous message; dropped", "type", m.Hdr().Type, "err", err)
		return
	}
	dp.mu.Lock()
	conns := make([]*conn, 0, len(dp.conns))
	for c := range dp.conns {
		conns = append(conns, c)
	}
	dp.mu.Unlock()
	for _, c := range conns {
		c.sendAsync(kind, reason, b)
	}
}

// setRole applies a role request from c (OpenFlow 1.3.5 §6.3.6): a
// master or slave request with a generation id older than the last one is
// stale; a new master turns the other masters into slaves.
func (dp *datapath) setRole(c *conn, role ofp13.ControllerRole, gen uint64) (ofp13.ControllerRole, uint64, error) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if role == ofp13.RoleMaster || role == ofp13.RoleSlave {
		if dp.genSet && int64(gen-dp.genID) < 0 {
			return 0, 0, ofp13.Errorf(ofp13.ErrTypeRoleRequestFailed, ofp13.RoleRequestFailedStale,
				"generation id %d is older than %d", gen, dp.genID)
		}
		dp.genID, dp.genSet = gen, true
	}
	if role == ofp13.RoleNoChange {
		return c.getRole(), dp.genID, nil
	}
	if role == ofp13.RoleMaster {
		for o := range dp.conns {
			if o != c && o.getRole() == ofp13.RoleMaster {
				o.setRole(ofp13.RoleSlave)
				o.log.Info("another controller became master; this one is now slave")
			}
		}
	}
	c.setRole(role)
	return role, dp.genID, nil
}
