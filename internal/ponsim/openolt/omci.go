package openolt

import (
	"fmt"
	"net"

	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/ponsim/omcisim"
)

// newONU builds the face's view of ONU v with its OMCI side, whose config
// changes rebuild the ONU's flow table.
func (s *Server) newONU(v ponsim.ONUView) (*onuState, error) {
	u := &onuState{pon: v.PON, simID: v.ID, serial: v.Serial, sn: SerialNumber(v.Serial), uni: v.UNI}
	cfg := omcisim.Config{SerialNumber: v.Serial, UNIs: s.cfg.UNIsPerONU, QueuesPerTCont: s.cfg.QueuesPerTCont}
	if mac, err := net.ParseMAC(v.MAC); err == nil && len(mac) == 6 {
		copy(cfg.MAC[:], mac)
	}
	o, err := omcisim.New(cfg, omcisim.Hooks{
		UNIAdmin: func(int, bool) { s.refreshONU(u) },
		Changed:  func() { s.refreshONU(u) },
		GemPortFree: func(port uint16) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.gemOwnerLocked(u, uint32(port)) == nil
		},
		Rebooted: func() { s.onuRebooted(u) },
	})
	if err != nil {
		return nil, fmt.Errorf("openolt: onu %s: %w", v.Serial, err)
	}
	u.omci = o
	u.config = func() onuConfig { return configOf(o.Service()) }
	return u, nil
}

// configOf is what the OMCI service config asks of the dataplane of the
// first UNI (the one the simulator forwards on).
func configOf(svc omcisim.Service) onuConfig {
	if len(svc.UNIs) == 0 {
		return onuConfig{locked: true}
	}
	uni := svc.UNIs[0]
	cfg := onuConfig{locked: uni.AdminLocked || uni.LinkLoss, gems: len(uni.Gems)}
	if cfg.gems == 0 {
		cfg.gems = len(svc.GemPorts)
	}
	for _, g := range svc.GemPorts {
		cfg.gemIDs = append(cfg.gemIDs, uint32(g.PortID))
		cfg.mcast = cfg.mcast || g.Multicast
	}
	for _, r := range uni.VLANRules {
		if vr, ok := ruleOf(r, uni.OutputTPID); ok {
			cfg.rules = append(cfg.rules, vr)
		}
	}
	return cfg
}

// etherTypes are G.988's extended VLAN filter ethertype codes.
var etherTypes = map[uint8]uint16{1: 0x0800, 2: 0x8863, 3: 0x0806, 4: 0x86dd, 5: 0x888e, 6: 0x0800, 7: 0x86dd, 8: 0x88cc}

// ruleOf turns one G.988 extended VLAN tagging rule into the dataplane's
// form; a rule that discards frames has none (nothing matching it is
// forwarded).
func ruleOf(r omcisim.VLANRule, outputTPID uint16) (vlanRule, bool) {
	if r.TagsToRemove > 2 {
		return vlanRule{}, false
	}
	vr := vlanRule{vid: -1, remove: int(r.TagsToRemove)}
	if r.FilterEtherType != 0 {
		et, ok := etherTypes[r.FilterEtherType]
		if !ok {
			return vlanRule{}, false
		}
		vr.ethType = et
	}
	switch r.FilterTags() {
	case 0:
		vr.untagged = true
	case 1:
		if r.FilterInnerVID != omcisim.VIDAny && r.FilterInnerPrio != omcisim.PrioDefault {
			vr.vid = int(r.FilterInnerVID)
		}
	case 2:
		if r.FilterOuterVID != omcisim.VIDAny && r.FilterOuterPrio != omcisim.PrioDefault {
			vr.vid = int(r.FilterOuterVID)
		}
	}
	push := func(prio uint8, vid uint16, tpid uint8) {
		if prio == omcisim.PrioNoTag {
			return
		}
		t := tag{tpid: 0x8100, vid: vid, pcp: -1}
		if prio <= 7 {
			t.pcp = int(prio)
		}
		if (tpid == 2 || tpid == 3 || tpid == 6 || tpid == 7) && outputTPID != 0 {
			t.tpid = outputTPID
		}
		if vid == omcisim.VIDCopyInner || vid == omcisim.VIDCopyOuter {
			if vr.vid < 0 {
				return // copies a VID the filter does not fix: not modelled
			}
			t.vid = uint16(vr.vid)
		}
		vr.push = append(vr.push, t)
	}
	push(r.TreatInnerPrio, r.TreatInnerVID, r.TreatInnerTPID)
	push(r.TreatOuterPrio, r.TreatOuterVID, r.TreatOuterTPID)
	return vr, true
}
