package openolt

import (
	"context"
	"sync"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// maxFlowGroups bounds how many ONUs' flows one update adds at once.
const maxFlowGroups = 32

// addFlows adds flows, those of one ONU in order (they share its
// tech-profile instances) and those of different ONUs (and the NNI's)
// concurrently: each flow waits for the OLT and the store, and a large
// update (a thousand subscribers) would otherwise outlast the core's
// call. An update of one ONU's flows (and the NNI's) runs in order. It
// returns the ids of the flows added and the first error; on an error,
// groups not yet started are skipped.
func (o *olt) addFlows(ctx context.Context, flows []*openflowv1.Flow, meters map[uint32]*openflowv1.MeterConfig) ([]uint64, error) {
	type key struct {
		sub      bool
		pon, onu uint32
	}
	var order []key
	groups := make(map[key][]*openflowv1.Flow)
	for _, f := range flows {
		var k key
		if p, err := translate(f); err == nil && p.onu {
			k = key{true, p.pon, p.onuID}
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	if len(order) <= 2 {
		// One ONU (and the NNI): in the order given, so that flow ids
		// follow it as they always did.
		var added []uint64
		for _, f := range flows {
			if err := o.addFlow(ctx, f, meters); err != nil {
				return added, err
			}
			added = append(added, f.GetId())
		}
		return added, nil
	}
	var (
		mu    sync.Mutex // guards added, first
		added []uint64
		first error
		wg    sync.WaitGroup
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return first != nil
	}
	sem := make(chan struct{}, maxFlowGroups)
	for _, k := range order {
		if failed() {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, f := range groups[k] {
				if failed() {
					return
				}
				err := o.addFlow(ctx, f, meters)
				mu.Lock()
				if err != nil {
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				added = append(added, f.GetId())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return added, first
}
