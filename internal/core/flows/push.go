package flows

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Backoff of a failed push.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
	// absentRetry is how often flows for a device its adapter cannot find
	// are tried again.
	absentRetry = 30 * time.Second
)

// Pushers deliver device deltas to the devices' adapters. Push must not
// block. done, when set, is called once: with nil when the device's
// adapter took the delta, with the adapter's error when it refused it
// (Refused), never while the delta waits for an adapter that is away.
type Pushers interface {
	Push(deviceID string, d *Delta, done func(error))
}

// Refused reports whether an adapter's answer refuses what it was given
// (the device cannot do it), rather than failing to deliver it.
func Refused(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.ResourceExhausted, codes.OutOfRange,
		codes.AlreadyExists, codes.PermissionDenied, codes.Unimplemented:
		return true
	}
	return false
}

// AdapterConfig wires AdapterPushers.
type AdapterConfig struct {
	// Tables returns a device's whole tables (for a reconcile).
	Tables func(ctx context.Context, deviceID string) (DeviceTables, error)
	// Device returns a device snapshot.
	Device func(id string) (*voltv1.Device, bool)
	// Client returns the adapter client for a device type, and whether the
	// type wants whole tables (bulk) instead of changes.
	Client  func(ctx context.Context, deviceType string) (client adapterv1.AdapterServiceClient, bulk bool, err error)
	Timeout time.Duration
	Logger  *slog.Logger
}

// AdapterPushers push through adapters: one sender per device with
// pending changes, which coalesces what arrives while it sends, so a burst
// of flow-mods becomes a few calls.
type AdapterPushers struct {
	cfg AdapterConfig
	log *slog.Logger

	ctx    context.Context // ends the senders
	cancel context.CancelFunc
	wg     sync.WaitGroup // the senders

	mu      sync.Mutex // guards pending
	pending map[string]*batch
}

// batch is what waits to be sent to one device.
type batch struct {
	running bool // a sender owns this device
	full    bool // send the whole table (reconcile)
	flows   map[uint64]*openflowv1.Flow
	unflows map[uint64]*openflowv1.Flow
	groups  map[uint32]*openflowv1.GroupDesc
	ungrps  map[uint32]*openflowv1.GroupDesc
	meters  map[uint32]*openflowv1.MeterConfig
	unmtrs  map[uint32]*openflowv1.MeterConfig
	parts   []part // the pushes merged into it, oldest first
}

// part is one push merged into a batch: kept so that a batch the adapter
// refuses can be sent again push by push, and only the pushes the device
// cannot do are taken back.
type part struct {
	d    *Delta
	done func(error) // nil: nobody waits
}

// tell calls the done functions of the batch's pushes with err.
func (b *batch) tell(err error) {
	for _, pt := range b.parts {
		if pt.done != nil {
			pt.done(err)
		}
	}
	b.parts = nil
}

func newBatch() *batch {
	return &batch{
		flows: map[uint64]*openflowv1.Flow{}, unflows: map[uint64]*openflowv1.Flow{},
		groups: map[uint32]*openflowv1.GroupDesc{}, ungrps: map[uint32]*openflowv1.GroupDesc{},
		meters: map[uint32]*openflowv1.MeterConfig{}, unmtrs: map[uint32]*openflowv1.MeterConfig{},
	}
}

func (b *batch) empty() bool {
	return !b.full && len(b.flows)+len(b.unflows)+len(b.groups)+len(b.ungrps)+len(b.meters)+len(b.unmtrs) == 0
}

// mergeOlder puts an older batch that failed back under b: what b says
// about a flow, group or meter wins over what old said.
func (b *batch) mergeOlder(old *batch) {
	b.full = b.full || old.full
	mergeOld(b.flows, b.unflows, old.flows, old.unflows)
	mergeOld(b.groups, b.ungrps, old.groups, old.ungrps)
	mergeOld(b.meters, b.unmtrs, old.meters, old.unmtrs)
	b.parts = append(old.parts, b.parts...)
}

func mergeOld[K comparable, V any](add, remove, oldAdd, oldRemove map[K]V) {
	for k, v := range oldAdd {
		if _, newer := remove[k]; !newer {
			if _, newer := add[k]; !newer {
				add[k] = v
			}
		}
	}
	for k, v := range oldRemove {
		if _, newer := add[k]; !newer {
			if _, newer := remove[k]; !newer {
				remove[k] = v
			}
		}
	}
}

// NewAdapterPushers returns pushers; Close stops them.
func NewAdapterPushers(cfg AdapterConfig) *AdapterPushers {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &AdapterPushers{cfg: cfg, log: log, ctx: ctx, cancel: cancel, pending: map[string]*batch{}}
}

// Push queues a delta for a device.
func (p *AdapterPushers) Push(deviceID string, d *Delta, done func(error)) {
	p.queue(deviceID, func(b *batch) { b.add(d, done) })
}

// add merges d into b: what d says about a flow, group or meter wins.
func (b *batch) add(d *Delta, done func(error)) {
	b.parts = append(b.parts, part{d: d, done: done})
	change(b.flows, b.unflows, d.AddFlows, d.RemoveFlows, (*openflowv1.Flow).GetId)
	change(b.groups, b.ungrps, d.AddGroups, d.RemoveGroups, (*openflowv1.GroupDesc).GetGroupId)
	change(b.meters, b.unmtrs, d.AddMeters, d.RemoveMeters, (*openflowv1.MeterConfig).GetMeterId)
}

// change records removes, then adds, in a batch's maps of what to add and
// what to remove.
func change[K comparable, V any](add, remove map[K]V, adds, removes []V, id func(V) K) {
	for _, v := range removes {
		delete(add, id(v))
		remove[id(v)] = v
	}
	for _, v := range adds {
		delete(remove, id(v))
		add[id(v)] = v
	}
}

// Resend queues the device's whole table (after a reconcile).
func (p *AdapterPushers) Resend(deviceID string) {
	p.queue(deviceID, func(b *batch) { b.full = true })
}

func (p *AdapterPushers) queue(deviceID string, merge func(*batch)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return
	}
	b := p.pending[deviceID]
	if b == nil {
		b = newBatch()
		p.pending[deviceID] = b
	}
	merge(b)
	if !b.running {
		b.running = true
		p.wg.Add(1)
		go p.send(deviceID)
	}
}

// send drains a device's batches until none is pending. A batch that
// fails goes back under what arrived since and is tried again after a
// backoff, so an adapter or bus outage delays flows but loses none.
func (p *AdapterPushers) send(deviceID string) {
	defer p.wg.Done()
	backoff := retryMin
	failures := 0
	for {
		p.mu.Lock()
		b := p.pending[deviceID]
		if b.empty() || p.ctx.Err() != nil {
			delete(p.pending, deviceID)
			p.mu.Unlock()
			return
		}
		next := newBatch()
		next.running = true
		p.pending[deviceID] = next
		p.mu.Unlock()
		err := p.deliver(deviceID, b)
		if err == nil {
			b.tell(nil)
			if failures > 0 {
				p.log.Info("flows pushed to adapter", "device", deviceID, "after_failures", failures)
			}
			backoff, failures = retryMin, 0
			continue
		}
		if Refused(err) {
			// The device cannot do some of it: the pushes it refuses are
			// taken back (refused.go), rather than the batch being tried
			// forever.
			if b, err = p.refused(deviceID, b, err); b == nil {
				backoff, failures = retryMin, 0
				continue
			}
		}
		failures++
		wait := backoff
		if status.Code(err) == codes.NotFound {
			// The device is not there (an ONU no longer on the PON): its
			// flows wait, and are tried rarely, until it is back.
			wait = absentRetry
		}
		switch {
		case p.ctx.Err() != nil: // a push cut off by Close is not news
		case failures == 1 && status.Code(err) == codes.NotFound:
			// Expected for a device the hardware no longer reports (it is
			// UNREACHABLE with its reason): one line, not a warning.
			p.log.Info("push flows to adapter: the device is absent; retrying rarely", "device", deviceID, "err", err, "retry_in", wait)
		case failures == 1:
			p.log.Warn("push flows to adapter: retrying quietly", "device", deviceID, "err", err, "retry_in", wait)
		default:
			p.log.Debug("push flows to adapter", "device", deviceID, "err", err, "retry_in", wait)
		}
		p.mu.Lock()
		p.pending[deviceID].mergeOlder(b)
		p.mu.Unlock()
		select {
		case <-p.ctx.Done():
		case <-time.After(wait):
		}
		backoff = min(2*backoff, retryMax)
	}
}

func (p *AdapterPushers) deliver(deviceID string, b *batch) error {
	return p.deliverAs(deviceID, b, false)
}

// deliverAs sends b to the device's adapter. A full batch sends the
// device's whole tables; an adapter that takes only whole tables gets the
// whole tables for any batch, unless exact: then b is the table to send
// (refused.go builds one flow at a time).
func (p *AdapterPushers) deliverAs(deviceID string, b *batch, exact bool) error {
	dev, ok := p.cfg.Device(deviceID)
	if !ok {
		return nil // deleted meanwhile
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
	defer cancel()
	client, bulk, err := p.cfg.Client(ctx, dev.GetType())
	if err != nil {
		return err
	}
	if b.full {
		// The whole table: in bulk when the adapter takes bulk, else as
		// adds (adapters replace flows by id).
		t, err := p.cfg.Tables(ctx, deviceID)
		if err != nil {
			return err
		}
		flows, groups, meters := t.Flows, t.Groups, t.Meters
		if bulk {
			_, err = client.UpdateFlowsBulk(ctx, &adapterv1.BulkFlowsRequest{Device: dev, Flows: flows, Groups: groups, Meters: meters})
			return err
		}
		for _, f := range flows {
			b.flows[f.GetId()] = f
		}
		for _, g := range groups {
			b.groups[g.GetGroupId()] = g
		}
		for _, m := range meters {
			b.meters[m.GetMeterId()] = m
		}
	} else if bulk && exact {
		_, err = client.UpdateFlowsBulk(ctx, &adapterv1.BulkFlowsRequest{Device: dev,
			Flows: values(b.flows), Groups: values(b.groups), Meters: values(b.meters)})
		return err
	} else if bulk {
		b.full = true
		return p.deliver(deviceID, b)
	}
	for _, req := range chunks(dev, b, maxPushBytes) {
		if _, err := client.UpdateFlowsIncrementally(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

// maxPushBytes bounds one incremental request: a message bus record must
// stay under the broker's limit (Kafka's default is 1 MiB).
const maxPushBytes = 512 << 10

// chunks splits a batch into requests of about max bytes at most, in an
// order that each one leaves the device consistent: meters and groups
// added first, then flows removed, then flows added, and groups and meters
// removed last.
func chunks(dev *voltv1.Device, b *batch, max int) []*adapterv1.IncrementalFlowsRequest {
	var out []*adapterv1.IncrementalFlowsRequest
	var cur *adapterv1.IncrementalFlowsRequest
	size := 0
	base := proto.Size(dev) + 32 // the device and the three change lists
	next := func(n int) *adapterv1.IncrementalFlowsRequest {
		n += 8 // an element's tag and length, and its list's share
		if cur == nil || (size > base && size+n > max) {
			cur = &adapterv1.IncrementalFlowsRequest{Device: dev, Flows: &adapterv1.FlowChanges{},
				Groups: &adapterv1.GroupChanges{}, Meters: &adapterv1.MeterChanges{}}
			out = append(out, cur)
			size = base
		}
		size += n
		return cur
	}
	type req = adapterv1.IncrementalFlowsRequest
	chunkInto(next, values(b.meters), func(r *req) *[]*openflowv1.MeterConfig { return &r.Meters.ToAdd })
	chunkInto(next, values(b.groups), func(r *req) *[]*openflowv1.GroupDesc { return &r.Groups.ToAdd })
	chunkInto(next, values(b.unflows), func(r *req) *[]*openflowv1.Flow { return &r.Flows.ToRemove })
	chunkInto(next, values(b.flows), func(r *req) *[]*openflowv1.Flow { return &r.Flows.ToAdd })
	chunkInto(next, values(b.ungrps), func(r *req) *[]*openflowv1.GroupDesc { return &r.Groups.ToRemove })
	chunkInto(next, values(b.unmtrs), func(r *req) *[]*openflowv1.MeterConfig { return &r.Meters.ToRemove })
	if len(out) == 0 {
		next(0) // nothing to change: one empty request, as before
	}
	return out
}

// chunkInto appends each item to the list of the request next gives for
// its size.
func chunkInto[T proto.Message](next func(size int) *adapterv1.IncrementalFlowsRequest, items []T, list func(*adapterv1.IncrementalFlowsRequest) *[]T) {
	for _, it := range items {
		l := list(next(proto.Size(it)))
		*l = append(*l, it)
	}
}

func values[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Close stops the senders and waits for them.
func (p *AdapterPushers) Close() {
	p.mu.Lock()
	p.cancel()
	p.mu.Unlock()
	p.wg.Wait()
}
