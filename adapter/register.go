package adapter

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// registerTimeout bounds one registration attempt (or CallTimeout, if
// shorter): long enough for a busy core, short enough that an adapter
// started before the core registers soon after the core appears.
const registerTimeout = 5 * time.Second

// deviceTypes returns the configured device types completed from h: the
// adapter that serves them, the operations h implements and how it takes
// flow updates.
func (a *Adapter) deviceTypes(h Adopter) []*voltv1.DeviceType {
	ops := Operations(h)
	_, bulk := h.(BulkFlowUpdater)
	_, incr := h.(IncrementalFlowUpdater)
	out := make([]*voltv1.DeviceType, 0, len(a.cfg.DeviceTypes))
	for _, t := range a.cfg.DeviceTypes {
		t = proto.Clone(t).(*voltv1.DeviceType)
		t.Adapter = a.cfg.ID
		t.Operations = ops
		t.AcceptsBulkFlowUpdate = bulk
		t.AcceptsAddRemoveFlowUpdates = incr
		out = append(out, t)
	}
	return out
}

func typeIDs(types []*voltv1.DeviceType) []string {
	ids := make([]string, 0, len(types))
	for _, t := range types {
		ids = append(ids, t.GetId())
	}
	return ids
}

// registerLoop registers with the core until it answers, retrying with
// backoff, then again every Heartbeat until ctx ends. The core reconciles
// the adapter's devices on its first registration since the core started,
// so a restarted core learns of the adapter at the next heartbeat.
//
// Every registration carries the time this instance started in
// Adapter.registered, which tells the core that the adapter restarted
// (and so has its devices to reconcile) even when the core did not.
//
// registered is called after the first registration the core took.
func (a *Adapter) registerLoop(ctx context.Context, types []*voltv1.DeviceType, started time.Time, adminAddr string, registered func()) {
	req := &adapterv1.RegisterRequest{
		Adapter: &voltv1.Adapter{
			Id:           a.cfg.ID,
			Vendor:       a.cfg.Vendor,
			Version:      a.cfg.Version,
			Endpoint:     a.cfg.Topic,
			DeviceTypes:  typeIDs(types),
			Registered:   timestamppb.New(started),
			AdminAddress: adminAddr,
		},
		DeviceTypes: types,
	}
	core := a.Core()
	var (
		b        backoff
		ok       bool // the last attempt worked
		once     bool // registered was called
		failures int  // attempts failed in a row
	)
	for {
		rctx, cancel := context.WithTimeout(ctx, min(registerTimeout, a.cfg.CallTimeout))
		_, err := core.Register(rctx, req)
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := a.cfg.Heartbeat
		switch {
		case err == nil && !ok:
			a.log.Info("registered with the core", "topic", a.cfg.CoreTopic, "types", typeIDs(types))
			ok, failures = true, 0
			b.reset()
			if !once {
				once = true
				registered()
			}
		case err == nil:
			failures = 0
		default:
			failures++
			// Warn on the first failure and then now and then, not on
			// every retry while the core is away.
			if ok || failures == 1 || failures%20 == 0 {
				a.log.Warn("registration with the core failed; retrying", "topic", a.cfg.CoreTopic, "attempts", failures, "err", err)
			}
			ok = false
			wait = b.next()
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}
