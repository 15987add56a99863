package bench

import (
	"context"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/stack"
)

// TestFlowsOpenOLT runs the benchmark through openolt and OMCI: it ends
// only once ponsim's OLT table has the OLT's flows and each subscriber's
// ONU, configured over OMCI by the omci_onu adapter, pushes and pops its
// C-tag (ponsim_checked). Eight subscribers on one PON: the OLT's flows of
// several ONUs come in one update (added by ONU concurrently).
func TestFlowsOpenOLT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Flows(ctx, FlowsConfig{Subscribers: 8, Concurrency: 8, OLTType: stack.OpenOLTType})
	if err != nil {
		t.Fatal(err)
	}
	if res.Subscribers != 8 || res.LogicalFlows != 8*7+2 || !res.PonSimChecked || res.Seconds <= 0 {
		t.Errorf("result %+v", res)
	}
}
