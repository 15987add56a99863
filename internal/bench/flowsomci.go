package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/ponsim"
)

// With --olt-type openolt the devices' flows do not reach ponsim as they
// are: the OLT's become openolt flows (one simulator flow each, more when
// replicated per p-bit) and the ONUs' become OMCI configuration (a tech
// profile's T-CONT and GEM ports, extended VLAN tagging rules), from which
// ponsim builds each ONU's table: two flows (up and down) per VLAN rule.
// An ATT-like subscriber makes four rules: EAPOL (C-tag 4091), DHCP and
// IGMP (its C-tag), and the rest of its untagged frames (its C-tag).
const omciRulesPerSubscriber = 4

// waitPonSimOMCI polls ponsim until the OLT's table has at least a flow
// per OLT device flow and each subscriber's ONU table has its rules, then
// checks that each ONU tags its subscriber's frames with its C-tag.
func waitPonSimOMCI(ctx context.Context, nbi voltv1.VoltServiceClient, sim *ponsim.Sim, oltID string, olt *deviceFlows, subs []subscriber) error {
	kids, err := nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{ParentId: oltID})
	if err != nil {
		return err
	}
	type onuCheck struct {
		id, serial string
		cVID       uint64
	}
	byONU := make(map[[2]uint32]*voltv1.Device)
	for _, k := range kids.GetItems() {
		pa := k.GetProxyAddress()
		byONU[[2]uint32{pa.GetChannelId(), pa.GetOnuId()}] = k
	}
	var onus []onuCheck
	for _, s := range subs {
		pon, onu, _ := portno.SplitUNI(s.uni)
		k := byONU[[2]uint32{pon, onu}]
		if k == nil || k.GetSerialNumber() == "" {
			return fmt.Errorf("bench flows: no ONU device with a serial number for UNI %d", s.uni)
		}
		onus = append(onus, onuCheck{id: k.GetId(), serial: k.GetSerialNumber(), cVID: s.cVID})
	}
	want := 2 * omciRulesPerSubscriber
	for {
		missing := ""
		if n, err := sim.FlowCount(sim.OLTSerial()); err != nil {
			return err
		} else if n < len(olt.ids) {
			missing = fmt.Sprintf("the OLT has %d flows in ponsim, %d device flows in the core", n, len(olt.ids))
		}
		for _, o := range onus {
			if missing != "" {
				break
			}
			n, err := sim.FlowCount(o.serial)
			if err != nil {
				return err
			}
			if n != want {
				missing = fmt.Sprintf("ONU %s has %d flows in ponsim (from its OMCI configuration), want %d", o.id, n, want)
			}
		}
		if missing == "" {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench flows: waiting for ponsim: %w (%s)", ctx.Err(), missing)
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, o := range onus {
		ft, err := sim.FlowTable(o.serial)
		if err != nil {
			return err
		}
		up := fmt.Sprintf("set_field:%d->vlan_vid", o.cVID)
		down := fmt.Sprintf("vlan_vid=%d,", o.cVID)
		var haveUp, haveDown bool
		for _, f := range ft.GetFlows() {
			text := strings.ReplaceAll(flowtext.FormatFlow(f), " ", "")
			haveUp = haveUp || (strings.Contains(text, "vlan_vid=untagged") && strings.Contains(text, up))
			haveDown = haveDown || (strings.Contains(text, down) && strings.Contains(text, "pop_vlan"))
		}
		if !haveUp || !haveDown {
			return fmt.Errorf("bench flows: ONU %s in ponsim does not push and pop its C-tag %d (up %v, down %v)", o.id, o.cVID, haveUp, haveDown)
		}
	}
	return nil
}
