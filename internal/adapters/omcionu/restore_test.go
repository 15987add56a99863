package omcionu_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/testkit"
)

// TestRestartDuringRebootRestoresService: the ONU adapter is down while
// its ONU reboots (its MIB reset, its service gone); the adapter that
// starts then has only the store to know the ONU's tech profile and VLAN
// rules, and restores them from it, without the controller or the OLT's
// adapter sending anything again. The records are small, one per UNI.
func TestRestartDuringRebootRestoresService(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 1, 1, 0)
	oltID := s.create(p.addr)
	s.waitONUs(oltID, 1, 1, omcionu.ReasonMibDownload)
	onu := s.children(oltID)[0]
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	ld := olt.GetLogicalDeviceId()
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meter(ld, m)
	}
	uni := portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0)
	const cVID = 101
	for _, f := range bench.SubscriberFlows(portno.NNI(0), uni, 1000, cVID) {
		s.flowMod(ld, f, false)
	}
	sn := p.sim.ONUs()[0].Serial
	up := fmt.Sprintf("in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:%d->vlan_vid", uni, cVID)
	tagged := func() error {
		if table := p.onuTable(sn); !containsFlow(table, up) {
			return fmt.Errorf("no C-tag push in ponsim's ONU table:\n%s", table)
		}
		return nil
	}
	testkit.Eventually(t, "the ONU tags the subscriber's frames", tagged)

	// The restore state: UNI 0's tech profile and VLAN rows, each its own
	// small record next to the MIB.
	base := "/volt/omci_onu/" + onu.GetId() + "/"
	testkit.Eventually(t, "the restore state stored", func() error {
		for _, k := range []string{"tp/0", "vlan/0", "sync"} {
			kv, err := s.kv.Get(s.ctx(), base+k)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if len(kv.Value) > 512 {
				return fmt.Errorf("%s: %d bytes, want a small record", k, len(kv.Value))
			}
		}
		return nil
	})

	// The adapter stops; the ONU reboots (an OMCI reboot sent to ponsim
	// directly): its MIB is reset and it no longer tags.
	s.onuAd.stop(t, "omci_onu adapter")
	reboot := make([]byte, 48)
	reboot[0], reboot[1] = 0x7f, 0x00 // transaction id
	reboot[2] = 0x59                  // reboot, AR
	reboot[3] = 0x0a                  // baseline
	reboot[4], reboot[5] = 0x01, 0x00 // ONU-G
	reboot[47-4] = 0x28               // trailer: content length 40
	if _, err := p.face.OmciMsgOut(s.ctx(), &openolt.OmciMsg{IntfId: 0, OnuId: onu.GetProxyAddress().GetOnuId(),
		Pkt: []byte(hex.EncodeToString(reboot))}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the rebooted ONU no longer tags", func() error {
		if tagged() == nil {
			return fmt.Errorf("ponsim's ONU still tags: not rebooted")
		}
		return nil
	})

	// A new adapter: audit, MIB synchronised again, then the stored tech
	// profile and rows configured again.
	s.startONUAdapter()
	testkit.Eventually(t, "the ONU tags the subscriber's frames after the adapter restart", tagged)
	kv, err := s.kv.Get(s.ctx(), base+"vlan/0")
	if err != nil {
		t.Fatal(err)
	}
	var rows struct {
		Rows []string `json:"rows"`
	}
	if err := json.Unmarshal(kv.Value, &rows); err != nil || len(rows.Rows) == 0 || len(rows.Rows[0]) != 32 {
		t.Errorf("stored VLAN rows %s: %v, want 16-byte rows in hex", kv.Value, err)
	}
	if strings.Contains(string(kv.Value), "entities") {
		t.Errorf("stored VLAN rows hold the MIB")
	}
	// The NBI shows the counter of the last change, not the one stored
	// with the MIB when it was synchronised.
	testkit.Eventually(t, "the NBI shows the last change's counter", func() error {
		mib, err := s.nbi.GetDeviceMib(s.ctx(), &voltv1.ID{Id: onu.GetId()})
		if err != nil {
			return err
		}
		if got, want := int(mib.GetMibDataSync()), s.mibDataSync(onu.GetId()); got != want || got == 0 {
			return fmt.Errorf("NBI MIB data sync %d, stored %d (want equal, not 0)", got, want)
		}
		return nil
	})
}
