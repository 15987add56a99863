package ofagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// agent follows the logical devices and owns every goroutine of Run.
//
// Lock order: agent.mu, then datapath.mu, then conn.mu. No lock is held
// while calling the NBI or writing to a socket.
type agent struct {
	cfg Config
	log *slog.Logger
	nbi voltv1.VoltServiceClient
	ctx context.Context // ends with Run
	// metrics counts connections and messages (never nil in Run).
	metrics *ofMetrics
	wg      sync.WaitGroup // every goroutine started under ctx
	// synced is closed once the logical devices were first read; passive
	// listeners accept only after it, so an early client is served, not
	// turned away (it waits in the listen backlog).
	synced chan struct{}

	pktOut chan *voltv1.PacketOut // to the StreamPacketsOut sender

	mu      sync.Mutex           // guards dps, slots and opening
	dps     map[string]*datapath // by logical device id
	slots   []*slot              // passive listeners; slots[0] is Config.Listen
	opening map[int]bool         // slots being opened
}

var (
	errNotSynced = errors.New("logical devices not read from the core yet")
	errStopped   = errors.New("stopped")
)

// Run runs the agent until ctx ends. It fails at once on a bad config or
// when the passive listener cannot bind; an unreachable core or controller
// is retried, not an error.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cc, err := grpc.NewClient(cfg.Server, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("ofagent: server %q: %w", cfg.Server, err)
	}
	defer cc.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := &agent{
		cfg:     cfg,
		log:     cfg.Logs.Logger("ofagent"),
		nbi:     voltv1.NewVoltServiceClient(cc),
		ctx:     ctx,
		pktOut:  make(chan *voltv1.PacketOut, 1024),
		dps:     map[string]*datapath{},
		opening: map[int]bool{},
		synced:  make(chan struct{}),
		metrics: newOFMetrics(cfg.Telemetry.Registerer("ofagent")),
	}
	ready := cfg.Telemetry.Ready()
	ready.Set("ofagent/synced", errNotSynced) // until the logical devices were first read
	defer ready.Set("ofagent/synced", errStopped)
	// Stop order (defers run last first): cancel, then wait for every
	// goroutine; the listeners close when ctx ends.
	defer a.wg.Wait()
	defer cancel()

	if cfg.GRPC != "" {
		srv, err := daemon.ListenGRPC(cfg.GRPC, cfg.Logs)
		if err != nil {
			return fmt.Errorf("ofagent: %w", err)
		}
		srv.ReportTo(ready, "ofagent")
		a.log.Info("gRPC port serving", "addr", srv.Addr())
		a.goAttach(func() {
			if err := srv.Serve(ctx); err != nil {
				a.log.Error("gRPC port failed", "err", err)
			}
		})
	}
	listenAddr := ""
	if cfg.Listen != "" {
		s, err := a.openSlot(0, cfg.Listen)
		if err != nil {
			return fmt.Errorf("ofagent: %w", err)
		}
		listenAddr = s.addr
	}

	a.goAttach(func() { a.followEvents(a.synced) })
	a.goAttach(a.followPacketIns)
	a.goAttach(a.sendPacketOuts)

	a.log.Info("OpenFlow agent starting", "nbi", cfg.Server, "controllers", strings.Join(cfg.Controllers, ","), "listen", listenAddr)
	select {
	case <-a.synced:
		ready.Set("ofagent/synced", nil)
		if cfg.Ready != nil {
			cfg.Ready(listenAddr)
		}
	case <-ctx.Done():
	}
	<-ctx.Done()
	return nil
}

// goAttach runs f in a goroutine that Run waits for.
func (a *agent) goAttach(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// call returns a context for one NBI call.
func (a *agent) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.cfg.CallTimeout)
}

// backoff is an exponential backoff with jitter, from 100ms to max.
type backoff struct {
	max  time.Duration
	next time.Duration
}

func (b *backoff) reset() { b.next = 0 }

// wait sleeps for the next step; false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	if b.next == 0 {
		b.next = 100 * time.Millisecond
	}
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(2*b.next, b.max)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// followEvents keeps a change-event stream open, re-reading every logical
// device each time it opens and every Resync; synced is closed after the
// first full read.
func (a *agent) followEvents(synced chan struct{}) {
	ctx := a.ctx
	bo := backoff{max: a.cfg.MaxBackoff}
	quiet := false // the NBI is known to be down: log retries at debug
	for ctx.Err() == nil {
		err := a.eventSession(ctx, synced, func() { bo.reset(); quiet = false })
		if ctx.Err() != nil {
			return
		}
		if quiet {
			a.log.Debug("core NBI still unreachable", "nbi", a.cfg.Server, "err", err)
		} else {
			a.log.Warn("lost the core's event stream; reconnecting", "nbi", a.cfg.Server, "err", err)
			quiet = true
		}
		if !bo.wait(ctx) {
			return
		}
	}
}

// eventSession is one change-event stream: sync, then apply events as they
// come, re-syncing every Resync. up is called once the first sync worked.
func (a *agent) eventSession(ctx context.Context, synced chan struct{}, up func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Only what the switches show: logical devices, their ports, and the
	// removals of flows that asked for flow-removed; not every flow.
	stream, err := a.nbi.ReceiveChangeEvents(ctx, &voltv1.ReceiveChangeEventsRequest{
		Payloads:        []string{"logical_device", "logical_port", "flow"},
		FlowChangeKinds: []voltv1.ChangeKind{voltv1.ChangeKind_CHANGE_KIND_REMOVED},
		FlowFlags:       uint32(ofp13.FlowFlagSendFlowRem),
		FlowRefusals:    true, // flow-mods a device refused after their answer (refusals.go)
	})
	if err != nil {
		return err
	}
	// The header arrives once the core has subscribed us: from then on no
	// change is missed.
	if _, err := stream.Header(); err != nil {
		return err
	}
	// Events are read in a goroutine so that this one can also resync; it
	// ends with the stream (cancel above).
	evc := make(chan *voltv1.Event, 256)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			ev, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case evc <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	// The stream is in place before the first read, so a change made
	// while reading is not lost (at worst it is applied twice).
	if err := a.sync(ctx); err != nil {
		return err
	}
	up()
	select {
	case <-synced:
	default:
		close(synced)
	}
	tick := time.NewTicker(a.cfg.Resync)
	defer tick.Stop()
	for {
		select {
		case ev := <-evc:
			a.onEvent(ctx, ev)
		case err := <-errc:
			return err
		case <-tick.C:
			if err := a.sync(ctx); err != nil {
				a.log.Warn("resync failed", "err", err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sync reads every logical device and its ports, adds and removes
// datapaths to match, and sends port-status for port changes it finds.
func (a *agent) sync(ctx context.Context) error {
	cctx, cancel := a.call(ctx)
	lds, err := a.nbi.ListLogicalDevices(cctx, &emptypb.Empty{})
	cancel()
	if err != nil {
		return fmt.Errorf("list logical devices: %w", err)
	}
	seen := map[string]bool{}
	for _, ld := range lds.GetItems() {
		seen[ld.GetId()] = true
		dp, isNew := a.upsert(ld)
		err := dp.syncPorts(ctx)
		if isNew {
			dp.start()
		}
		if err != nil {
			return err
		}
	}
	a.mu.Lock()
	var gone []*datapath
	for id, dp := range a.dps {
		if !seen[id] {
			gone = append(gone, dp)
		}
	}
	a.mu.Unlock()
	for _, dp := range gone {
		a.remove(dp.id)
	}
	return nil
}

// onEvent applies one change event.
func (a *agent) onEvent(ctx context.Context, ev *voltv1.Event) {
	switch p := ev.GetPayload().(type) {
	case *voltv1.Event_LogicalDevice:
		ld := p.LogicalDevice.GetLogicalDevice()
		if p.LogicalDevice.GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED {
			a.remove(ld.GetId())
			return
		}
		dp, isNew := a.upsert(ld)
		if err := dp.syncPorts(ctx); err != nil {
			a.log.Warn("cannot read the ports of a logical device", "logical_device", ld.GetId(), "err", err)
		}
		if isNew {
			dp.start()
		}
	case *voltv1.Event_LogicalPort:
		if dp := a.datapath(ev.GetLogicalDeviceId()); dp != nil {
			dp.portChanged(p.LogicalPort.GetKind(), p.LogicalPort.GetPort())
		}
	case *voltv1.Event_Flow:
		dp := a.datapath(ev.GetLogicalDeviceId())
		if dp == nil {
			return
		}
		if p.Flow.GetRefusal() != nil {
			dp.flowRefused(p.Flow)
		}
		if p.Flow.GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED {
			dp.flowRemoved(p.Flow)
		}
	}
}

// datapath returns the datapath of a logical device, nil when unknown.
func (a *agent) datapath(id string) *datapath {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dps[id]
}

// sorted returns the datapaths in logical device id order.
func (a *agent) sortedLocked() []*datapath {
	out := make([]*datapath, 0, len(a.dps))
	for _, dp := range a.dps {
		out = append(out, dp)
	}
	slices.SortFunc(out, func(x, y *datapath) int { return strings.Compare(x.id, y.id) })
	return out
}

// upsert adds the datapath of ld or updates its description. A new one
// is not started yet: the caller reads its ports first, then starts it, so
// that controllers do not get the first ports as port-status.
func (a *agent) upsert(ld *voltv1.LogicalDevice) (dp *datapath, isNew bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if dp := a.dps[ld.GetId()]; dp != nil {
		dp.update(ld)
		return dp, false
	}
	dp = newDatapath(a, ld)
	a.dps[ld.GetId()] = dp
	a.log.Info("logical device found", "logical_device", ld.GetId(), "dpid", ofp13.DPIDString(ld.GetDatapathId()))
	a.slotsChangedLocked()
	return dp, true
}

// remove stops the datapath of a logical device that is gone, closing its
// connections.
func (a *agent) remove(id string) {
	a.mu.Lock()
	dp := a.dps[id]
	delete(a.dps, id)
	if dp != nil {
		a.slotsChangedLocked()
	}
	a.mu.Unlock()
	if dp != nil {
		a.log.Info("logical device gone; closing its connections", "logical_device", id)
		dp.stop()
	}
}

// isClosed reports whether err is the use of a closed network connection.
func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }
