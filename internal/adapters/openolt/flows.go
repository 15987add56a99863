package openolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// Persistence of flows and tech-profile instances, beside the resources:
//
//	<prefix>/openolt/<olt>/flows/<device flow id, hex> = flowRecord (JSON)
//	<prefix>/openolt/<olt>/tp/<pon>/<onu>/<uni>/<tp id> = tpInstance (JSON)
//
// A flow record keeps the openolt flow it became, with its flow id, so a
// removal or a resend after an OLT reboot uses the same ids.

// flowRecord is one device flow as the OLT holds it.
type flowRecord struct {
	DeviceFlowID uint64          `json:"device_flow_id"`
	Flow         json.RawMessage `json:"flow"` // the openolt Flow, protojson
	TP           *tpRef          `json:"tp,omitempty"`
	flow         *openolt.Flow
}

// tpRef names a tech-profile instance: per UNI and profile.
type tpRef struct {
	PON   uint32 `json:"pon"`
	ONU   uint32 `json:"onu"`
	UNI   uint32 `json:"uni"`
	TPID  uint32 `json:"tp_id"`
	Meter uint32 `json:"-"`
}

func (r tpRef) owner() string {
	return fmt.Sprintf("pon/%d/onu/%d/uni/%d/tp/%d", r.PON, r.ONU, r.UNI, r.TPID)
}

// flowKV is what the flow store asks of the store: reads and writes of
// one key.
type flowKV interface {
	List(ctx context.Context, prefix string) ([]kvstore.KV, error)
	Put(ctx context.Context, key string, value []byte, opts ...kvstore.PutOption) (int64, error)
	Delete(ctx context.Context, key string) error
}

// flowStore is the OLT's flows and tech-profile instances, cached from
// the store.
type flowStore struct {
	kv   flowKV
	keys string

	mu    sync.Mutex // guards flows and tps
	flows map[uint64]*flowRecord
	tps   map[tpRef]*tpInstance
}

func newFlowStore(kv flowKV, keys string) *flowStore {
	return &flowStore{kv: kv, keys: keys, flows: make(map[uint64]*flowRecord), tps: make(map[tpRef]*tpInstance)}
}

func (s *flowStore) flowKey(id uint64) string { return fmt.Sprintf("%sflows/%016x", s.keys, id) }
func (s *flowStore) tpKey(r tpRef) string {
	return fmt.Sprintf("%stp/%d/%d/%d/%d", s.keys, r.PON, r.ONU, r.UNI, r.TPID)
}

func (s *flowStore) load(ctx context.Context) error {
	kvs, err := s.kv.List(ctx, s.keys+"flows/")
	if err != nil {
		return fmt.Errorf("loading flows: %w", err)
	}
	tps, err := s.kv.List(ctx, s.keys+"tp/")
	if err != nil {
		return fmt.Errorf("loading tech-profile instances: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kv := range kvs {
		var r flowRecord
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return fmt.Errorf("flow record %s: %w", kv.Key, err)
		}
		r.flow = &openolt.Flow{}
		if err := protojson.Unmarshal(r.Flow, protoadapt.MessageV2Of(r.flow)); err != nil {
			return fmt.Errorf("flow record %s: %w", kv.Key, err)
		}
		s.flows[r.DeviceFlowID] = &r
	}
	for _, kv := range tps {
		var in tpInstance
		if err := json.Unmarshal(kv.Value, &in); err != nil {
			return fmt.Errorf("tech-profile instance %s: %w", kv.Key, err)
		}
		s.tps[in.ref()] = &in
	}
	return nil
}

func (s *flowStore) get(id uint64) *flowRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flows[id]
}

// UpdateFlowsIncrementally adds and removes the OLT's flows, in order,
// answering once the OLT has them. A flow the OLT refuses fails the call
// and what this call added before it is removed again.
func (h *handler) UpdateFlowsIncrementally(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) error {
	d := req.GetDevice()
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		meters := make(map[uint32]*openflowv1.MeterConfig)
		for _, m := range req.GetMeters().GetToAdd() {
			meters[m.GetMeterId()] = m
		}
		for _, m := range req.GetMeters().GetToUpdate() {
			meters[m.GetMeterId()] = m
		}
		for _, f := range req.GetFlows().GetToRemove() {
			if err := o.removeFlow(ctx, f.GetId()); err != nil {
				return err
			}
		}
		added, err := o.addFlows(ctx, req.GetFlows().GetToAdd(), meters)
		if err != nil {
			for i := len(added) - 1; i >= 0; i-- {
				if rerr := o.removeFlow(ctx, added[i]); rerr != nil {
					o.log.Warn("undoing a flow of a refused update", "flow", added[i], "err", rerr)
				}
			}
			return err
		}
		return nil
	})
}

func (o *olt) stores() (*pools, *flowStore, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.res == nil || o.flows == nil {
		return nil, nil, errUnready
	}
	return o.res, o.flows, nil
}

var errUnready = errors.New("the OLT has not been reached yet (no resource ranges)")

// addFlow translates f, gets its ids (the tech-profile instance of its
// UNI, a flow id), persists it, and sends the OLT what it needs.
func (o *olt) addFlow(ctx context.Context, f *openflowv1.Flow, meters map[uint32]*openflowv1.MeterConfig) error {
	res, fs, err := o.stores()
	if err != nil {
		return err
	}
	if fs.get(f.GetId()) != nil {
		return nil // already there (the core sends again after a restart)
	}
	p, err := translate(f)
	if err != nil {
		return err
	}
	rec := &flowRecord{DeviceFlowID: f.GetId(), flow: p.flow}
	owner := fmt.Sprintf("nni/flow/%016x", f.GetId())
	if p.onu {
		if o.onuByID(p.pon, p.onuID) == nil {
			return badFlow("flow %#x: no onu %d on pon %d", f.GetId(), p.onuID, p.pon)
		}
		ref := tpRef{PON: p.pon, ONU: p.onuID, UNI: p.uni, TPID: p.tpID}
		if ref.TPID == 0 {
			// No profile named: the UNI's, else the default.
			fs.mu.Lock()
			ref.TPID = fs.uniProfileLocked(p.pon, p.onuID, p.uni)
			fs.mu.Unlock()
			if ref.TPID == 0 {
				ref.TPID = DefaultTechProfileID
			}
		}
		fresh := !hasInstance(fs, ref)
		inst, err := o.instance(ctx, res, fs, ref)
		if err != nil {
			return err
		}
		if fresh {
			if err := o.tpToONU(ctx, inst, adapter.MsgTechProfile); err != nil {
				o.dropInstanceIfUnused(ctx, res, fs, &ref)
				return err
			}
		}
		if err := o.shape(ctx, fs, inst, p.flow.GetFlowType() == "downstream", meters[p.meter]); err != nil {
			o.dropInstanceIfUnused(ctx, res, fs, &ref)
			return err
		}
		rec.TP = &ref
		p.flow.AllocId = int32(inst.AllocID)
		p.flow.GemportId = int32(inst.gemFor(p.pbit))
		if p.pbit < 0 && len(inst.GemPorts) > 1 {
			p.flow.ReplicateFlow, p.flow.PbitToGemport = true, inst.pbitToGem()
		}
		owner = ref.owner() + fmt.Sprintf("/flow/%016x", f.GetId())
	}
	ids, err := res.Get(ctx, oltWide, PoolFlow, owner, 1)
	if err != nil {
		return err
	}
	p.flow.FlowId = uint64(ids[0])
	undo := func() {
		if err := res.Free(context.WithoutCancel(ctx), oltWide, PoolFlow, ids...); err != nil {
			o.log.Warn("freeing a flow id", "err", err)
		}
	}
	raw, err := protojson.Marshal(protoadapt.MessageV2Of(p.flow))
	if err != nil {
		undo()
		return err
	}
	rec.Flow = raw
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	_, err = o.cli.FlowAdd(cctx, p.flow)
	cancel()
	if err != nil {
		undo()
		o.dropInstanceIfUnused(ctx, res, fs, rec.TP)
		return fmt.Errorf("the OLT refused flow %#x (%s): %w", f.GetId(), describeFlow(p.flow), err)
	}
	body, err := json.Marshal(rec)
	if err == nil {
		_, err = fs.kv.Put(ctx, fs.flowKey(f.GetId()), body)
	}
	if err != nil {
		if _, rerr := o.cli.FlowRemove(context.WithoutCancel(ctx), p.flow); rerr != nil {
			o.log.Warn("removing a flow not persisted", "err", rerr)
		}
		undo()
		return fmt.Errorf("persisting flow %#x: %w", f.GetId(), err)
	}
	fs.mu.Lock()
	fs.flows[f.GetId()] = rec
	fs.mu.Unlock()
	return nil
}

// removeFlow removes a device flow from the OLT and frees its ids; the
// last flow of a tech-profile instance removes the instance.
func (o *olt) removeFlow(ctx context.Context, id uint64) error {
	res, fs, err := o.stores()
	if err != nil {
		return err
	}
	rec := fs.get(id)
	if rec == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	_, err = o.cli.FlowRemove(cctx, &openolt.Flow{FlowId: rec.flow.GetFlowId(), FlowType: rec.flow.GetFlowType(),
		AccessIntfId: rec.flow.GetAccessIntfId(), OnuId: rec.flow.GetOnuId(), UniId: rec.flow.GetUniId()})
	cancel()
	if err != nil && !unreachable(err) {
		return fmt.Errorf("FlowRemove %d: %w", rec.flow.GetFlowId(), err)
	}
	if err := fs.kv.Delete(ctx, fs.flowKey(id)); err != nil {
		return err
	}
	fs.mu.Lock()
	delete(fs.flows, id)
	fs.mu.Unlock()
	if err := res.Free(ctx, oltWide, PoolFlow, uint32(rec.flow.GetFlowId())); err != nil {
		return err
	}
	o.dropInstanceIfUnused(ctx, res, fs, rec.TP)
	return nil
}

// resendFlows sends the flows again after the OLT lost them (a reboot):
// those of u (with its schedulers and queues), or with u nil those of the
// NNI.
func (o *olt) resendFlows(ctx context.Context, u *onu) error {
	_, fs, err := o.stores()
	if err != nil {
		return nil
	}
	var recs []*flowRecord
	tps := make(map[tpRef]*tpInstance)
	fs.mu.Lock()
	for _, r := range fs.flows {
		switch {
		case u == nil && r.TP == nil:
			recs = append(recs, r)
		case u != nil && r.TP != nil && r.TP.PON == u.pon && r.TP.ONU == u.id:
			recs = append(recs, r)
			if in := fs.tps[*r.TP]; in != nil {
				tps[*r.TP] = in
			}
		}
	}
	fs.mu.Unlock()
	sort.Slice(recs, func(i, j int) bool { return recs[i].flow.GetFlowId() < recs[j].flow.GetFlowId() })
	var errs []error
	for _, in := range tps {
		errs = append(errs, o.createSchedulers(ctx, in))
	}
	for _, r := range recs {
		if _, err := o.cli.FlowAdd(ctx, r.flow); err != nil {
			errs = append(errs, fmt.Errorf("resending flow %d: %w", r.flow.GetFlowId(), err))
		}
	}
	return errors.Join(errs...)
}
