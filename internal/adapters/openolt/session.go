package openolt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// session is the goroutine that follows one OLT.
type session struct {
	stop func()
}

// errRebooted ends a stream whose OLT answered with a new heartbeat
// signature.
var errRebooted = errors.New("the OLT rebooted (new heartbeat signature)")

// errGone says the core no longer has the OLT: it was deleted while this
// adapter did not hear of it (down, or the core deleted it unanswered).
var errGone = errors.New("the core no longer has this OLT")

// errHeartbeat ends a stream whose OLT stopped answering heartbeats.
var errHeartbeat = errors.New("heartbeat lost")

func (o *olt) running() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sess != nil
}

func (o *olt) stopSession() {
	o.mu.Lock()
	s := o.sess
	o.sess = nil
	o.mu.Unlock()
	if s != nil {
		s.stop()
	}
}

// startSession replaces the OLT's session. adopting: a first connection
// that fails turns the OLT FAILED and ends the session.
func (o *olt) startSession(adopting bool) {
	o.stopSession()
	stop := o.h.a.Go(o.id, func(ctx context.Context) { o.session(ctx, adopting) })
	o.mu.Lock()
	o.sess = &session{stop: stop}
	o.mu.Unlock()
}

// session connects and follows the OLT until ctx ends; when the OLT is
// lost it reports it UNREACHABLE and reconnects with backoff.
func (o *olt) session(ctx context.Context, adopting bool) {
	delay := retryMin
	for {
		followed, err := o.follow(ctx, adopting)
		if ctx.Err() != nil {
			return
		}
		if adopting && !followed {
			if err := o.h.a.Do(ctx, o.reportKey(), func(ctx context.Context) error { return o.fail(ctx, err) }); err != nil {
				o.log.Warn("adoption failed and could not be reported", "err", err)
			}
			o.mu.Lock()
			o.sess = nil
			o.mu.Unlock()
			return
		}
		if errors.Is(err, errGone) {
			o.gone(ctx, err)
			return
		}
		if followed {
			adopting = false
			delay = retryMin
		}
		o.log.Info("OLT lost; reconnecting", "err", err, "in", delay)
		if err := o.h.a.Do(ctx, o.reportKey(), func(ctx context.Context) error {
			oper := voltv1.OperStatus_OPER_STATUS_UNSPECIFIED
			if errors.Is(err, errRebooted) {
				oper = voltv1.OperStatus_OPER_STATUS_REBOOTED
			}
			return o.setState(ctx, oper, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)
		}); err != nil {
			o.log.Debug("outage not reported", "err", err)
		}
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

// gone ends the work for an OLT the core no longer has, as a delete
// would: its ONUs are deleted on the OLT and its ids and flows dropped.
func (o *olt) gone(ctx context.Context, why error) {
	o.log.Info("OLT deleted: its ONUs, ids and flows go", "reason", why)
	o.h.mu.Lock()
	if o.h.olts[o.id] == o {
		delete(o.h.olts, o.id)
	}
	o.h.mu.Unlock()
	o.mu.Lock()
	o.sess = nil
	o.mu.Unlock()
	if err := o.deleteAll(ctx); err != nil {
		o.log.Warn("OLT deleted: dropping what the store holds of it", "err", err)
	}
	o.close()
}

// follow connects, reads the device info, opens the indication stream and
// handles it (with the heartbeat beside it) until it breaks; followed says
// the stream was open.
func (o *olt) follow(ctx context.Context, adopting bool) (followed bool, err error) {
	if o.connErr != nil {
		return false, o.connErr
	}
	if o.conn.GetState() == connectivity.TransientFailure {
		o.conn.ResetConnectBackoff()
	}
	dctx, cancel := context.WithTimeout(ctx, o.h.opts.DialTimeout)
	info, err := o.cli.GetDeviceInfo(dctx, oltEmpty())
	cancel()
	if err != nil {
		return false, fmt.Errorf("no openolt agent answers at %s: %s", o.addr, status.Convert(err).Message())
	}
	if err := o.prepare(ctx, info); err != nil {
		return false, err
	}
	hctx, cancel := context.WithTimeout(ctx, o.h.opts.DialTimeout)
	hb, err := o.cli.HeartbeatCheck(hctx, oltEmpty())
	cancel()
	if err != nil {
		return false, fmt.Errorf("HeartbeatCheck at %s: %s", o.addr, status.Convert(err).Message())
	}
	rebooted, err := o.checkSignature(ctx, hb.GetHeartbeatSignature())
	if err != nil {
		return false, err
	}
	if rebooted {
		o.rebooted()
	}
	sctx, cancelStream := context.WithCancelCause(ctx)
	defer cancelStream(nil)
	stream, err := o.cli.EnableIndication(sctx, oltEmpty())
	if err != nil {
		return false, fmt.Errorf("EnableIndication at %s: %s", o.addr, status.Convert(err).Message())
	}
	if err := o.h.a.Do(ctx, o.reportKey(), func(ctx context.Context) error { return o.describe(ctx, info) }); err != nil {
		return false, err
	}
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		o.heartbeat(sctx, cancelStream)
	}()
	defer func() { <-hbDone }()
	defer cancelStream(nil) // before the wait
	if !rebooted && !adopting {
		// A reconnect: the OLT re-sends only its OLT and NNI indications,
		// so the ONUs are reconciled from what the OLT reports of them.
		o.h.a.Submit(o.reportKey(), func(ctx context.Context) error { return o.reconcileONUs(ctx) })
	}
	for {
		ind, err := stream.Recv()
		if err != nil {
			if cause := context.Cause(sctx); cause != nil && ctx.Err() == nil {
				return true, cause
			}
			return true, fmt.Errorf("indication stream: %w", err)
		}
		o.indication(ind)
	}
}

// prepare checks the device info and builds the pools (once per OLT
// object: they are a cache of the store).
func (o *olt) prepare(ctx context.Context, info *openolt.DeviceInfo) error {
	o.mu.Lock()
	have := o.res != nil
	o.mu.Unlock()
	if have {
		o.mu.Lock()
		o.info = info
		o.mu.Unlock()
		return nil
	}
	res, err := poolsFromInfo(o.h.opts.KV, o.keys+"resources/", info)
	if err != nil {
		return err
	}
	if err := res.load(ctx); err != nil {
		return err
	}
	fs := newFlowStore(o.h.opts.KV, o.keys)
	if err := fs.load(ctx); err != nil {
		return err
	}
	o.mu.Lock()
	o.info, o.res, o.flows = info, res, fs
	o.mu.Unlock()
	return o.loadONUs(ctx)
}

// checkSignature compares the heartbeat signature with the one stored and
// stores the new one; rebooted says it changed.
func (o *olt) checkSignature(ctx context.Context, sig uint32) (rebooted bool, err error) {
	key := o.keys + "signature"
	o.mu.Lock()
	old := o.signature
	o.mu.Unlock()
	if old == 0 {
		kv, err := o.h.opts.KV.Get(ctx, key)
		switch {
		case err == nil:
			n, _ := strconv.ParseUint(string(kv.Value), 10, 32)
			old = uint32(n)
		case !errors.Is(err, kvstore.ErrNotFound):
			return false, fmt.Errorf("reading the heartbeat signature: %w", err)
		}
	}
	if old == sig {
		// Known (read from the store after a restart): remember it, or the
		// heartbeat would take every check for a reboot.
		o.mu.Lock()
		o.signature = sig
		o.mu.Unlock()
		return false, nil
	}
	if _, err := o.h.opts.KV.Put(ctx, key, []byte(strconv.FormatUint(uint64(sig), 10))); err != nil {
		return false, fmt.Errorf("storing the heartbeat signature: %w", err)
	}
	o.mu.Lock()
	o.signature = sig
	o.mu.Unlock()
	return old != 0, nil
}

// rebooted forgets what the OLT held: every ONU is discovered and
// activated again (same ids) and gets its flows again.
func (o *olt) rebooted() {
	o.log.Info("OLT rebooted: ONUs are activated and flows sent again as they come back")
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range o.onus {
		u.active = false
		u.resend = true
	}
}

// heartbeat checks the OLT every interval; misses in a row or a new
// signature end the stream (cancel).
func (o *olt) heartbeat(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(o.h.opts.HeartbeatInterval)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hctx, c := context.WithTimeout(ctx, o.h.opts.HeartbeatInterval)
		hb, err := o.cli.HeartbeatCheck(hctx, oltEmpty())
		c()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			misses++
			if misses >= o.h.opts.HeartbeatMisses {
				cancel(fmt.Errorf("%w: %d checks failed: %s", errHeartbeat, misses, status.Convert(err).Message()))
				return
			}
			continue
		}
		misses = 0
		o.mu.Lock()
		changed := hb.GetHeartbeatSignature() != o.signature
		o.mu.Unlock()
		if changed {
			cancel(errRebooted)
			return
		}
	}
}

// reconcileONUs asks the OLT about every ONU the adapter knows, after a
// reconnect or a restart: an active one is reported up again, one the OLT
// does not know waits for its discovery.
func (o *olt) reconcileONUs(ctx context.Context) error {
	var errs []error
	// What the core has of the children: an ONU it has ACTIVE and the OLT
	// reports up is left as it is (its ONU adapter did not go away with
	// this one, and an ACTIVATING report would take its UNI, and the
	// subscriber's flows, away until the ONU is brought up again).
	live := make(map[string]string) // serial → device id, ACTIVE and REACHABLE
	if kids, err := o.h.core.GetChildDevices(ctx, &adapterv1.DeviceRequest{DeviceId: o.id}); err == nil {
		for _, k := range kids.GetItems() {
			if k.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE && k.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
				live[k.GetSerialNumber()] = k.GetId()
			}
		}
	} else {
		o.log.Info("reconciling the ONUs without the core's view of them", "err", err)
	}
	for _, u := range o.onuList() {
		o.mu.Lock()
		req := &openolt.Onu{IntfId: u.pon, OnuId: u.id, SerialNumber: u.sn}
		o.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		info, err := o.cli.GetOnuInfo(cctx, req)
		cancel()
		switch {
		case status.Code(err) == codes.NotFound:
			o.mu.Lock()
			u.active = false
			u.resend = true
			o.mu.Unlock()
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("GetOnuInfo %d/%d: %w", u.pon, u.id, err))
			continue
		}
		up := info.GetState() == openolt.OnuInfo_ACTIVE
		o.mu.Lock()
		dev, keep := live[u.serial]
		keep = keep && up && !u.resend
		if keep {
			u.active, u.deviceID = true, dev
		}
		o.mu.Unlock()
		if keep {
			continue
		}
		los := info.GetLosi() == openolt.AlarmState_ON
		o.h.a.Submit(o.onuQueue(u.pon, u.serial), func(ctx context.Context) error {
			if err := o.onuState(ctx, u, up); err != nil {
				return err
			}
			return o.onuLOS(ctx, u, los) // what changed while this adapter was away
		})
	}
	return errors.Join(errs...)
}

// reportAll reports the OLT, its ports and ONUs again (the core
// restarted).
func (o *olt) reportAll(ctx context.Context) error {
	o.mu.Lock()
	info := o.info
	o.mu.Unlock()
	if info == nil {
		return nil
	}
	if err := o.describe(ctx, info); err != nil {
		return err
	}
	return o.reconcileONUs(ctx)
}
