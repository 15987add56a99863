package openolt

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// removeFlows removes device flows from the OLT, different ONUs'
// concurrently and each ONU's in order, then drops their records and
// frees their ids in as few store transactions as it takes; the last
// flow of a tech-profile instance removes the instance (its queues and
// schedulers, its record and ids, and the ONU's adapter hears of it). A
// flow the OLT fails to remove (other than by being unreachable: it lost
// the flow with everything else) keeps its record, and the first such
// error is returned.
func (o *olt) removeFlows(ctx context.Context, ids []uint64) error {
	res, fs, err := o.stores()
	if err != nil {
		return err
	}
	var order []groupKey
	groups := make(map[groupKey][]*flowRecord)
	for _, id := range ids {
		rec := fs.get(id)
		if rec == nil {
			continue
		}
		var k groupKey
		if rec.TP != nil {
			k = groupKey{true, rec.TP.PON, rec.TP.ONU}
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], rec)
	}
	if len(order) == 0 {
		return nil
	}
	var (
		mu    sync.Mutex // guards gone, first
		gone  []*flowRecord
		first error
		wg    sync.WaitGroup
	)
	// As for additions (flowadd.go), the calls run under a context the
	// caller's end does not cut, which stops the removal between calls.
	work := context.WithoutCancel(ctx)
	sem := make(chan struct{}, maxFlowGroups)
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, rec := range groups[k] {
				if ctx.Err() != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("the removal was cut short: %w", context.Cause(ctx))
					}
					mu.Unlock()
					return
				}
				cctx, cancel := context.WithTimeout(work, callTimeout)
				_, err := o.cli.FlowRemove(cctx, flowKeyOf(rec))
				cancel()
				mu.Lock()
				// NotFound: the OLT no longer has it (a removal sent
				// before, whose answer was lost).
				if err != nil && !unreachable(err) && status.Code(err) != codes.NotFound {
					if first == nil {
						first = fmt.Errorf("FlowRemove %d: %w", rec.flow.GetFlowId(), err)
					}
					mu.Unlock()
					return
				}
				gone = append(gone, rec)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	// The records and flow ids of the flows gone, and the instances left
	// without flows.
	var ops []kvstore.Op
	dropped := make(map[uint64]bool, len(gone))
	for _, rec := range gone {
		dropped[rec.DeviceFlowID] = true
		ops = append(ops, kvstore.Op{Key: fs.flowKey(rec.DeviceFlowID), Delete: true},
			kvstore.Op{Key: res.key(oltWide, PoolFlow, uint32(rec.flow.GetFlowId())), Delete: true})
	}
	unused := make(map[tpRef]*tpInstance)
	fs.mu.Lock()
	for _, rec := range gone {
		if rec.TP != nil && fs.tps[*rec.TP] != nil {
			unused[*rec.TP] = fs.tps[*rec.TP]
		}
	}
	for id, r := range fs.flows {
		if r.TP != nil && !dropped[id] {
			delete(unused, *r.TP)
		}
	}
	fs.mu.Unlock()
	var freed []reserved
	for ref, in := range unused {
		ops = append(ops, kvstore.Op{Key: fs.tpKey(ref), Delete: true})
		for _, r := range res.ownedBy(int(ref.PON), ref.owner()) {
			ops = append(ops, kvstore.Op{Key: res.key(r.pon, r.name, r.id), Delete: true})
			freed = append(freed, r)
		}
		if err := o.tpToONU(work, in, adapter.MsgTechProfileDelete); err != nil {
			o.log.Warn("telling the ONU's adapter a tech-profile instance is gone", "tp", ref.owner(), "err", err)
		}
		o.removeSchedulers(work, in)
	}
	sctx, cancel := context.WithTimeout(work, callTimeout)
	defer cancel()
	if err := batchAll(sctx, fs.kv, uniqueOps(ops)); err != nil {
		// The flows left the OLT: keep the records until the store takes
		// the change (a later removal finds them and completes it).
		return fmt.Errorf("dropping the records of removed flows: %w", err)
	}
	fs.mu.Lock()
	for _, rec := range gone {
		fs.dropLocked(rec)
	}
	for ref := range unused {
		delete(fs.tps, ref)
	}
	fs.mu.Unlock()
	for _, rec := range gone {
		res.forget(oltWide, PoolFlow, uint32(rec.flow.GetFlowId()))
	}
	for _, r := range freed {
		res.forget(r.pon, r.name, r.id)
	}
	return first
}

// uniqueOps drops later ops on a key already in ops (a transaction takes
// a key once).
func uniqueOps(ops []kvstore.Op) []kvstore.Op {
	seen := make(map[string]bool, len(ops))
	out := ops[:0]
	for _, op := range ops {
		if !seen[op.Key] {
			seen[op.Key] = true
			out = append(out, op)
		}
	}
	return out
}
