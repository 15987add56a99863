package openolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/opencord/voltha-protos/v5/go/tech_profile"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/techprofile"
)

// DefaultTechProfileID is the profile a subscriber flow gets when its
// write_metadata names none (VOLTHA's default id).
const DefaultTechProfileID = techprofile.DefaultID

// DefaultTechnology is the technology profiles are looked up under when
// the OLT's device info names none.
const DefaultTechnology = "XGS-PON"

// TechProfileInstance is a tech profile instantiated for one UNI, in the
// spirit of VOLTHA's tech-profile instance: the T-CONT (AllocID, with the
// profile's upstream scheduler) and a GEM port per priority queue of the
// profile, each with the p-bits it carries and its queue attributes both
// ways. It has one JSON form, both persisted under
// <prefix>/openolt/<olt>/tp/<pon>/<onu>/<uni>/<tp id> and sent to the
// ONU's adapter as the body of adapter.MsgTechProfile, which configures
// OMCI from it (T-CONT, GEM port network CTPs, 802.1p mapper).
//
// Records written before the two forms were one kept the UNI and profile
// under "ref"; UnmarshalJSON reads them, and the next write of the
// instance stores the flat form.
type TechProfileInstance struct {
	TPID       uint32 `json:"tp_id"`
	PON        uint32 `json:"pon"`
	ONU        uint32 `json:"onu"`
	UNI        uint32 `json:"uni"`
	Technology string `json:"technology,omitempty"`
	Name       string `json:"name"`
	AllocID    uint32 `json:"alloc_id"`
	// USScheduler and DSScheduler are the profile's schedulers.
	USScheduler techprofile.Scheduler `json:"us_scheduler"`
	DSScheduler techprofile.Scheduler `json:"ds_scheduler"`
	GemPorts    []TechProfileGemPort  `json:"gem_ports"`
	// Shaping and DSShaping come from the meters of the UNI's flows:
	// upstream (the T-CONT's scheduler) and downstream.
	Shaping   *Shaping `json:"shaping,omitempty"`
	DSShaping *Shaping `json:"ds_shaping,omitempty"`
}

// tpInstance is the name the adapter's code uses.
type tpInstance = TechProfileInstance

// UnmarshalJSON reads the instance's JSON, the form written before the
// persisted and sent forms were one (the UNI and profile under "ref")
// included.
func (in *TechProfileInstance) UnmarshalJSON(data []byte) error {
	type plain TechProfileInstance // without this method
	var v struct {
		plain
		Ref *tpRef `json:"ref"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*in = TechProfileInstance(v.plain)
	if v.Ref != nil {
		in.PON, in.ONU, in.UNI, in.TPID = v.Ref.PON, v.Ref.ONU, v.Ref.UNI, v.Ref.TPID
	}
	return nil
}

// DecodeTechProfileInstance reads an instance as the store holds it and
// MsgTechProfile carries it (JSON).
func DecodeTechProfileInstance(data []byte) (*TechProfileInstance, error) {
	in := new(TechProfileInstance)
	if err := json.Unmarshal(data, in); err != nil {
		return nil, fmt.Errorf("tech-profile instance: %w", err)
	}
	if in.AllocID == 0 || len(in.GemPorts) == 0 {
		return nil, errors.New("tech-profile instance: no alloc_id or no gem_ports")
	}
	return in, nil
}

// ref names the instance: its UNI and profile.
func (in *TechProfileInstance) ref() tpRef {
	return tpRef{PON: in.PON, ONU: in.ONU, UNI: in.UNI, TPID: in.TPID}
}

// Shaping is what a meter gives a scheduler (kb/s, bytes). Its JSON keys
// are the field names, as they have always been stored.
type Shaping struct {
	CIR, CBS, PIR, PBS uint32
}

// TechProfileGemPort is one GEM port of an instance: its id, the p-bits
// it carries (PbitMap, "0b" and eight digits, the last p-bit 0) and its
// upstream priority queue; Upstream and Downstream are the profile's
// attributes (absent in instances stored before they were kept).
type TechProfileGemPort struct {
	ID         uint32                     `json:"gemport_id"`
	PbitMap    string                     `json:"pbit_map"`
	Priority   uint32                     `json:"priority_q"`
	Upstream   *techprofile.GEMAttributes `json:"upstream,omitempty"`
	Downstream *techprofile.GEMAttributes `json:"downstream,omitempty"`
}

// gemFor is the GEM port carrying p-bit pbit (-1: any: the first).
func (in *tpInstance) gemFor(pbit int) uint32 {
	if pbit >= 0 && pbit <= 7 {
		for _, g := range in.GemPorts {
			if bits, ok := techprofile.PbitBits(g.PbitMap); ok && bits&(1<<pbit) != 0 {
				return g.ID
			}
		}
	}
	return in.GemPorts[0].ID
}

// pbitToGem maps every p-bit the instance carries to its GEM port: a flow
// that matches no p-bit on a UNI with several GEM ports is replicated by
// the OLT, one flow per p-bit (openolt's replicate_flow).
func (in *tpInstance) pbitToGem() map[uint32]uint32 {
	m := make(map[uint32]uint32)
	for _, g := range in.GemPorts {
		bits, _ := techprofile.PbitBits(g.PbitMap)
		for p := range uint32(8) {
			if bits&(1<<p) != 0 {
				m[p] = g.ID
			}
		}
	}
	return m
}

// technology is what the OLT calls its PON technology: the profile
// store's directory.
func (o *olt) technology() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.info.GetRanges() {
		if t := r.GetTechnology(); t != "" {
			return t
		}
	}
	return DefaultTechnology
}

// profile reads the tech profile id from the store (the core's etcd).
func (o *olt) profile(ctx context.Context, id uint32) (string, *techprofile.Profile, error) {
	tech := o.technology()
	e, err := o.h.tps.Get(ctx, tech, id)
	switch {
	case errors.Is(err, techprofile.ErrNotFound):
		return "", nil, status.Errorf(codes.FailedPrecondition,
			"tech profile %s/%d (from the flow's write_metadata) does not exist: set it with volt techprofile set %d --technology %s", tech, id, id, tech)
	case err != nil:
		return "", nil, err
	}
	return tech, e.Profile, nil
}

// UNIInstances returns the tech-profile instances of a UNI of the OLT
// (a copy; none when the OLT or UNI has none yet).
func (h *handler) UNIInstances(oltID string, pon, onuID, uni uint32) []*TechProfileInstance {
	h.mu.Lock()
	o := h.olts[oltID]
	h.mu.Unlock()
	if o == nil {
		return nil
	}
	_, fs, err := o.stores()
	if err != nil {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []*TechProfileInstance
	for r, in := range fs.tps {
		if r.PON == pon && r.ONU == onuID && r.UNI == uni {
			c := *in
			c.GemPorts = append([]TechProfileGemPort(nil), in.GemPorts...)
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TPID < out[j].TPID })
	return out
}

// uniProfileLocked is the profile id of an instance the UNI has (the
// lowest), or 0. fs.mu held.
func (fs *flowStore) uniProfileLocked(pon, onuID, uni uint32) uint32 {
	var id uint32
	for r := range fs.tps {
		if r.PON == pon && r.ONU == onuID && r.UNI == uni && (id == 0 || r.TPID < id) {
			id = r.TPID
		}
	}
	return id
}

func shapingFrom(m *openflowv1.MeterConfig) *Shaping {
	if m == nil {
		return nil
	}
	s := &Shaping{}
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

func shapingInfo(s *Shaping) *tech_profile.TrafficShapingInfo {
	if s == nil {
		return &tech_profile.TrafficShapingInfo{}
	}
	return &tech_profile.TrafficShapingInfo{Cir: s.CIR, Cbs: s.CBS, Pir: s.PIR, Pbs: s.PBS}
}

func schedulersOf(in *tpInstance) *tech_profile.TrafficSchedulers {
	r := in.ref()
	sched := func(dir tech_profile.Direction, cfg techprofile.Scheduler, sh *Shaping) *tech_profile.TrafficScheduler {
		return &tech_profile.TrafficScheduler{
			Direction: dir, AllocId: in.AllocID, TechProfileId: r.TPID,
			Scheduler: &tech_profile.SchedulerConfig{Direction: dir, AdditionalBw: additionalBW(cfg.AdditionalBW),
				Priority: uint32(cfg.Priority), Weight: uint32(cfg.Weight), SchedPolicy: schedPolicy(cfg.QSchedPolicy, tech_profile.SchedulingPolicy_Hybrid)},
			TrafficShapingInfo: shapingInfo(sh),
		}
	}
	ts := &tech_profile.TrafficSchedulers{IntfId: r.PON, OnuId: r.ONU, UniId: r.UNI, PortNo: uniPort(r),
		TrafficScheds: []*tech_profile.TrafficScheduler{sched(tech_profile.Direction_UPSTREAM, in.USScheduler, in.Shaping)}}
	if in.DSShaping != nil {
		ts.TrafficScheds = append(ts.TrafficScheds, sched(tech_profile.Direction_DOWNSTREAM, in.DSScheduler, in.DSShaping))
	}
	return ts
}

// The profile's enumerations (validated, any case) as openolt's.
func additionalBW(v string) tech_profile.AdditionalBW {
	switch strings.TrimPrefix(strings.ToLower(v), "additionalbw_") {
	case "none":
		return tech_profile.AdditionalBW_AdditionalBW_None
	case "na":
		return tech_profile.AdditionalBW_AdditionalBW_NA
	case "auto":
		return tech_profile.AdditionalBW_AdditionalBW_Auto
	}
	return tech_profile.AdditionalBW_AdditionalBW_BestEffort
}

func schedPolicy(v string, def tech_profile.SchedulingPolicy) tech_profile.SchedulingPolicy {
	switch strings.ReplaceAll(strings.ToLower(v), "_", "") {
	case "wrr":
		return tech_profile.SchedulingPolicy_WRR
	case "strictpriority":
		return tech_profile.SchedulingPolicy_StrictPriority
	case "hybrid":
		return tech_profile.SchedulingPolicy_Hybrid
	}
	return def
}

func discardPolicy(v string) tech_profile.DiscardPolicy {
	switch strings.ToLower(v) {
	case "wtaildrop":
		return tech_profile.DiscardPolicy_WTailDrop
	case "red":
		return tech_profile.DiscardPolicy_Red
	case "wred":
		return tech_profile.DiscardPolicy_WRed
	}
	return tech_profile.DiscardPolicy_TailDrop
}

// queuesOf is a queue per GEM port and direction, with the profile's
// attributes (an instance persisted before they were kept: one
// bidirectional strict-priority queue per GEM port).
func queuesOf(in *tpInstance) *tech_profile.TrafficQueues {
	r := in.ref()
	q := &tech_profile.TrafficQueues{IntfId: r.PON, OnuId: r.ONU, UniId: r.UNI, PortNo: uniPort(r), TechProfileId: r.TPID}
	queue := func(dir tech_profile.Direction, g TechProfileGemPort, a *techprofile.GEMAttributes) *tech_profile.TrafficQueue {
		return &tech_profile.TrafficQueue{Direction: dir, GemportId: g.ID, PbitMap: a.PbitMap, AesEncryption: strings.EqualFold(a.AESEncryption, "true"),
			Priority: uint32(a.PriorityQ), Weight: uint32(a.Weight), SchedPolicy: schedPolicy(a.SchedulingPolicy, tech_profile.SchedulingPolicy_StrictPriority),
			DiscardPolicy: discardPolicy(a.DiscardPolicy)}
	}
	for _, g := range in.GemPorts {
		if g.Upstream == nil || g.Downstream == nil {
			q.TrafficQueues = append(q.TrafficQueues, &tech_profile.TrafficQueue{Direction: tech_profile.Direction_BIDIRECTIONAL,
				GemportId: g.ID, PbitMap: g.PbitMap, Priority: g.Priority, SchedPolicy: tech_profile.SchedulingPolicy_StrictPriority,
				DiscardPolicy: tech_profile.DiscardPolicy_TailDrop})
			continue
		}
		q.TrafficQueues = append(q.TrafficQueues, queue(tech_profile.Direction_UPSTREAM, g, g.Upstream))
	}
	for _, g := range in.GemPorts {
		if g.Downstream != nil && g.Upstream != nil {
			q.TrafficQueues = append(q.TrafficQueues, queue(tech_profile.Direction_DOWNSTREAM, g, g.Downstream))
		}
	}
	return q
}

func (o *olt) createSchedulers(ctx context.Context, in *tpInstance) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.CreateTrafficSchedulers(cctx, schedulersOf(in)); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("CreateTrafficSchedulers for %s: %w", in.ref().owner(), err)
	}
	if _, err := o.cli.CreateTrafficQueues(cctx, queuesOf(in)); err != nil && status.Code(err) != codes.AlreadyExists {
		o.removeSchedulers(ctx, in)
		return fmt.Errorf("CreateTrafficQueues for %s: %w", in.ref().owner(), err)
	}
	return nil
}

func (o *olt) removeSchedulers(ctx context.Context, in *tpInstance) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.RemoveTrafficQueues(cctx, queuesOf(in)); err != nil {
		o.log.Info("RemoveTrafficQueues", "tp", in.ref().owner(), "err", err)
	}
	if _, err := o.cli.RemoveTrafficSchedulers(cctx, schedulersOf(in)); err != nil {
		o.log.Info("RemoveTrafficSchedulers", "tp", in.ref().owner(), "err", err)
	}
}
