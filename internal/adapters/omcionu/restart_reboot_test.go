package omcionu_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/testkit"
)

// TestRestartDuringRebootRestoresService: the ONU is rebooted through
// the NBI (so its logical ports and flows stay) and its adapter stops
// right after it sent the reboot: the ONU's MIB is reset, its service
// gone. The adapter that starts then has only the store to know the ONU's
// tech profile and VLAN rules, and restores them from it, without the
// controller or the OLT's adapter sending anything again. The records are
// small, one per UNI. (An ONU that reboots unasked drops off the PON: its
// logical port goes, and with it the flows and the service.)
func TestRestartDuringRebootRestoresService(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 1, 1, 0)
	onu, tagged := s.subscriber(p)

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

	s.settled(onu.GetId())
	// The ONU reboots through the NBI; its adapter stops right after it
	// sent the OMCI reboot.
	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	s.onuAd.stop(t, "omci_onu adapter")
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
		Flows map[string]string `json:"flows"`
	}
	if err := json.Unmarshal(kv.Value, &rows); err != nil || len(rows.Flows) == 0 {
		t.Errorf("stored VLAN rows %s: %v, want flow id → 16-byte row in hex", kv.Value, err)
	}
	for id, row := range rows.Flows {
		if len(row) != 32 || id == "" {
			t.Errorf("stored VLAN row of flow %q: %q, want 16 bytes in hex", id, row)
		}
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
