package openolt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencord/voltha-protos/v5/go/tech_profile"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// DefaultTechProfileID is the profile a subscriber flow gets (VOLTHA's
// default id): one T-CONT, one GEM port carrying every p-bit.
const DefaultTechProfileID = 64

// tpInstance is a tech profile instantiated for one UNI: its alloc id
// (T-CONT) and GEM ports, one per priority queue, in the spirit of
// VOLTHA's instance JSON.
type tpInstance struct {
	Ref      tpRef     `json:"ref"`
	Name     string    `json:"name"`
	AllocID  uint32    `json:"alloc_id"`
	GemPorts []gemPort `json:"gem_ports"`
	// Shaping and DSShaping come from the meters of the UNI's flows:
	// upstream (the T-CONT's scheduler) and downstream.
	Shaping   *shapingCfg `json:"shaping,omitempty"`
	DSShaping *shapingCfg `json:"ds_shaping,omitempty"`
}

type gemPort struct {
	ID       uint32 `json:"gemport_id"`
	PbitMap  string `json:"pbit_map"`
	Priority uint32 `json:"priority_q"`
}

// shapingCfg is what a meter gives a scheduler (kb/s, bytes).
type shapingCfg struct {
	CIR, CBS, PIR, PBS uint32
}

// defaultGemPorts is the default profile's queues: one GEM for p-bits 0-7.
var defaultGemPorts = []gemPort{{PbitMap: "0b11111111", Priority: 0}}

// gemFor is the GEM port carrying p-bit pbit (-1: any: the first).
func (in *tpInstance) gemFor(pbit int) uint32 {
	if pbit >= 0 && pbit <= 7 {
		for _, g := range in.GemPorts {
			// pbit_map "0bXXXXXXXX": the last character is p-bit 0.
			if i := len(g.PbitMap) - 1 - pbit; i >= 2 && i < len(g.PbitMap) && g.PbitMap[i] == '1' {
				return g.ID
			}
		}
	}
	return in.GemPorts[0].ID
}

func shapingFrom(m *openflowv1.MeterConfig) *shapingCfg {
	if m == nil {
		return nil
	}
	s := &shapingCfg{}
	for i, b := range m.GetBands() {
		switch i {
		case 0:
			s.CIR, s.CBS = b.GetRate(), b.GetBurstSize()
			s.PIR, s.PBS = b.GetRate(), b.GetBurstSize()
		case 1:
			s.PIR, s.PBS = b.GetRate(), b.GetBurstSize()
		}
	}
	return s
}

// instance returns the tech-profile instance of ref, creating it (ids,
// schedulers and queues on the OLT, the record in the store) when the UNI
// has none.
func (o *olt) instance(ctx context.Context, res *pools, fs *flowStore, ref tpRef) (*tpInstance, error) {
	fs.mu.Lock()
	in := fs.tps[ref]
	fs.mu.Unlock()
	if in != nil {
		return in, nil
	}
	owner := ref.owner()
	alloc, err := res.Get(ctx, int(ref.PON), PoolAlloc, owner, 1)
	if err != nil {
		return nil, err
	}
	gems, err := res.Get(ctx, int(ref.PON), PoolGEM, owner, len(defaultGemPorts))
	if err != nil {
		_ = res.Free(ctx, int(ref.PON), PoolAlloc, alloc...)
		return nil, err
	}
	in = &tpInstance{Ref: ref, Name: fmt.Sprintf("default-%d", ref.TPID), AllocID: alloc[0]}
	for i, g := range defaultGemPorts {
		g.ID = gems[i]
		in.GemPorts = append(in.GemPorts, g)
	}
	free := func() {
		c := context.WithoutCancel(ctx)
		_ = res.Free(c, int(ref.PON), PoolAlloc, alloc...)
		_ = res.Free(c, int(ref.PON), PoolGEM, gems...)
	}
	if err := o.createSchedulers(ctx, in); err != nil {
		free()
		return nil, err
	}
	body, err := json.Marshal(in)
	if err == nil {
		_, err = fs.kv.Put(ctx, fs.tpKey(ref), body)
	}
	if err != nil {
		o.removeSchedulers(context.WithoutCancel(ctx), in)
		free()
		return nil, fmt.Errorf("persisting tech-profile instance %s: %w", owner, err)
	}
	fs.mu.Lock()
	fs.tps[ref] = in
	fs.mu.Unlock()
	return in, nil
}

func shapingInfo(s *shapingCfg) *tech_profile.TrafficShapingInfo {
	if s == nil {
		return &tech_profile.TrafficShapingInfo{}
	}
	return &tech_profile.TrafficShapingInfo{Cir: s.CIR, Cbs: s.CBS, Pir: s.PIR, Pbs: s.PBS}
}

func schedulersOf(in *tpInstance) *tech_profile.TrafficSchedulers {
	r := in.Ref
	sched := func(dir tech_profile.Direction, sh *shapingCfg) *tech_profile.TrafficScheduler {
		return &tech_profile.TrafficScheduler{
			Direction: dir, AllocId: in.AllocID, TechProfileId: r.TPID,
			Scheduler: &tech_profile.SchedulerConfig{Direction: dir,
				AdditionalBw: tech_profile.AdditionalBW_AdditionalBW_BestEffort, SchedPolicy: tech_profile.SchedulingPolicy_Hybrid},
			TrafficShapingInfo: shapingInfo(sh),
		}
	}
	ts := &tech_profile.TrafficSchedulers{IntfId: r.PON, OnuId: r.ONU, UniId: r.UNI, PortNo: uniPort(r),
		TrafficScheds: []*tech_profile.TrafficScheduler{sched(tech_profile.Direction_UPSTREAM, in.Shaping)}}
	if in.DSShaping != nil {
		ts.TrafficScheds = append(ts.TrafficScheds, sched(tech_profile.Direction_DOWNSTREAM, in.DSShaping))
	}
	return ts
}

// shape records the meter of a flow of the instance (its first meter per
// direction) and updates the schedulers on the OLT.
func (o *olt) shape(ctx context.Context, fs *flowStore, in *tpInstance, downstream bool, m *openflowv1.MeterConfig) error {
	if m == nil {
		return nil
	}
	fs.mu.Lock()
	next := *in
	switch {
	case downstream && in.DSShaping == nil:
		next.DSShaping = shapingFrom(m)
	case !downstream && in.Shaping == nil:
		next.Shaping = shapingFrom(m)
	default:
		fs.mu.Unlock()
		return nil
	}
	fs.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.CreateTrafficSchedulers(cctx, schedulersOf(&next)); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("CreateTrafficSchedulers (meter %d) for %s: %w", m.GetMeterId(), in.Ref.owner(), err)
	}
	body, err := json.Marshal(&next)
	if err == nil {
		_, err = fs.kv.Put(ctx, fs.tpKey(in.Ref), body)
	}
	if err != nil {
		return fmt.Errorf("persisting tech-profile instance %s: %w", in.Ref.owner(), err)
	}
	fs.mu.Lock()
	*in = next
	fs.mu.Unlock()
	return nil
}

func queuesOf(in *tpInstance) *tech_profile.TrafficQueues {
	r := in.Ref
	q := &tech_profile.TrafficQueues{IntfId: r.PON, OnuId: r.ONU, UniId: r.UNI, PortNo: uniPort(r), TechProfileId: r.TPID}
	for _, g := range in.GemPorts {
		q.TrafficQueues = append(q.TrafficQueues, &tech_profile.TrafficQueue{Direction: tech_profile.Direction_BIDIRECTIONAL,
			GemportId: g.ID, PbitMap: g.PbitMap, Priority: g.Priority, SchedPolicy: tech_profile.SchedulingPolicy_StrictPriority,
			DiscardPolicy: tech_profile.DiscardPolicy_TailDrop})
	}
	return q
}

func (o *olt) createSchedulers(ctx context.Context, in *tpInstance) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.CreateTrafficSchedulers(cctx, schedulersOf(in)); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("CreateTrafficSchedulers for %s: %w", in.Ref.owner(), err)
	}
	if _, err := o.cli.CreateTrafficQueues(cctx, queuesOf(in)); err != nil && status.Code(err) != codes.AlreadyExists {
		o.removeSchedulers(ctx, in)
		return fmt.Errorf("CreateTrafficQueues for %s: %w", in.Ref.owner(), err)
	}
	return nil
}

func (o *olt) removeSchedulers(ctx context.Context, in *tpInstance) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.RemoveTrafficQueues(cctx, queuesOf(in)); err != nil {
		o.log.Info("RemoveTrafficQueues", "tp", in.Ref.owner(), "err", err)
	}
	if _, err := o.cli.RemoveTrafficSchedulers(cctx, schedulersOf(in)); err != nil {
		o.log.Info("RemoveTrafficSchedulers", "tp", in.Ref.owner(), "err", err)
	}
}

// dropInstanceIfUnused removes the instance ref when no flow uses it: its
// queues and schedulers, its record and its ids.
func (o *olt) dropInstanceIfUnused(ctx context.Context, res *pools, fs *flowStore, ref *tpRef) {
	if ref == nil {
		return
	}
	fs.mu.Lock()
	for _, r := range fs.flows {
		if r.TP != nil && *r.TP == *ref {
			fs.mu.Unlock()
			return
		}
	}
	in := fs.tps[*ref]
	delete(fs.tps, *ref)
	fs.mu.Unlock()
	if in == nil {
		return
	}
	if err := o.tpToONU(ctx, in, adapter.MsgTechProfileDelete); err != nil {
		o.log.Warn("telling the ONU's adapter a tech-profile instance is gone", "tp", ref.owner(), "err", err)
	}
	o.removeSchedulers(ctx, in)
	if err := fs.kv.Delete(ctx, fs.tpKey(*ref)); err != nil {
		o.log.Warn("deleting a tech-profile instance", "tp", ref.owner(), "err", err)
	}
	if err := res.FreeOwner(ctx, int(ref.PON), ref.owner()); err != nil {
		o.log.Warn("freeing a tech-profile instance's ids", "tp", ref.owner(), "err", err)
	}
}
