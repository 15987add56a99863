package ponsimolt

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// olt is one adopted OLT: its ponsim connection, what the adapter wants of
// it, and what it last told the core about it and its ONUs.
type olt struct {
	id   string
	addr string
	log  *slog.Logger
	conn *grpc.ClientConn // nil when the address did not parse (dialErr)
	sim  ponsimv1.PonSimClient

	dialErr error

	packetInsDropped atomic.Uint64 // frames followFrames had no room for

	// adminMu orders the calls that enable or disable ponsim's OLT: the
	// core's (disable, re-enable) and the sync's. Lock order: adminMu, mu.
	adminMu sync.Mutex

	mu          sync.Mutex // guards the fields below
	sess        *session
	enabled     bool // what the core asked for: enabled or disabled
	rebooting   bool
	unreachable bool              // the core was told the OLT is UNREACHABLE
	children    map[string]*child // by serial number: the ONUs the core knows
	ponsKnown   bool              // the PONs' light was checked once (ponlos.go)
	darkPONs    map[uint32]bool   // PON ports reported dark; nil: report every PON next check
	// onuEvents counts the ONU events read from ponsim's stream;
	// lastEvent is that count when each ONU's last one was read. A sync
	// reports an ONU from a snapshot only if no event about it was read
	// after the snapshot was asked for (newerEvent).
	onuEvents uint64
	lastEvent map[string]uint64
}

// session is a running session goroutine.
type session struct {
	stop func()
	done chan struct{}
}

// child is what the adapter last knew of an ONU device in the core.
type child struct {
	id     string
	oper   voltv1.OperStatus
	conn   voltv1.ConnectStatus
	reason bool // the adapter gave it a reason to clear when it is back
	// alarmed: the adapter raised its power-off alarms (its reason says
	// "dying gasp", which the core keeps), to clear when it is back.
	alarmed bool
}

func newOLT(id, addr string, log *slog.Logger) *olt {
	o := &olt{id: id, addr: addr, log: log.With("device", id, "ponsim", addr), children: make(map[string]*child), lastEvent: make(map[string]uint64)}
	o.conn, o.dialErr = dialPonsim(addr)
	if o.dialErr == nil {
		o.sim = ponsimv1.NewPonSimClient(o.conn)
	}
	return o
}

// dialPonsim makes a client of ponsim at addr. It connects lazily and,
// after ponsim went away, tries again every few seconds at most.
func dialPonsim(addr string) (*grpc.ClientConn, error) {
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  retryMin,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   retryMax,
			},
			MinConnectTimeout: dialTimeout,
		}))
	if err != nil {
		return nil, fmt.Errorf("ponsim address %q: %w", addr, err)
	}
	return cc, nil
}

func (o *olt) close() {
	if o.conn != nil {
		o.conn.Close()
	}
}

func (o *olt) setEnabled(v bool) {
	o.mu.Lock()
	o.enabled = v
	o.mu.Unlock()
}

func (o *olt) isEnabled() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.enabled
}

func (o *olt) setRebooting(v bool) {
	o.mu.Lock()
	o.rebooting = v
	o.mu.Unlock()
}

func (o *olt) isRebooting() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rebooting
}

// running reports whether a session follows ponsim.
func (o *olt) running() bool {
	o.mu.Lock()
	s := o.sess
	o.mu.Unlock()
	if s == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (o *olt) setSession(s *session) {
	o.mu.Lock()
	o.sess = s
	o.mu.Unlock()
}

// stopSession ends the session and waits for it; never call it from the
// session itself.
func (o *olt) stopSession() {
	o.mu.Lock()
	s := o.sess
	o.sess = nil
	o.mu.Unlock()
	if s != nil {
		s.stop()
	}
}

// child returns a copy of what is known of the ONU with serial, or nil.
func (o *olt) child(serial string) *child {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.children[serial]
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}

func (o *olt) setChild(serial string, c *child) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c == nil {
		delete(o.children, serial)
		return
	}
	o.children[serial] = c
}

// addChildren learns the ONUs the core has that the adapter does not know
// (after a restart). What the adapter knows stays: it was reported after
// the core's answer may have been taken.
func (o *olt) addChildren(devs []*voltv1.Device) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, d := range devs {
		if d.GetSerialNumber() == "" || o.children[d.GetSerialNumber()] != nil {
			continue
		}
		o.children[d.GetSerialNumber()] = childOf(d)
	}
}

// childOf is what the adapter expects of the ONU device d. An ONU being
// adopted is taken for ACTIVE and REACHABLE, which the ONU adapter is about
// to report.
func childOf(d *voltv1.Device) *child {
	c := &child{id: d.GetId(), oper: d.GetOperStatus(), conn: d.GetConnectStatus(), reason: d.GetReason() != "",
		alarmed: strings.HasPrefix(d.GetReason(), dyingGaspReason)}
	if d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED {
		switch d.GetOperStatus() {
		case voltv1.OperStatus_OPER_STATUS_ACTIVATING, voltv1.OperStatus_OPER_STATUS_DISCOVERED, voltv1.OperStatus_OPER_STATUS_UNSPECIFIED:
			c.oper, c.conn = voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE
		}
	}
	return c
}

// forgetReported drops what the adapter last told the core, so the next
// sync reports everything again (after the core restarted).
func (o *olt) forgetReported() {
	o.mu.Lock()
	o.children = make(map[string]*child)
	o.unreachable = false
	o.mu.Unlock()
}

// readONUEvent notes that an event about the ONU serial was read from the
// stream, in the stream's order.
func (o *olt) readONUEvent(serial string) {
	o.mu.Lock()
	o.onuEvents++
	o.lastEvent[serial] = o.onuEvents
	o.mu.Unlock()
}

// eventMark is taken before asking ponsim for a snapshot: an ONU event
// read after it may be newer than the snapshot.
func (o *olt) eventMark() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.onuEvents
}

// newerEvent says whether an event about the ONU serial was read after
// mark. Such an event is reported in the ONU's queue, as is every event
// that follows it, so a snapshot taken after mark adds nothing to them and
// may be older than what they already reported.
func (o *olt) newerEvent(serial string, mark uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastEvent[serial] > mark
}

// reachableChildren returns the serial numbers of the ONUs not known to be
// unreachable.
func (o *olt) reachableChildren() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for serial, c := range o.children {
		if c.conn != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
			out = append(out, serial)
		}
	}
	return out
}

// info asks ponsim for the OLT and its ONUs.
func (o *olt) info(ctx context.Context, timeout time.Duration) (*ponsimv1.DeviceInfo, error) {
	if o.dialErr != nil {
		return nil, o.dialErr
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	info, err := o.sim.GetDeviceInfo(ctx, &emptypb.Empty{})
	if err != nil {
		return nil, o.simError("get device info", err)
	}
	return info, nil
}

// simCall is a PonSim method that takes a device: a method expression
// such as ponsimv1.PonSimClient.EnableDevice.
type simCall func(ponsimv1.PonSimClient, context.Context, *ponsimv1.DeviceRef, ...grpc.CallOption) (*emptypb.Empty, error)

// call runs one ponsim call on the OLT (an empty DeviceRef), bounded by
// callTimeout.
func (o *olt) call(ctx context.Context, what string, fn simCall) error {
	if o.dialErr != nil {
		return o.dialErr
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := fn(o.sim, ctx, &ponsimv1.DeviceRef{}); err != nil {
		return o.simError(what, err)
	}
	return nil
}

// simError names ponsim and the call in err, keeping its gRPC code, in
// words a person can act on: "ponsim at 127.0.0.1:50060: get device info:
// connection refused".
func (o *olt) simError(what string, err error) error {
	st := status.Convert(err)
	return status.Errorf(st.Code(), "ponsim at %s: %s: %s", o.addr, what, readable(st.Message()))
}

// readable shortens gRPC's transport errors to their cause:
// `connection error: desc = "transport: Error while dialing: dial tcp
// 127.0.0.1:1: connect: connection refused"` becomes "connection refused".
func readable(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "transport: ") {
		msg = msg[i+2:]
	}
	msg = strings.TrimSuffix(msg, `"`)
	if msg == "context deadline exceeded" {
		return "no answer within " + dialTimeout.String()
	}
	return msg
}
