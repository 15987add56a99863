package openolt_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testkit"
)

// checkONUIDs checks that every child has an ONU id unique on its PON and
// that the stored onu_id pool says the same.
func checkONUIDs(t testing.TB, s *stack, oltID string, pons, onus int) {
	t.Helper()
	res := s.resources(oltID)
	seen := map[string]string{}
	for _, k := range s.children(oltID) {
		pa := k.GetProxyAddress()
		key := fmt.Sprintf("%d/onu_id/%d", pa.GetChannelId(), pa.GetOnuId())
		if pa.GetOnuId() == 0 {
			t.Errorf("child %s (%s) has no onu id", k.GetId(), k.GetSerialNumber())
		}
		if other, dup := seen[key]; dup {
			t.Errorf("onu id %s given to %s and %s", key, other, k.GetSerialNumber())
		}
		seen[key] = k.GetSerialNumber()
		if res[key] != k.GetSerialNumber() {
			t.Errorf("store has %s = %q, child says %q", key, res[key], k.GetSerialNumber())
		}
		if k.GetType() != "omci_onu" || k.GetVendorId() == "" || !strings.HasPrefix(k.GetSerialNumber(), k.GetVendorId()) {
			t.Errorf("child %s: type %q vendor %q serial %q", k.GetId(), k.GetType(), k.GetVendorId(), k.GetSerialNumber())
		}
	}
	if len(seen) != pons*onus {
		t.Errorf("%d distinct onu ids, want %d", len(seen), pons*onus)
	}
}

func TestTwoOLTsActivateAndSurviveRestarts(t *testing.T) {
	s := newStack(t)
	const pons, onus = 2, 8
	var ids []string
	for i := range 2 {
		p := s.newOLT(fmt.Sprintf("olt%d", i), pons, onus)
		p.start()
		ids = append(ids, s.create(p.addr))
	}
	for _, id := range ids {
		s.waitActive(id, pons, pons*onus)
		checkONUIDs(t, s, id, pons, onus)
	}
	before := s.resources(ids[0])

	// The adapter restarts: it reloads the ids, reconciles with
	// GetOnuInfo, and hands out nothing new.
	s.adapter.stop(t, "openolt adapter")
	s.startAdapter()
	for _, id := range ids {
		s.waitActive(id, pons, pons*onus)
	}
	if after := s.resources(ids[0]); !maps.Equal(before, after) {
		t.Errorf("resources changed across an adapter restart:\n before %v\n after  %v", before, after)
	}

	// The core restarts.
	s.core.stop(t, "core")
	s.startCore()
	for _, id := range ids {
		s.waitActive(id, pons, pons*onus)
	}
	if after := s.resources(ids[0]); !maps.Equal(before, after) {
		t.Errorf("resources changed across a core restart:\n before %v\n after  %v", before, after)
	}

	// Deleting an OLT frees its ids; the other OLT keeps its own.
	other := s.resources(ids[1])
	testkit.Eventually(t, "delete the OLT (once the restarted core reaches the bus)", func() error {
		_, err := s.nbi.DeleteDevice(s.ctx(), &voltv1.ID{Id: ids[0]})
		return err
	})
	testkit.Eventually(t, "resources freed", func() error {
		if n := len(s.resources(ids[0])); n != 0 {
			return fmt.Errorf("%d ids left", n)
		}
		return nil
	})
	if after := s.resources(ids[1]); !maps.Equal(other, after) {
		t.Errorf("the other OLT's resources changed")
	}
}

func TestUnreachableAddressFailsThenEnableSucceeds(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("late", 1, 2)
	id := s.create(p.addr)
	testkit.Eventually(t, "OLT failed", func() error {
		d := s.device(id)
		if d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_FAILED {
			return fmt.Errorf("OLT %s", state(d))
		}
		if !strings.Contains(d.GetReason(), "no openolt agent answers at "+p.addr) {
			return fmt.Errorf("reason %q", d.GetReason())
		}
		return nil
	})
	p.start()
	if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	s.waitActive(id, 1, 2)
}

func TestRebootAndOutage(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("reboot", 1, 4)
	p.start()
	id := s.create(p.addr)
	s.waitActive(id, 1, 4)
	before := s.resources(id)

	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	// ONUs come back activated with the same ids.
	testkit.Eventually(t, "ONUs activated again after the reboot", func() error {
		for _, v := range p.sim.ONUs() {
			if !v.Activated {
				return fmt.Errorf("onu %s not activated", v.Serial)
			}
		}
		return nil
	})
	s.waitActive(id, 1, 4)
	if after := s.resources(id); !maps.Equal(before, after) {
		t.Errorf("resources changed across a reboot:\n before %v\n after  %v", before, after)
	}

	// The agent goes away: UNREACHABLE; back: REACHABLE and ACTIVE.
	p.stop()
	testkit.Eventually(t, "OLT unreachable", func() error {
		if d := s.device(id); d.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
			return fmt.Errorf("OLT %s", state(d))
		}
		return nil
	})
	p.start()
	s.waitActive(id, 1, 4)
	if after := s.resources(id); !maps.Equal(before, after) {
		t.Errorf("resources changed across an outage:\n before %v\n after  %v", before, after)
	}
}
