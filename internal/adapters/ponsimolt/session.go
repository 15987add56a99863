package ponsimolt

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// reportKey is the work queue of what the adapter tells the core about an
// OLT. It is apart from the OLT's own queue (its id), where the core's
// calls wait their turn: those must never wait behind a call to the core
// about the OLT, which the core holds during its call.
func reportKey(o *olt) string { return o.id + "/report" }

// startSession replaces the OLT's session with a new one. adopting says
// that the device is being adopted: if the first connection fails, the
// device turns FAILED and the session ends, instead of retrying. It runs
// in the OLT's queue.
func (h *handler) startSession(o *olt, adopting bool) {
	o.stopSession()
	done := make(chan struct{})
	stop := h.a.Go(o.id, func(ctx context.Context) {
		defer close(done)
		h.session(ctx, o, adopting)
	})
	o.setSession(&session{stop: stop, done: done})
}

// session connects to ponsim, syncs and follows its events until ctx ends;
// when ponsim goes away it reports the OLT UNREACHABLE and reconnects with
// backoff.
func (h *handler) session(ctx context.Context, o *olt, adopting bool) {
	delay := retryMin
	for {
		followed, err := h.follow(ctx, o, adopting)
		if ctx.Err() != nil {
			return
		}
		if gone(err) {
			h.end(o, err)
			return
		}
		if followed {
			adopting = false
			delay = retryMin
			if status.Code(err) == codes.ResourceExhausted {
				// The stream fell behind and ponsim ended it; ponsim is
				// there: subscribe again, which starts from a fresh picture.
				o.log.Warn("ponsim event stream fell behind; subscribing again", "err", err)
				continue
			}
		}
		if adopting {
			if err := h.a.Do(ctx, reportKey(o), func(ctx context.Context) error { return h.fail(ctx, o, err) }); err != nil {
				o.log.Warn("adoption failed and could not be reported", "err", err)
			}
			return
		}
		if err := h.a.Do(ctx, reportKey(o), func(ctx context.Context) error { return h.lost(ctx, o, err) }); err != nil {
			if gone(err) {
				h.end(o, err)
				return
			}
			o.log.Debug("outage not reported", "err", err)
		}
		o.log.Debug("reconnecting to ponsim", "err", err, "in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, retryMax)
	}
}

// follow connects, syncs and then handles ponsim's events and packet-ins
// until the event stream breaks; followed says it got as far as the
// events.
func (h *handler) follow(ctx context.Context, o *olt, adopting bool) (followed bool, err error) {
	if o.conn != nil && o.conn.GetState() == connectivity.TransientFailure {
		// Try now, not when the backoff says. Only in TRANSIENT_FAILURE:
		// grpc-go (1.85) reads the subchannel map without its lock here,
		// which races with the subchannel it makes when it first connects.
		o.conn.ResetConnectBackoff()
	}
	info, err := o.info(ctx, dialTimeout)
	if err != nil {
		return false, err
	}
	// Ask the core first whether the device is still its and this OLT is
	// not another device's already (same serial number), before touching
	// anything in ponsim.
	if _, err := h.core.DeviceUpdate(ctx, identity(o.id, info.GetOlt())); err != nil {
		return false, fmt.Errorf("device update: %w", err)
	}
	if err := h.tablesOnConnect(ctx, o, info, adopting); err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	var frames sync.WaitGroup
	defer frames.Wait()
	defer cancel() // before the wait: it ends the packet-in stream
	// Subscribe before syncing: nothing that happens after the sync's
	// snapshot is missed (what happens in between arrives twice, and
	// reporting is idempotent).
	stream, err := o.sim.ReceiveEvents(sctx, &emptypb.Empty{})
	if err != nil {
		return false, o.simError("receive events", err)
	}
	fstream, err := o.openFrames(sctx)
	if err != nil {
		return false, err
	}
	frames.Go(func() { h.followFrames(sctx, o, fstream) })
	frames.Go(func() { h.reportStats(sctx, o, h.a.StatsInterval()) })
	// The stream starts with the ONUs: the sync need not report them.
	if err := h.a.Do(ctx, reportKey(o), func(ctx context.Context) error { return h.sync(ctx, o, false) }); err != nil {
		return false, err
	}
	o.log.Debug("following ponsim events")
	for {
		ev, err := stream.Recv()
		if err != nil {
			return true, o.simError("event stream", err)
		}
		h.event(o, ev)
	}
}

// sync brings the core up to date with ponsim: the OLT's description,
// ports and states, and ponsim's OLT state with what the core asked for;
// with onus, the ONUs' states too. It runs in the OLT's report queue.
func (h *handler) sync(ctx context.Context, o *olt, onus bool) error {
	mark := o.eventMark()
	info, err := o.info(ctx, callTimeout)
	if err != nil {
		return err
	}
	oi := info.GetOlt()
	if _, err := h.core.DeviceUpdate(ctx, identity(o.id, oi)); err != nil {
		return fmt.Errorf("device update: %w", err)
	}
	if err := h.reportPorts(ctx, o, oi); err != nil {
		return err
	}

	// ponsim's OLT follows the core's admin state; enabling it makes
	// ponsim send ONU_DISCOVERED for every ONU on the event stream, which
	// also starts with the ONUs of an OLT that is up.
	enabled, err := h.applyAdmin(ctx, o)
	if err != nil {
		return err
	}

	kids, err := h.core.GetChildDevices(ctx, &adapterv1.DeviceRequest{DeviceId: o.id})
	if err != nil {
		return fmt.Errorf("get child devices: %w", err)
	}
	o.addChildren(kids.GetItems())
	if enabled && oi.GetEnabled() {
		h.ghosts(o, info.GetOnus(), mark)
	}

	if err := h.setReason(ctx, o.id, ""); err != nil {
		return err
	}
	oper := voltv1.OperStatus_OPER_STATUS_UNSPECIFIED // a disabled OLT keeps its oper status
	if enabled {
		oper = voltv1.OperStatus_OPER_STATUS_ACTIVE
	}
	if err := h.setState(ctx, o.id, oper, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE); err != nil {
		return err
	}
	o.mu.Lock()
	o.unreachable, o.rebooting = false, false
	o.mu.Unlock()
	if onus && enabled && oi.GetEnabled() {
		for _, onu := range info.GetOnus() {
			h.a.Submit(onuKey(o, onu.GetSerialNumber()), func(ctx context.Context) error {
				return h.reportSnapshot(ctx, o, onu, mark)
			})
		}
	}
	o.log.Debug("synced with ponsim", "onus", len(info.GetOnus()), "enabled", enabled)
	return nil
}

// applyAdmin makes ponsim's OLT enabled or disabled as the core asked
// (unless it is rebooting) and returns which.
func (h *handler) applyAdmin(ctx context.Context, o *olt) (enabled bool, err error) {
	o.adminMu.Lock()
	defer o.adminMu.Unlock()
	enabled = o.isEnabled()
	if enabled && o.isRebooting() {
		return enabled, nil
	}
	info, err := o.info(ctx, callTimeout)
	if err != nil {
		return enabled, err
	}
	if info.GetOlt().GetEnabled() == enabled {
		return enabled, nil
	}
	what, fn := "enable OLT", ponsimv1.PonSimClient.EnableDevice
	if !enabled {
		what, fn = "disable OLT", ponsimv1.PonSimClient.DisableDevice
	}
	return enabled, o.call(ctx, what, fn)
}

// reportPorts reports the NNI and the PON ports; the core replaces ports
// it has, so reporting again after a restart duplicates nothing. Ports the
// core holds that ponsim's OLT does not have (an NNI numbered by an older
// build) are removed first, so the logical device never shows both NNIs.
func (h *handler) reportPorts(ctx context.Context, o *olt, oi *ponsimv1.OltInfo) error {
	ports := []*voltv1.Port{{
		PortNo:     oi.GetNniPort(),
		Label:      portno.Name(oi.GetNniPort()),
		Type:       voltv1.PortType_PORT_TYPE_ETHERNET_NNI,
		AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED,
		OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
	}}
	for _, p := range oi.GetPonPorts() {
		ports = append(ports, &voltv1.Port{
			PortNo:     p,
			Label:      fmt.Sprintf("pon-%d", portno.PONOf(p)),
			Type:       voltv1.PortType_PORT_TYPE_PON_OLT,
			AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED,
			OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
		})
	}
	if err := adapter.RemoveStalePorts(ctx, h.core, o.id, ports); err != nil {
		return err
	}
	for _, p := range ports {
		if _, err := h.core.PortCreated(ctx, &adapterv1.PortCreatedRequest{DeviceId: o.id, Port: p}); err != nil {
			return fmt.Errorf("port %d: %w", p.GetPortNo(), err)
		}
	}
	return nil
}

// fail reports an adoption that did not get through: the device turns
// FAILED with the reason; enabling it again retries.
func (h *handler) fail(ctx context.Context, o *olt, cause error) error {
	o.log.Info("adoption failed", "err", cause)
	if err := h.setReason(ctx, o.id, "adoption failed: "+message(cause)); err != nil {
		return err
	}
	return h.setState(ctx, o.id, voltv1.OperStatus_OPER_STATUS_FAILED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)
}

// lost reports that ponsim went away: the OLT and its ONUs turn
// UNREACHABLE, once per outage.
func (h *handler) lost(ctx context.Context, o *olt, cause error) error {
	o.mu.Lock()
	told := o.unreachable
	o.mu.Unlock()
	if told {
		return nil
	}
	o.log.Info("ponsim unreachable", "err", cause)
	if err := h.setReason(ctx, o.id, message(cause)); err != nil {
		return err
	}
	if err := h.setState(ctx, o.id, voltv1.OperStatus_OPER_STATUS_UNSPECIFIED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE); err != nil {
		return err
	}
	o.mu.Lock()
	o.unreachable = true
	o.mu.Unlock()
	if o.isEnabled() {
		for _, serial := range o.reachableChildren() {
			h.onuUnreachable(o, serial)
		}
	}
	return nil
}

// event handles one ponsim event (in the session goroutine: it only
// queues work).
func (h *handler) event(o *olt, ev *ponsimv1.Event) {
	switch ev.GetType() {
	case ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, ponsimv1.EventType_EVENT_TYPE_ONU_LOST, ponsimv1.EventType_EVENT_TYPE_ONU_STATE:
		o.readONUEvent(ev.GetOnu().GetSerialNumber())
		h.onu(o, ev.GetType(), ev.GetOnu())
		h.ponEvent(o, ev)
	case ponsimv1.EventType_EVENT_TYPE_OLT_STATE:
		// Back from a reboot: report it ACTIVE again. (The OLT going down
		// for any other reason than the core's disable or reboot is not
		// reported: its ONUs turn INACTIVE with ONU_LOST.)
		if ev.GetOlt().GetEnabled() && o.isRebooting() {
			h.a.Submit(reportKey(o), func(ctx context.Context) error {
				if !o.isRebooting() {
					return nil // synced meanwhile
				}
				return h.sync(ctx, o, false) // ponsim sends ONU_DISCOVERED
			})
		}
	default:
		o.log.Debug("unknown ponsim event", "type", ev.GetType())
	}
}

// identity is what the adapter tells the core about the OLT itself.
func identity(id string, oi *ponsimv1.OltInfo) *voltv1.Device {
	return &voltv1.Device{
		Id:              id,
		Vendor:          oi.GetVendor(),
		Model:           oi.GetModel(),
		SerialNumber:    oi.GetSerialNumber(),
		MacAddress:      oi.GetMacAddress(),
		FirmwareVersion: oi.GetFirmwareVersion(),
	}
}

// gone reports that the core answered that the device is not (or no
// longer) the adapter's to run: deleted (NotFound), or the same hardware as
// another device (AlreadyExists). The work for it ends; retrying cannot
// help.
func gone(err error) bool {
	switch status.Code(err) {
	case codes.NotFound, codes.AlreadyExists:
		return true
	}
	return false
}

// end forgets an OLT whose session stops because the core said gone. It
// runs in the session, which it therefore does not wait for.
func (h *handler) end(o *olt, cause error) {
	o.log.Info("the core no longer has this OLT for the adapter: its session ends", "err", message(cause))
	h.mu.Lock()
	if h.olts[o.id] == o {
		delete(h.olts, o.id)
		delete(h.tables, o.id)
	}
	h.mu.Unlock()
	o.close()
}

// grpcPrefix is what a gRPC status error puts before its message.
var grpcPrefix = regexp.MustCompile(`rpc error: code = \w+ desc = `)

// message is err's text without gRPC's "rpc error: code = … desc =", for a
// device's reason.
func message(err error) string {
	return grpcPrefix.ReplaceAllString(err.Error(), "")
}
