package openolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"

	"github.com/openvolt/openvolt/adapter"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/techprofile"
)

// Adding the flows of one incremental update takes four steps, so that a
// thousand subscribers cost a few store transactions rather than several
// per flow:
//
//  1. plan, in memory and in the given order: translate each flow, find
//     or make its UNI's tech-profile instance (alloc and GEM port ids
//     reserved in the pools, shaping from the meters), reserve its flow
//     id and build the openolt flow;
//  2. claim: persist every id (as create-only keys, so two adapter
//     replicas never hand out one id twice), every new or reshaped
//     instance and every flow record, in as few transactions as the
//     store takes (kvstore.Batch, 128 ops each on etcd);
//  3. send: the ONUs' work runs concurrently, each ONU's in order:
//     schedulers and queues of its new instances, the instance to the
//     ONU's adapter, then its flows (FlowAdd is one call per flow in the
//     openolt API);
//  4. on failure, undo: a flow the OLT refused undoes the whole update
//     (nothing is left half-applied); an update cut short by its deadline
//     keeps what the OLT took and undoes only the rest, so the core's
//     retry goes on from there.
//
// The claim comes before the OLT calls: an adapter that dies in between
// leaves records of flows the OLT lacks (sent again on an OLT reboot),
// never flows on the OLT whose ids could be handed out again.

// maxFlowGroups bounds how many ONUs' flows one update sends at once.
const maxFlowGroups = 64

// undoTimeout bounds the undo of an update whose context has ended.
const undoTimeout = 10 * time.Second

// addPlan is an update's additions, planned.
type addPlan struct {
	res *pools
	fs  *flowStore

	groups []*flowGroup // in order of first appearance
	byKey  map[groupKey]*flowGroup
	// instances made or reshaped by this update, by UNI and profile.
	instances map[tpRef]*planned
	profiles  map[uint32]*techprofile.Profile // read once per update
	seen      map[uint64]bool                 // device flows planned
	tech      string

	ops  []kvstore.Op // the claim: ids, instances, flows
	undo []kvstore.Op // what reverts the claim, op by op
	ids  []reserved   // ids reserved in memory
}

type groupKey struct {
	sub      bool
	pon, onu uint32
}

// flowGroup is the work of one ONU (or of the NNI), sent in order.
type flowGroup struct {
	insts []*planned    // new or reshaped instances of the ONU's UNIs
	recs  []*flowRecord // its flows
	sent  int           // how many of recs the OLT took
	setUp int           // how many of insts are on the OLT (and told the ONU)
}

// planned is an instance the update makes (fresh) or reshapes (a copy
// that replaces the one in the store when the update succeeds).
type planned struct {
	in    *tpInstance
	fresh bool
	old   *tpInstance // reshaped: the instance it replaces
}

type reserved struct {
	pon   int
	name  string
	owner string
	id    uint32
}

// addFlows adds flows to the OLT and the store (see above). It runs in
// the OLT's queue, so no other update of the OLT runs meanwhile.
func (o *olt) addFlows(ctx context.Context, flows []*openflowv1.Flow, meters map[uint32]*openflowv1.MeterConfig) error {
	res, fs, err := o.stores()
	if err != nil {
		return err
	}
	pl := &addPlan{res: res, fs: fs, byKey: make(map[groupKey]*flowGroup), instances: make(map[tpRef]*planned),
		profiles: make(map[uint32]*techprofile.Profile), seen: make(map[uint64]bool)}
	for _, f := range flows {
		if err := o.planFlow(ctx, pl, f, meters); err != nil {
			pl.release()
			return err
		}
	}
	if len(pl.groups) == 0 {
		return nil
	}
	// The store and the OLT are written under a context the caller's end
	// does not cut: a write cut short may still have been applied, and
	// what the update leaves behind must be known. The caller's end stops
	// the update between calls.
	if err := ctx.Err(); err != nil {
		pl.release()
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	err = o.claim(cctx, pl)
	cancel()
	if err != nil {
		pl.release()
		return err
	}
	refused, err := o.send(ctx, pl)
	if err == nil {
		pl.commit()
		return nil
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	if refused {
		o.undoAll(uctx, pl)
		return err
	}
	o.undoUnsent(uctx, pl)
	return err
}

// planFlow plans one flow: its instance, ids and openolt flow.
func (o *olt) planFlow(ctx context.Context, pl *addPlan, f *openflowv1.Flow, meters map[uint32]*openflowv1.MeterConfig) error {
	if pl.fs.get(f.GetId()) != nil || pl.seen[f.GetId()] {
		return nil // already there (the core sends again after a restart)
	}
	pl.seen[f.GetId()] = true
	p, err := translate(f)
	if err != nil {
		return err
	}
	rec := &flowRecord{DeviceFlowID: f.GetId(), flow: p.flow}
	owner := fmt.Sprintf("nni/flow/%016x", f.GetId())
	var key groupKey
	if p.onu {
		if o.onuByID(p.pon, p.onuID) == nil {
			return badFlow("flow %#x: no onu %d on pon %d", f.GetId(), p.onuID, p.pon)
		}
		key = groupKey{true, p.pon, p.onuID}
		ref := tpRef{PON: p.pon, ONU: p.onuID, UNI: p.uni, TPID: p.tpID}
		if ref.TPID == 0 {
			// No profile named: the UNI's, else the default.
			ref.TPID = pl.uniProfile(p.pon, p.onuID, p.uni)
			if ref.TPID == 0 {
				ref.TPID = DefaultTechProfileID
			}
		}
		g := pl.group(key)
		in, err := o.planInstance(ctx, pl, g, ref)
		if err != nil {
			return err
		}
		if err := pl.shape(g, ref, in, p.flow.GetFlowType() == "downstream", meters[p.meter]); err != nil {
			return err
		}
		in = pl.current(ref, in)
		rec.TP = &ref
		p.flow.AllocId = int32(in.AllocID)
		p.flow.GemportId = int32(in.gemFor(p.pbit))
		if p.pbit < 0 && len(in.GemPorts) > 1 {
			p.flow.ReplicateFlow, p.flow.PbitToGemport = true, in.pbitToGem()
		}
		owner = ref.owner() + fmt.Sprintf("/flow/%016x", f.GetId())
	}
	ids, err := pl.reserve(oltWide, PoolFlow, owner, 1)
	if err != nil {
		return err
	}
	p.flow.FlowId = uint64(ids[0])
	raw, err := protojson.Marshal(protoadapt.MessageV2Of(p.flow))
	if err != nil {
		return err
	}
	rec.Flow = raw
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	key2 := pl.fs.flowKey(f.GetId())
	pl.ops = append(pl.ops, kvstore.Op{Key: key2, Value: body})
	pl.undo = append(pl.undo, kvstore.Op{Key: key2, Delete: true})
	g := pl.group(key)
	g.recs = append(g.recs, rec)
	return nil
}

func (pl *addPlan) group(k groupKey) *flowGroup {
	g := pl.byKey[k]
	if g == nil {
		g = &flowGroup{}
		pl.byKey[k] = g
		pl.groups = append(pl.groups, g)
	}
	return g
}

// uniProfile is the lowest profile id of an instance the UNI has or gets
// in this update, or 0.
func (pl *addPlan) uniProfile(pon, onuID, uni uint32) uint32 {
	pl.fs.mu.Lock()
	id := pl.fs.uniProfileLocked(pon, onuID, uni)
	pl.fs.mu.Unlock()
	for r := range pl.instances {
		if r.PON == pon && r.ONU == onuID && r.UNI == uni && (id == 0 || r.TPID < id) {
			id = r.TPID
		}
	}
	return id
}

// current is the instance ref has after this update.
func (pl *addPlan) current(ref tpRef, in *tpInstance) *tpInstance {
	if p := pl.instances[ref]; p != nil {
		return p.in
	}
	return in
}

// reserve takes ids in memory, to be claimed with the update.
func (pl *addPlan) reserve(pon int, name, owner string, n int) ([]uint32, error) {
	ids, err := pl.res.reserve(pon, name, owner, n)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		pl.ids = append(pl.ids, reserved{pon, name, owner, id})
		key := pl.res.key(pon, name, id)
		pl.ops = append(pl.ops, kvstore.Op{Key: key, Value: []byte(owner), Create: true})
		pl.undo = append(pl.undo, kvstore.Op{Key: key, Delete: true})
	}
	return ids, nil
}

// release gives back the ids reserved in memory (nothing was claimed).
func (pl *addPlan) release() {
	for _, r := range pl.ids {
		pl.res.release(r.pon, r.name, r.owner, r.id)
	}
	pl.ids = nil
}

// planInstance returns the instance of ref: the UNI's, or a new one
// (ids reserved) that the update makes.
func (o *olt) planInstance(ctx context.Context, pl *addPlan, g *flowGroup, ref tpRef) (*tpInstance, error) {
	if p := pl.instances[ref]; p != nil {
		return p.in, nil
	}
	pl.fs.mu.Lock()
	in := pl.fs.tps[ref]
	pl.fs.mu.Unlock()
	if in != nil {
		return in, nil
	}
	prof := pl.profiles[ref.TPID]
	if prof == nil {
		tech, p, err := o.profile(ctx, ref.TPID)
		if err != nil {
			return nil, err
		}
		pl.tech, prof = tech, p
		pl.profiles[ref.TPID] = p
	}
	owner := ref.owner()
	alloc, err := pl.reserve(int(ref.PON), PoolAlloc, owner, 1)
	if err != nil {
		return nil, err
	}
	gems, err := pl.reserve(int(ref.PON), PoolGEM, owner, len(prof.UpstreamGEMs))
	if err != nil {
		return nil, err
	}
	in = &tpInstance{TPID: ref.TPID, PON: ref.PON, ONU: ref.ONU, UNI: ref.UNI, Technology: pl.tech, Name: prof.Name,
		AllocID: alloc[0], USScheduler: prof.USScheduler, DSScheduler: prof.DSScheduler}
	for i, us := range prof.UpstreamGEMs {
		// Validate paired the lists by index.
		us, ds := us, prof.DownstreamGEMs[i]
		in.GemPorts = append(in.GemPorts, TechProfileGemPort{ID: gems[i], PbitMap: us.PbitMap, Priority: uint32(us.PriorityQ),
			Upstream: &us, Downstream: &ds})
	}
	p := &planned{in: in, fresh: true}
	pl.instances[ref] = p
	g.insts = append(g.insts, p)
	return in, nil
}

// shape records the meter of a flow of the instance (its first meter per
// direction): a fresh instance gets it before its schedulers are made; a
// UNI's existing instance is reshaped (a copy, sent and stored with the
// update).
func (pl *addPlan) shape(g *flowGroup, ref tpRef, in *tpInstance, downstream bool, m *openflowv1.MeterConfig) error {
	if m == nil {
		return nil
	}
	p := pl.instances[ref]
	cur := in
	if p != nil {
		cur = p.in
	}
	if (downstream && cur.DSShaping != nil) || (!downstream && cur.Shaping != nil) {
		return nil
	}
	if p == nil {
		pl.fs.mu.Lock()
		next := *in
		pl.fs.mu.Unlock()
		p = &planned{in: &next, old: in}
		pl.instances[ref] = p
		g.insts = append(g.insts, p)
	}
	if downstream {
		p.in.DSShaping = shapingFrom(m)
	} else {
		p.in.Shaping = shapingFrom(m)
	}
	return nil
}

// claim persists the plan: instances (their final form), ids and flows,
// in chunks written several at once; a chunk that fails undoes the
// others.
func (o *olt) claim(ctx context.Context, pl *addPlan) error {
	var ops, undo []kvstore.Op
	for ref, p := range pl.instances {
		body, err := json.Marshal(p.in)
		if err != nil {
			return err
		}
		key := pl.fs.tpKey(ref)
		ops = append(ops, kvstore.Op{Key: key, Value: body})
		if p.fresh {
			undo = append(undo, kvstore.Op{Key: key, Delete: true})
		} else {
			old, err := json.Marshal(p.old)
			if err != nil {
				return err
			}
			undo = append(undo, kvstore.Op{Key: key, Value: old})
		}
	}
	pl.ops, pl.undo = append(ops, pl.ops...), append(undo, pl.undo...)
	applied, err := batchChunks(ctx, pl.fs.kv, pl.ops)
	if err == nil {
		return nil
	}
	var back []kvstore.Op
	for i, ok := range applied {
		if ok {
			back = append(back, pl.undo[i])
		}
	}
	if uerr := batchAll(context.WithoutCancel(ctx), pl.fs.kv, back); uerr != nil {
		o.log.Warn("undoing a claim that failed half way", "err", uerr)
	}
	if errors.Is(err, kvstore.ErrConflict) {
		// Another replica of this adapter took some of the ids: learn them.
		if lerr := pl.res.load(context.WithoutCancel(ctx)); lerr != nil {
			o.log.Warn("reloading the resource pools", "err", lerr)
		}
		return status.Errorf(codes.Aborted, "openolt: resource ids taken meanwhile by another adapter replica (retry): %v", err)
	}
	return fmt.Errorf("persisting flows and their ids: %w", err)
}

// send does the OLT's work of the plan: the ONUs' concurrently, each in
// order. refused says the OLT (not the context) failed a call.
func (o *olt) send(ctx context.Context, pl *addPlan) (refused bool, err error) {
	var (
		mu    sync.Mutex // guards first, refused
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first, refused = err, ctx.Err() == nil
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return first != nil
	}
	conc := maxFlowGroups
	if len(pl.groups) <= 2 {
		conc = 1 // one ONU and the NNI: in the order given
	}
	sem := make(chan struct{}, conc)
	for _, g := range pl.groups {
		if failed() {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := o.sendGroup(ctx, g, failed); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	return refused, first
}

func (o *olt) sendGroup(ctx context.Context, g *flowGroup, failed func() bool) error {
	work := context.WithoutCancel(ctx) // see addFlows
	cut := func() error {
		if ctx.Err() != nil {
			return fmt.Errorf("the update was cut short: %w", context.Cause(ctx))
		}
		return nil
	}
	for _, p := range g.insts {
		if err := cut(); err != nil {
			return err
		}
		if p.fresh {
			if err := o.createSchedulers(work, p.in); err != nil {
				return err
			}
			if err := o.tpToONU(work, p.in, adapter.MsgTechProfile); err != nil {
				o.removeSchedulers(work, p.in)
				return err
			}
		} else {
			cctx, cancel := context.WithTimeout(work, callTimeout)
			_, err := o.cli.CreateTrafficSchedulers(cctx, schedulersOf(p.in))
			cancel()
			if err != nil && status.Code(err) != codes.AlreadyExists {
				return fmt.Errorf("CreateTrafficSchedulers (shaping) for %s: %w", p.in.ref().owner(), err)
			}
		}
		g.setUp++
	}
	for _, rec := range g.recs {
		if failed() {
			return nil
		}
		if err := cut(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(work, callTimeout)
		_, err := o.cli.FlowAdd(cctx, rec.flow)
		cancel()
		if err != nil {
			return fmt.Errorf("the OLT refused flow %#x (%s): %w", rec.DeviceFlowID, describeFlow(rec.flow), err)
		}
		g.sent++
	}
	return nil
}

// commit makes the update's records the flow store's.
func (pl *addPlan) commit() {
	pl.fs.mu.Lock()
	defer pl.fs.mu.Unlock()
	for ref, p := range pl.instances {
		if cur := pl.fs.tps[ref]; cur != nil && !p.fresh {
			*cur = *p.in
			continue
		}
		pl.fs.tps[ref] = p.in
	}
	for _, g := range pl.groups {
		for _, rec := range g.recs {
			pl.fs.putLocked(rec)
		}
	}
}

// undoAll reverts an update the OLT refused: its flows and new instances
// leave the OLT, the ONU's adapter hears the instances are gone, and the
// claim is undone.
func (o *olt) undoAll(ctx context.Context, pl *addPlan) {
	for _, g := range pl.groups {
		for _, rec := range g.recs[:g.sent] {
			if _, err := o.cli.FlowRemove(ctx, flowKeyOf(rec)); err != nil {
				o.log.Warn("undoing a flow of a refused update", "flow", rec.DeviceFlowID, "err", err)
			}
		}
		for _, p := range g.insts[:g.setUp] {
			if !p.fresh {
				continue // shaping stays on the OLT; the store keeps the old record
			}
			if err := o.tpToONU(ctx, p.in, adapter.MsgTechProfileDelete); err != nil {
				o.log.Warn("telling the ONU's adapter a tech-profile instance is gone", "tp", p.in.ref().owner(), "err", err)
			}
			o.removeSchedulers(ctx, p.in)
		}
	}
	if err := batchAll(ctx, pl.fs.kv, pl.undo); err != nil {
		o.log.Warn("undoing the records of a refused update", "err", err)
	}
	pl.release()
}

// undoUnsent keeps what the OLT took of an update cut short (its context
// ended) and undoes the rest: the flows not sent and the instances not
// set up, with their ids.
func (o *olt) undoUnsent(ctx context.Context, pl *addPlan) {
	keep := make(map[string]bool)
	kept := make(map[tpRef]bool)
	for _, g := range pl.groups {
		for _, rec := range g.recs[:g.sent] {
			keep[pl.fs.flowKey(rec.DeviceFlowID)] = true
			keep[pl.res.key(oltWide, PoolFlow, uint32(rec.flow.GetFlowId()))] = true
		}
		for _, p := range g.insts[:g.setUp] {
			r := p.in.ref()
			kept[r] = true
			keep[pl.fs.tpKey(r)] = true
			keep[pl.res.key(int(r.PON), PoolAlloc, p.in.AllocID)] = true
			for _, gp := range p.in.GemPorts {
				keep[pl.res.key(int(r.PON), PoolGEM, gp.ID)] = true
			}
		}
	}
	var undo []kvstore.Op
	for i, op := range pl.ops {
		if !keep[op.Key] {
			undo = append(undo, pl.undo[i])
		}
	}
	if err := batchAll(ctx, pl.fs.kv, undo); err != nil {
		o.log.Warn("undoing the records of an update cut short", "err", err)
	}
	for _, r := range pl.ids {
		if !keep[pl.res.key(r.pon, r.name, r.id)] {
			pl.res.release(r.pon, r.name, r.owner, r.id)
		}
	}
	pl.fs.mu.Lock()
	defer pl.fs.mu.Unlock()
	for ref, p := range pl.instances {
		if !kept[ref] {
			continue
		}
		if cur := pl.fs.tps[ref]; cur != nil && !p.fresh {
			*cur = *p.in
			continue
		}
		pl.fs.tps[ref] = p.in
	}
	for _, g := range pl.groups {
		for _, rec := range g.recs[:g.sent] {
			pl.fs.putLocked(rec)
		}
	}
}

// claimChunks is how many chunks of a claim are in flight at once: etcd
// shares one disk write among the transactions that arrive together.
const claimChunks = 8

// chunkOps splits ops into chunks the store applies atomically.
func chunkOps(kv flowKV, ops []kvstore.Op) [][2]int {
	max := kv.MaxBatch()
	var out [][2]int
	for done := 0; done < len(ops); {
		n, bytes := 0, 0
		for done+n < len(ops) && n < max {
			b := len(ops[done+n].Key) + len(ops[done+n].Value)
			if n > 0 && bytes+b > kvstore.MaxTxnBytes {
				break
			}
			bytes += b
			n++
		}
		out = append(out, [2]int{done, done + n})
		done += n
	}
	return out
}

// batchChunks writes ops in chunks, several at once, and returns which
// ops were applied (whole chunks) and the first error.
func batchChunks(ctx context.Context, kv flowKV, ops []kvstore.Op) ([]bool, error) {
	applied := make([]bool, len(ops))
	var (
		mu    sync.Mutex // guards first
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, claimChunks)
	for _, c := range chunkOps(kv, ops) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := kv.Batch(ctx, ops[c[0]:c[1]]); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				return
			}
			for i := c[0]; i < c[1]; i++ {
				applied[i] = true // each chunk its own indexes
			}
		})
	}
	wg.Wait()
	return applied, first
}

func batchAll(ctx context.Context, kv flowKV, ops []kvstore.Op) error {
	_, err := batchChunks(ctx, kv, ops)
	return err
}
