package omcionu_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/testkit"
)

// TestLostResponsesRetried drops one OMCI response in 25: the ONUs still
// come up, through retries.
func TestLostResponsesRetried(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: 100 * time.Millisecond, Retries: 3})
	p := s.newSim(1, 2, 1, 0.04)
	olt := s.create(p.addr)
	s.waitONUs(olt, 2, 1, omcionu.ReasonMibDownload)
	if c := p.face.OMCICounters(); c.Dropped == 0 {
		t.Errorf("no response dropped: %+v", c)
	}
}

// TestAllResponsesLostFails drops every OMCI response: each ONU ends
// FAILED with a reason naming the step and the retries, and does not
// hang.
func TestAllResponsesLostFails(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: 100 * time.Millisecond, Retries: 2})
	p := s.newSim(1, 2, 1, 1)
	olt := s.create(p.addr)
	testkit.Eventually(t, "ONUs failed", func() error {
		kids := s.children(olt)
		failed := 0
		for _, k := range kids {
			if k.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_FAILED {
				failed++
				if !strings.Contains(k.GetReason(), "MIB synchronisation") || !strings.Contains(k.GetReason(), "no response after 3 tries") {
					return fmt.Errorf("ONU %s failed with reason %q", k.GetSerialNumber(), k.GetReason())
				}
			}
		}
		if len(kids) != 2 || failed != 2 {
			return fmt.Errorf("%d children, %d failed", len(kids), failed)
		}
		return nil
	})
	if c := p.face.OMCICounters(); c.Dropped < 6 || c.Sent != 0 {
		t.Errorf("face counters %+v: want at least 6 dropped (2 ONUs x 3 tries of the MIB reset), none sent", c)
	}
}
