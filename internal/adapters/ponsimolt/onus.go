package ponsimolt

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// dyingGaspReason starts the reason of an ONU powered off, which marks it
// as having its power-off alarms raised.
const dyingGaspReason = "dying gasp"

// onuKey is the work queue of one ONU: under the OLT's key, so forgetting
// the OLT ends it, and apart from the other ONUs, so they run in parallel.
func onuKey(o *olt, serial string) string { return o.id + "/" + serial }

// onu queues the report of one ONU event.
func (h *handler) onu(o *olt, typ ponsimv1.EventType, onu *ponsimv1.OnuInfo) {
	if onu.GetSerialNumber() == "" {
		o.log.Warn("ponsim event about an ONU without a serial number", "type", typ)
		return
	}
	h.a.Submit(onuKey(o, onu.GetSerialNumber()), func(ctx context.Context) error {
		return retry(ctx, func() error { return h.reportONU(ctx, o, typ, onu) })
	})
}

// reportSnapshot reports an ONU as a snapshot of ponsim taken after mark
// shows it, unless an event about it read since is newer: the sync that
// took the snapshot can be slow (a core that is starting), and the events
// go on meanwhile.
func (h *handler) reportSnapshot(ctx context.Context, o *olt, onu *ponsimv1.OnuInfo, mark uint64) error {
	if o.newerEvent(onu.GetSerialNumber(), mark) {
		return nil
	}
	return retry(ctx, func() error {
		return h.reportONU(ctx, o, ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, onu)
	})
}

// retry runs fn again while the core does not answer (a burst of
// thousands of ONUs, a core restarting), a few times with backoff: the
// reports are idempotent, and ponsim does not send the event again.
func retry(ctx context.Context, fn func() error) error {
	delay := retryMin
	for attempt := 1; ; attempt++ {
		err := fn()
		if !unreachable(err) || attempt == reportAttempts {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, retryMax)
	}
}

// onuUnreachable queues the report that an ONU is out of reach with its
// OLT.
func (h *handler) onuUnreachable(o *olt, serial string) {
	h.a.Submit(onuKey(o, serial), func(ctx context.Context) error {
		c := o.child(serial)
		if c == nil || c.conn == voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
			return nil
		}
		return h.setChildState(ctx, o, serial, c, onuState{conn: voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE})
	})
}

// onuState is what the core should show of an ONU; UNSPECIFIED fields stay
// as they are.
type onuState struct {
	oper   voltv1.OperStatus
	conn   voltv1.ConnectStatus
	reason string
}

var onuActive = onuState{oper: voltv1.OperStatus_OPER_STATUS_ACTIVE, conn: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE}

// desired maps a ponsim event to the ONU's state; ok is false when the
// event changes nothing the core shows.
func desired(typ ponsimv1.EventType, onu *ponsimv1.OnuInfo) (st onuState, ok bool) {
	if typ == ponsimv1.EventType_EVENT_TYPE_ONU_LOST || onu.GetState() == ponsimv1.OnuState_ONU_STATE_POWERED_OFF {
		if onu.GetState() == ponsimv1.OnuState_ONU_STATE_POWERED_OFF {
			return onuState{
				oper:   voltv1.OperStatus_OPER_STATUS_INACTIVE,
				conn:   voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE,
				reason: fmt.Sprintf(dyingGaspReason+": ONU %s lost power and left PON %d", onu.GetSerialNumber(), portno.PONOf(onu.GetPonPort())),
			}, true
		}
		return onuState{
			oper:   voltv1.OperStatus_OPER_STATUS_INACTIVE,
			conn:   voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE,
			reason: fmt.Sprintf("lost: ONU %s left PON %d", onu.GetSerialNumber(), portno.PONOf(onu.GetPonPort())),
		}, true
	}
	switch onu.GetState() {
	case ponsimv1.OnuState_ONU_STATE_ACTIVE, ponsimv1.OnuState_ONU_STATE_UNSPECIFIED:
		return onuActive, true
	case ponsimv1.OnuState_ONU_STATE_REBOOTING:
		return onuState{
			oper:   voltv1.OperStatus_OPER_STATUS_REBOOTED,
			conn:   voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE,
			reason: "rebooting",
		}, true
	}
	// ONU_STATE_DISABLED: only the core disables ONUs (through the ONU
	// adapter), and it knows.
	return onuState{}, false
}

// reportONU tells the core what an ONU event means for the ONU's device:
// a new ONU becomes a child device, a known one changes state. It runs in
// the ONU's queue and skips what the core already shows.
func (h *handler) reportONU(ctx context.Context, o *olt, typ ponsimv1.EventType, onu *ponsimv1.OnuInfo) error {
	if !o.isEnabled() {
		return nil // while the OLT is disabled, the core decides its ONUs' states
	}
	want, ok := desired(typ, onu)
	if !ok {
		return nil
	}
	serial := onu.GetSerialNumber()
	c := o.child(serial)
	if c == nil {
		if want != onuActive {
			return nil // an ONU the core never had: nothing to tell
		}
		return h.detect(ctx, o, onu)
	}
	poweredOff := onu.GetState() == ponsimv1.OnuState_ONU_STATE_POWERED_OFF
	if c.oper == want.oper && c.conn == want.conn {
		if poweredOff { // a sync after a restart: the core keeps the alarms once
			return h.onuAlarms(ctx, c.id, serial, true, true)
		}
		return nil
	}
	alarmed := c.alarmed
	err := h.setChildState(ctx, o, serial, c, want)
	if status.Code(err) == codes.NotFound && want == onuActive {
		return h.detect(ctx, o, onu) // deleted in the core, but there: a new child
	}
	if err != nil {
		return err
	}
	switch {
	case poweredOff:
		return h.onuAlarms(ctx, c.id, serial, true, true)
	case alarmed:
		return h.onuAlarms(ctx, c.id, serial, false, false) // back on the PON
	}
	return nil
}

// setChildState reports an ONU's state (and its reason, or clears the one
// the adapter gave) and remembers it.
func (h *handler) setChildState(ctx context.Context, o *olt, serial string, c *child, want onuState) error {
	if want.reason != "" || c.reason {
		if err := h.setReason(ctx, c.id, want.reason); err != nil {
			return h.childGone(o, serial, err)
		}
	}
	if err := h.setState(ctx, c.id, want.oper, want.conn); err != nil {
		return h.childGone(o, serial, err)
	}
	next := *c
	if want.oper != voltv1.OperStatus_OPER_STATUS_UNSPECIFIED {
		next.oper = want.oper
	}
	next.conn = want.conn
	next.reason = want.reason != ""
	next.alarmed = strings.HasPrefix(want.reason, dyingGaspReason)
	o.setChild(serial, &next)
	return nil
}

// childGone forgets an ONU whose device the core no longer has.
func (h *handler) childGone(o *olt, serial string, err error) error {
	if status.Code(err) == codes.NotFound {
		o.setChild(serial, nil)
	}
	return err
}

// detect reports a new ONU: the core creates its child device (or returns
// the one it has) and enables it, which makes the ONU adapter adopt it.
func (h *handler) detect(ctx context.Context, o *olt, onu *ponsimv1.OnuInfo) error {
	serial := onu.GetSerialNumber()
	pon := portno.PONOf(onu.GetPonPort())
	// An ONU whose UNI the layout cannot number stays out of the core
	// rather than taking another ONU's port.
	if err := portno.Check(pon, onu.GetOnuId(), 0); err != nil {
		return fmt.Errorf("ONU %s not added: %w", serial, err)
	}
	d, err := h.core.ChildDeviceDetected(ctx, &adapterv1.ChildDeviceDetectedRequest{
		ParentId:        o.id,
		ParentPortNo:    onu.GetPonPort(),
		ChildDeviceType: ChildType,
		ChannelId:       pon,
		VendorId:        vendorID(serial),
		SerialNumber:    serial,
		OnuId:           onu.GetOnuId(),
		MacAddress:      onu.GetMacAddress(),
		// The core handles the ONUs of one OLT in parallel.
	}, msgbus.WithKey(onuKey(o, serial)))
	if err != nil {
		return fmt.Errorf("ONU %s detected: %w", serial, err)
	}
	c := childOf(d)
	o.setChild(serial, c)
	// A new child is being adopted by the ONU adapter, which reports its
	// state (childOf takes it for ACTIVE). A child the core had already
	// comes back into service here.
	if d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED || (c.oper == onuActive.oper && c.conn == onuActive.conn) {
		return nil
	}
	alarmed := c.alarmed
	if err := h.setChildState(ctx, o, serial, c, onuActive); err != nil {
		return err
	}
	if !alarmed {
		return nil
	}
	return h.onuAlarms(ctx, c.id, serial, false, false)
}

// vendorID is the vendor part of an ONU serial number ("PSMO00000001").
func vendorID(serial string) string {
	if len(serial) < 4 {
		return ""
	}
	for _, r := range serial[:4] {
		if r < 'A' || r > 'Z' {
			return ""
		}
	}
	return serial[:4]
}

// ghosts reports the ONUs the core has under the OLT that ponsim no longer
// has (a smaller ponsim since the last run): INACTIVE and UNREACHABLE with
// a reason, so their logical ports go. One line is logged per sync that
// finds any; an ONU already reported is not reported again.
func (h *handler) ghosts(o *olt, onus []*ponsimv1.OnuInfo, mark uint64) {
	present := make(map[string]bool, len(onus))
	for _, onu := range onus {
		present[onu.GetSerialNumber()] = true
	}
	want := onuState{oper: voltv1.OperStatus_OPER_STATUS_INACTIVE, conn: voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE}
	var missing []string
	o.mu.Lock()
	for serial, c := range o.children {
		if !present[serial] && (c.oper != want.oper || c.conn != want.conn) {
			missing = append(missing, serial)
		}
	}
	o.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	o.log.Info("ONUs the core has are not on ponsim's PONs: reported unreachable", "count", len(missing), "first", missing[0])
	for _, serial := range missing {
		w := want
		w.reason = fmt.Sprintf("not on the PON: ponsim at %s no longer reports ONU %s", o.addr, serial)
		h.a.Submit(onuKey(o, serial), func(ctx context.Context) error {
			c := o.child(serial)
			if c == nil || (c.oper == w.oper && c.conn == w.conn) || o.newerEvent(serial, mark) {
				return nil
			}
			return retry(ctx, func() error { return h.setChildState(ctx, o, serial, c, w) })
		})
	}
}
