package omcionu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	me "github.com/opencord/omci-lib-go/v2/generated"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// techProfile takes a tech-profile instance of one UNI (add) or its
// removal. An instance the ONU cannot carry is refused before anything
// changes; the OMCI work runs after the answer, in the ONU's order.
func (u *onu) techProfile(body []byte, add bool) error {
	var in openolt.TechProfileInstance
	if err := json.Unmarshal(body, &in); err != nil {
		return status.Errorf(codes.InvalidArgument, "omci_onu: ONU %s: tech-profile instance: %v", u.id, err)
	}
	u.mu.Lock()
	rec, synced := u.rec, u.synced
	var plan *tpPlan
	var err error
	if rec != nil {
		plan, err = planOf(rec, &in, len(u.unis))
	}
	u.mu.Unlock()
	if !synced || rec == nil {
		return status.Errorf(codes.Unavailable, "omci_onu: ONU %s: tech profile %d for UNI %d before its MIB is synchronised", u.id, in.TPID, in.UNI)
	}
	if err != nil {
		return status.Errorf(codes.FailedPrecondition, "omci_onu: ONU %s: %v", u.id, err)
	}
	u.h.a.Submit(u.id, func(ctx context.Context) error {
		u.mu.Lock()
		have, ok := u.tps[plan.uni]
		u.mu.Unlock()
		if add == ok && (!add || have == plan.alloc) {
			return nil // already as asked (a message sent again)
		}
		var err error
		if add {
			err = u.configure(ctx, plan)
		} else {
			err = u.unconfigure(ctx, plan)
		}
		u.mu.Lock()
		if add && err == nil {
			u.tps[plan.uni] = plan.alloc
			u.plans[plan.uni] = plan
		} else if !add {
			delete(u.tps, plan.uni)
			delete(u.plans, plan.uni)
		}
		u.mu.Unlock()
		op := u.planOp(plan.uni, plan)
		if !add {
			op = u.planOp(plan.uni, nil)
		}
		if err != nil {
			what := "tech-profile-config-download"
			if !add {
				what = "tech-profile-config-delete"
				err = errors.Join(err, u.persist(ctx, []kvstore.Op{op}))
			}
			return u.fail(ctx, what, err)
		}
		u.saveStats(ctx)
		if err := u.restoreSync(ctx, op); err != nil {
			return err
		}
		if add {
			return u.reason(ctx, ReasonTechProfile)
		}
		return u.reason(ctx, ReasonTPRemoved)
	})
	return nil
}

// tpPlan is what one instance becomes in the ONU's MIB.
type tpPlan struct {
	uni     int
	tcont   uint16 // T-CONT instance
	alloc   uint16
	mapper  uint16
	bridge  uint16
	gems    []planGem
	pbitGem [8]uint16 // GEM IW TP per p-bit (0xffff: none)
}

type planGem struct {
	id    uint16
	queue uint16 // upstream priority queue
}

// planOf checks the instance fits the ONU: a UNI it has, a T-CONT and a
// priority queue of that T-CONT per GEM port.
func planOf(rec *mibRecord, in *openolt.TechProfileInstance, unis int) (*tpPlan, error) {
	if int(in.UNI) >= unis {
		return nil, fmt.Errorf("tech profile %d: UNI %d, the ONU has %d", in.TPID, in.UNI, unis)
	}
	if in.AllocID == 0 || in.AllocID > 0xfffe || len(in.GemPorts) == 0 {
		return nil, fmt.Errorf("tech profile %d: alloc id %d with %d GEM ports", in.TPID, in.AllocID, len(in.GemPorts))
	}
	var tconts []int
	for _, e := range rec.Entities {
		if me.ClassID(e.Class) == me.TContClassID {
			tconts = append(tconts, int(e.Instance))
		}
	}
	sort.Ints(tconts)
	if int(in.UNI) >= len(tconts) {
		return nil, fmt.Errorf("tech profile %d: no T-CONT left for UNI %d (%d T-CONTs)", in.TPID, in.UNI, len(tconts))
	}
	p := &tpPlan{uni: int(in.UNI), tcont: uint16(tconts[in.UNI]), alloc: uint16(in.AllocID),
		mapper: uint16(mapperBase + in.UNI), bridge: uint16(bridgeBase + 1 + in.UNI)}
	var queues []int
	for _, e := range rec.Entities {
		if me.ClassID(e.Class) == me.PriorityQueueClassID && e.Instance&0x8000 != 0 &&
			uint16(relatedPort(e)>>16) == p.tcont {
			queues = append(queues, int(e.Instance))
		}
	}
	sort.Ints(queues)
	if len(in.GemPorts) > len(queues) {
		return nil, fmt.Errorf("tech profile %d: %d GEM ports, T-CONT %#x has %d priority queues", in.TPID, len(in.GemPorts), p.tcont, len(queues))
	}
	for i := range p.pbitGem {
		p.pbitGem[i] = 0xffff
	}
	for i, g := range in.GemPorts {
		if g.ID == 0 || g.ID > 0xfffe {
			return nil, fmt.Errorf("tech profile %d: GEM port %d", in.TPID, g.ID)
		}
		q := queues[min(int(g.Priority), len(queues)-1)]
		if i < len(queues) && int(g.Priority) >= len(queues) {
			q = queues[i]
		}
		p.gems = append(p.gems, planGem{id: uint16(g.ID), queue: uint16(q)})
		bits, err := strconv.ParseUint(trimPrefix(g.PbitMap), 2, 8)
		if err != nil {
			return nil, fmt.Errorf("tech profile %d: GEM port %d: pbit map %q", in.TPID, g.ID, g.PbitMap)
		}
		for b := range 8 {
			if bits&(1<<b) != 0 {
				if p.pbitGem[b] != 0xffff {
					return nil, fmt.Errorf("tech profile %d: p-bit %d in GEM ports %d and %d", in.TPID, b, p.pbitGem[b], g.ID)
				}
				p.pbitGem[b] = uint16(g.ID)
			}
		}
	}
	return p, nil
}

func trimPrefix(s string) string {
	if len(s) > 2 && s[:2] == "0b" {
		return s[2:]
	}
	return s
}

// number reads a stored numeric attribute (its Go type, or float64 once
// it went through JSON).
func number(v any) uint64 {
	switch n := v.(type) {
	case uint8:
		return uint64(n)
	case uint16:
		return uint64(n)
	case uint32:
		return uint64(n)
	case uint64:
		return n
	case float64:
		return uint64(n)
	}
	return 0
}

// configure downloads the instance: T-CONT alloc id, per GEM port a GEM
// port network CTP and a GEM interworking TP, the UNI's 802.1p mapper
// and the bridge's ANI-side port.
func (u *onu) configure(ctx context.Context, p *tpPlan) error {
	e := u.eng
	if err := e.Set(ctx, me.TContClassID, p.tcont, me.AttributeValueMap{me.TCont_AllocId: p.alloc}); err != nil {
		return err
	}
	for _, g := range p.gems {
		if err := e.Create(ctx, me.GemPortNetworkCtpClassID, g.id, me.AttributeValueMap{
			me.GemPortNetworkCtp_PortId:                                       g.id,
			me.GemPortNetworkCtp_TContPointer:                                 p.tcont,
			me.GemPortNetworkCtp_Direction:                                    uint8(3),
			me.GemPortNetworkCtp_TrafficManagementPointerForUpstream:          g.queue,
			me.GemPortNetworkCtp_PriorityQueuePointerForDownStream:            uint16(0),
			me.GemPortNetworkCtp_TrafficDescriptorProfilePointerForUpstream:   uint16(0),
			me.GemPortNetworkCtp_TrafficDescriptorProfilePointerForDownstream: uint16(0),
			me.GemPortNetworkCtp_EncryptionKeyRing:                            uint8(0),
		}); err != nil {
			return err
		}
		if err := e.Create(ctx, me.GemInterworkingTerminationPointClassID, g.id, me.AttributeValueMap{
			me.GemInterworkingTerminationPoint_GemPortNetworkCtpConnectivityPointer: g.id,
			me.GemInterworkingTerminationPoint_InterworkingOption:                   uint8(5), // 802.1p mapper
			me.GemInterworkingTerminationPoint_ServiceProfilePointer:                p.mapper,
			me.GemInterworkingTerminationPoint_InterworkingTerminationPointPointer:  uint16(0),
			me.GemInterworkingTerminationPoint_GalProfilePointer:                    uint16(galProfileID),
		}); err != nil {
			return err
		}
	}
	mapper := me.AttributeValueMap{
		me.Ieee8021PMapperServiceProfile_TpPointer:                          uint16(0xffff),
		me.Ieee8021PMapperServiceProfile_UnmarkedFrameOption:                uint8(0),
		me.Ieee8021PMapperServiceProfile_DefaultPBitAssumption:              uint8(0),
		me.Ieee8021PMapperServiceProfile_TpType:                             uint8(0),
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority0: p.pbitGem[0],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority1: p.pbitGem[1],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority2: p.pbitGem[2],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority3: p.pbitGem[3],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority4: p.pbitGem[4],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority5: p.pbitGem[5],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority6: p.pbitGem[6],
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority7: p.pbitGem[7],
	}
	if err := e.Create(ctx, me.Ieee8021PMapperServiceProfileClassID, p.mapper, mapper); err != nil {
		return err
	}
	return e.Create(ctx, me.MacBridgePortConfigurationDataClassID, p.mapper, bridgePort(p.bridge, 2, 3, p.mapper))
}

// unconfigure removes what configure made, in reverse.
func (u *onu) unconfigure(ctx context.Context, p *tpPlan) error {
	e := u.eng
	if err := e.Delete(ctx, me.MacBridgePortConfigurationDataClassID, p.mapper); err != nil {
		return err
	}
	if err := e.Delete(ctx, me.Ieee8021PMapperServiceProfileClassID, p.mapper); err != nil {
		return err
	}
	for _, g := range p.gems {
		if err := e.Delete(ctx, me.GemInterworkingTerminationPointClassID, g.id); err != nil {
			return err
		}
		if err := e.Delete(ctx, me.GemPortNetworkCtpClassID, g.id); err != nil {
			return err
		}
	}
	return e.Set(ctx, me.TContClassID, p.tcont, me.AttributeValueMap{me.TCont_AllocId: uint16(0xffff)})
}
