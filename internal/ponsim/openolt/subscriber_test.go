package openolt_test

import (
	"context"
	"testing"

	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/voltha-protos/v5/go/openolt"
	"github.com/opencord/voltha-protos/v5/go/tech_profile"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/ponsim/omcisim"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
)

// subscriber is one ATT-like subscriber: untagged at the UNI, C-tag from
// the ONU, S-tag from the OLT.
type subscriber struct {
	onu        oltclient.ONU
	cTag, sTag uint16
	alloc, gem uint32
	flowBase   uint64
}

func (s subscriber) portNo() uint32 { return portno.UNI(s.onu.PON, s.onu.ID, 0) }

const extVLANME = 0x0101

// configureONU does over OMCI what an ONU adapter does for a subscriber:
// lock the UNI, MIB download (T-CONT alloc id, GEM port, extended VLAN
// rule untagged → C-tag), unlock. It returns the notifications the unlock
// raised.
func configureONU(t testing.TB, ctx context.Context, c *oltclient.Client, s subscriber) [][]byte {
	t.Helper()
	pptp := omcisim.PPTPID(0)
	steps := []struct {
		what string
		do   func() error
	}{
		{"lock", func() error {
			return c.Set(ctx, s.onu, me.PhysicalPathTerminationPointEthernetUniClassID, pptp, me.AttributeValueMap{"AdministrativeState": uint8(1)})
		}},
		{"t-cont", func() error {
			return c.Set(ctx, s.onu, me.TContClassID, omcisim.TContID(0), me.AttributeValueMap{"AllocId": uint16(s.alloc)})
		}},
		{"gem port", func() error {
			return c.Create(ctx, s.onu, me.GemPortNetworkCtpClassID, uint16(s.gem), me.AttributeValueMap{
				"PortId": uint16(s.gem), "TContPointer": omcisim.TContID(0), "Direction": uint8(3),
				"TrafficManagementPointerForUpstream": uint16(0), "TrafficDescriptorProfilePointerForUpstream": uint16(0),
				"PriorityQueuePointerForDownStream": uint16(0), "TrafficDescriptorProfilePointerForDownstream": uint16(0),
				"EncryptionKeyRing": uint8(0)})
		}},
		{"ext vlan", func() error {
			return c.Create(ctx, s.onu, me.ExtendedVlanTaggingOperationConfigurationDataClassID, extVLANME, me.AttributeValueMap{
				"AssociationType": uint8(2), "AssociatedMePointer": pptp, "EnhancedMode": uint8(0)})
		}},
		{"ext vlan rule", func() error {
			rule := omcisim.VLANRule{
				FilterOuterPrio: omcisim.PrioNoTag, FilterOuterVID: omcisim.VIDAny,
				FilterInnerPrio: omcisim.PrioNoTag, FilterInnerVID: omcisim.VIDAny,
				TreatOuterPrio: omcisim.PrioNoTag, TreatInnerPrio: 0, TreatInnerVID: s.cTag, TreatInnerTPID: 4,
			}
			return c.Set(ctx, s.onu, me.ExtendedVlanTaggingOperationConfigurationDataClassID, extVLANME, me.AttributeValueMap{
				"InputTpid": uint16(0x8100), "OutputTpid": uint16(0x8100), "DownstreamMode": uint8(0),
				"ReceivedFrameVlanTaggingOperationTable": rule.Bytes()})
		}},
		{"unlock", func() error {
			return c.Set(ctx, s.onu, me.PhysicalPathTerminationPointEthernetUniClassID, pptp, me.AttributeValueMap{"AdministrativeState": uint8(0)})
		}},
	}
	c.Notifications(s.onu)
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("onu %v: %s: %v", s.onu, st.what, err)
		}
	}
	return c.Notifications(s.onu)
}

// provision does over openolt what an OLT adapter does for a subscriber:
// scheduler, queue, EAPOL and DHCP traps, upstream and downstream flows.
func provision(t testing.TB, ctx context.Context, c *oltclient.Client, s subscriber) {
	t.Helper()
	pon, onu := s.onu.PON, s.onu.ID
	if _, err := c.OLT.CreateTrafficSchedulers(ctx, &tech_profile.TrafficSchedulers{IntfId: pon, OnuId: onu, PortNo: s.portNo(),
		TrafficScheds: []*tech_profile.TrafficScheduler{{Direction: tech_profile.Direction_UPSTREAM, AllocId: s.alloc}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OLT.CreateTrafficQueues(ctx, &tech_profile.TrafficQueues{IntfId: pon, OnuId: onu, PortNo: s.portNo(),
		TrafficQueues: []*tech_profile.TrafficQueue{{Direction: tech_profile.Direction_BIDIRECTIONAL, GemportId: s.gem, PbitMap: "0b11111111"}}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range subscriberFlows(s) {
		if _, err := c.OLT.FlowAdd(ctx, f); err != nil {
			t.Fatalf("flow %d: %v", f.GetFlowId(), err)
		}
	}
}

func subscriberFlows(s subscriber) []*openolt.Flow {
	base := func(id uint64, typ string) *openolt.Flow {
		return &openolt.Flow{FlowId: s.flowBase + id, FlowType: typ, AccessIntfId: int32(s.onu.PON), OnuId: int32(s.onu.ID),
			UniId: 0, PortNo: s.portNo(), GemportId: int32(s.gem), AllocId: int32(s.alloc), Priority: 1000}
	}
	trap := &openolt.Action{Cmd: &openolt.ActionCmd{TrapToHost: true}}
	eapol := base(1, "upstream")
	eapol.Classifier = &openolt.Classifier{EthType: 0x888e, OVid: uint32(s.cTag), PktTagType: "single_tag"}
	eapol.Action, eapol.Priority = trap, 10000
	dhcp := base(2, "upstream")
	dhcp.Classifier = &openolt.Classifier{EthType: 0x0800, IpProto: 17, SrcPort: 68, DstPort: 67, OVid: uint32(s.cTag), PktTagType: "single_tag"}
	dhcp.Action, dhcp.Priority = trap, 10000
	up := base(3, "upstream")
	up.Classifier = &openolt.Classifier{OVid: uint32(s.cTag), PktTagType: "single_tag"}
	up.Action = &openolt.Action{Cmd: &openolt.ActionCmd{AddOuterTag: true}, OVid: uint32(s.sTag), OTpid: 0x88a8}
	down := base(4, "downstream")
	down.Classifier = &openolt.Classifier{OVid: uint32(s.sTag), IVid: uint32(s.cTag), PktTagType: "double_tag"}
	down.Action = &openolt.Action{Cmd: &openolt.ActionCmd{RemoveOuterTag: true}}
	return []*openolt.Flow{eapol, dhcp, up, down}
}

// nniTraps are the OLT's traps from the network: DHCP answers and LLDP.
func nniTraps(base uint64) []*openolt.Flow {
	trap := &openolt.Action{Cmd: &openolt.ActionCmd{TrapToHost: true}}
	return []*openolt.Flow{
		{FlowId: base + 1, FlowType: "downstream", AccessIntfId: -1, OnuId: -1, UniId: -1, Priority: 10000,
			Classifier: &openolt.Classifier{EthType: 0x0800, IpProto: 17, SrcPort: 67, DstPort: 68}, Action: trap},
		{FlowId: base + 2, FlowType: "downstream", AccessIntfId: -1, OnuId: -1, UniId: -1, Priority: 10000,
			Classifier: &openolt.Classifier{EthType: 0x88cc}, Action: trap},
	}
}
