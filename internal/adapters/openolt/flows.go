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

// flowKV is what the flow store asks of the store: reads, writes of one
// key, and the batches an update is persisted in.
type flowKV interface {
	List(ctx context.Context, prefix string) ([]kvstore.KV, error)
	Put(ctx context.Context, key string, value []byte, opts ...kvstore.PutOption) (int64, error)
	Delete(ctx context.Context, key string) error
	Batch(ctx context.Context, ops []kvstore.Op) error
	MaxBatch() int
}

// flowStore is the OLT's flows and tech-profile instances, cached from
// the store.
type flowStore struct {
	kv   flowKV
	keys string

	mu     sync.Mutex // guards flows, byFlow and tps
	flows  map[uint64]*flowRecord
	byFlow map[uint64]uint64 // openolt flow id → device flow id, for flow statistics
	tps    map[tpRef]*tpInstance
}

func newFlowStore(kv flowKV, keys string) *flowStore {
	return &flowStore{kv: kv, keys: keys, flows: make(map[uint64]*flowRecord),
		byFlow: make(map[uint64]uint64), tps: make(map[tpRef]*tpInstance)}
}

// putLocked and dropLocked keep a record in flows and byFlow.
func (s *flowStore) putLocked(r *flowRecord) {
	s.flows[r.DeviceFlowID] = r
	s.byFlow[r.flow.GetFlowId()] = r.DeviceFlowID
}

func (s *flowStore) dropLocked(r *flowRecord) {
	delete(s.flows, r.DeviceFlowID)
	if s.byFlow[r.flow.GetFlowId()] == r.DeviceFlowID {
		delete(s.byFlow, r.flow.GetFlowId())
	}
}

// deviceFlow returns the device flow an openolt flow id carries.
func (s *flowStore) deviceFlow(openoltID uint64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byFlow[openoltID]
	return id, ok
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
		s.putLocked(&r)
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

// UpdateFlowsIncrementally removes and adds the OLT's flows, answering
// once the OLT has them. A flow the OLT refuses fails the call and what
// this call added is removed again (flowadd.go).
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
		if rm := req.GetFlows().GetToRemove(); len(rm) > 0 {
			ids := make([]uint64, len(rm))
			for i, f := range rm {
				ids[i] = f.GetId()
			}
			if err := o.removeFlows(ctx, ids); err != nil {
				return err
			}
		}
		return o.addFlows(ctx, req.GetFlows().GetToAdd(), meters)
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

// flowKeyOf is what FlowRemove needs of a flow.
func flowKeyOf(rec *flowRecord) *openolt.Flow {
	return &openolt.Flow{FlowId: rec.flow.GetFlowId(), FlowType: rec.flow.GetFlowType(),
		AccessIntfId: rec.flow.GetAccessIntfId(), OnuId: rec.flow.GetOnuId(), UniId: rec.flow.GetUniId()}
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
