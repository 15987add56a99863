package ponsimolt_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/adapters/ponsimonu"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/msgbus"
)

// sbi returns a CoreService client over the bus, as an adapter has.
func (s *stack) sbi() adapterv1.CoreServiceClient {
	s.t.Helper()
	conn, err := msgbus.Dial(s.ctx(), msgbus.Config{Brokers: s.brokers, Name: "old-build", Key: adapter.DeviceKeyFunc()})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return adapterv1.NewCoreServiceClient(conn.To(core.DefaultTopic))
}

func portNos(ps []*voltv1.Port) []uint32 {
	out := make([]uint32, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.GetPortNo())
	}
	slices.Sort(out)
	return out
}

func (s *stack) logicalPortNos(ldID string) []uint32 {
	s.t.Helper()
	ps, err := s.nbi.ListLogicalDevicePorts(s.ctx(), &voltv1.ID{Id: ldID})
	if err != nil {
		s.t.Fatalf("logical ports of %s: %v", ldID, err)
	}
	var out []uint32
	for _, p := range ps.GetItems() {
		out = append(out, p.GetOfpPort().GetPortNo())
	}
	slices.Sort(out)
	return out
}

// Ports an older build reported (the NNI numbered 1048576, a second NNI, a
// second UNI) and ponsim no longer has are removed when the adapters
// reconcile after a restart: the OLT, its ONUs and the logical device end
// up with exactly the ports ponsim has.
func TestReconcileRemovesStalePorts(t *testing.T) {
	s := newStack(t)
	p := s.newSim("stale", 1, 2)
	p.start()
	id := s.createOLT(p.addr)
	ldID := s.waitActive(id, 2)
	info := p.info()
	onu := s.children(id)[0]

	s.olt.stop(t, "ponsim_olt adapter")
	s.onu.stop(t, "ponsim_onu adapter")
	old := s.sbi()
	staleNNI := portno.NNI(1)
	pon, onuID := onu.GetProxyAddress().GetChannelId(), onu.GetProxyAddress().GetOnuId()
	staleUNI := portno.UNI(pon, onuID, 1)
	for _, st := range []struct {
		dev string
		p   *voltv1.Port
	}{
		{id, &voltv1.Port{PortNo: 1048576, Label: "nni-1048576", Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI}},
		{id, &voltv1.Port{PortNo: staleNNI, Label: portno.Name(staleNNI), Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI}},
		{onu.GetId(), &voltv1.Port{PortNo: staleUNI, Label: portno.Name(staleUNI), Type: voltv1.PortType_PORT_TYPE_ETHERNET_UNI}},
	} {
		st.p.AdminState = voltv1.AdminState_ADMIN_STATE_ENABLED
		st.p.OperStatus = voltv1.OperStatus_OPER_STATUS_ACTIVE
		if _, err := old.PortCreated(s.ctx(), &adapterv1.PortCreatedRequest{DeviceId: st.dev, Port: st.p}); err != nil {
			t.Fatalf("port %d of %s: %v", st.p.GetPortNo(), st.dev, err)
		}
	}
	// The premise: the stale NNI and UNI are live logical ports.
	if live, all := s.livePorts(ldID); live != 5 || all != 5 {
		t.Fatalf("%d of %d logical ports live with the stale ones, want 5", live, all)
	}

	// Restarted adapters reconcile (on the core's restart, see
	// TestAdapterRestartReconciles).
	s.olt = s.startAdapter("ponsim_olt", ponsimolt.Run)
	s.onu = s.startAdapter("ponsim_onu", ponsimonu.Run)
	s.core.stop(t, "core")
	s.startCore()

	wantOLT := append([]uint32{info.GetOlt().GetNniPort()}, info.GetOlt().GetPonPorts()...)
	slices.Sort(wantOLT)
	wantLogical := []uint32{info.GetOlt().GetNniPort()}
	for _, u := range info.GetOnus() {
		wantLogical = append(wantLogical, u.GetUniPort())
	}
	slices.Sort(wantLogical)
	testkit.Eventually(t, "stale ports removed", func() error {
		if got := portNos(s.ports(id)); !slices.Equal(got, wantOLT) {
			return fmt.Errorf("OLT ports %v, want %v", got, wantOLT)
		}
		if got := portNos(s.ports(onu.GetId())); slices.Contains(got, staleUNI) || len(got) != 2 {
			return fmt.Errorf("ONU ports %v, want its UNI and PON port only", got)
		}
		if got := s.logicalPortNos(ldID); !slices.Equal(got, wantLogical) {
			return fmt.Errorf("logical ports %v, want %v", got, wantLogical)
		}
		return nil
	})
	s.waitActive(id, 2)
}
