package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// addFlow sends one flow-add in ovs-ofctl text.
func (s *stack) addFlow(ctx context.Context, ldID, text string) error {
	s.t.Helper()
	f, err := flowtext.ParseFlow(text)
	if err != nil {
		s.t.Fatalf("parse %q: %v", text, err)
	}
	_, err = s.nbi.UpdateLogicalDeviceFlowTable(ctx, &voltv1.FlowTableUpdate{Id: ldID, FlowMod: &openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: f.GetTableId(), Priority: f.GetPriority(), Cookie: f.GetCookie(),
		OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions(),
	}})
	return err
}

func (s *stack) health() healthpb.HealthCheckResponse_ServingStatus {
	r, err := healthpb.NewHealthClient(dial(s.t, s.nbiAddr)).Check(ctxT(s.t, 3*time.Second), &healthpb.HealthCheckRequest{})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN
	}
	return r.GetStatus()
}

// onuStates is ponsim's view: serial → state.
func onuStates(t testing.TB, sim ponsimv1.PonSimClient) (map[string]ponsimv1.OnuState, error) {
	info, err := sim.GetDeviceInfo(ctxT(t, 5*time.Second), &emptypb.Empty{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]ponsimv1.OnuState)
	for _, o := range info.GetOnus() {
		out[o.GetSerialNumber()] = o.GetState()
	}
	return out, nil
}

// children returns the OLT's ONUs by id.
func (s *stack) children(oltID string) []*voltv1.Device {
	s.t.Helper()
	r, err := s.nbi.ListDevices(ctxT(s.t, 5*time.Second), &voltv1.ListDevicesRequest{ParentId: oltID})
	if err != nil {
		s.t.Fatal(err)
	}
	return r.GetItems()
}

// etcd goes down (SIGKILL) during a disable, an enable and a flow-add:
// each fails, and ponsim shows no trace of it; the core's health says
// NOT_SERVING meanwhile. When etcd is back, the core serves again and it
// and ponsim agree within 15 s.
func TestEtcdDownDuringOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	s := newStack(t)
	_, simAddr := s.ponsim(1, 4, "etcd")
	sim := ponsimClient(t, simAddr)
	id := s.createOLT(simAddr)
	s.enable(id)
	poll(t, 30*time.Second, "activation", func() error { return s.converged(id, 4) })
	olt, _ := s.device(id)
	kids := s.children(id)
	a, b := kids[0], kids[1]
	if _, err := s.nbi.DisableDevice(ctxT(t, 15*time.Second), &voltv1.ID{Id: b.GetId()}); err != nil {
		t.Fatalf("disable %s before the outage: %v", b.GetId(), err)
	}
	poll(t, 15*time.Second, "ONU b disabled in ponsim", func() error {
		st, err := onuStates(t, sim)
		if err != nil {
			return err
		}
		if st[b.GetSerialNumber()] != ponsimv1.OnuState_ONU_STATE_DISABLED {
			return fmt.Errorf("ponsim shows %s", st[b.GetSerialNumber()])
		}
		return nil
	})
	flowsBefore, err := s.nbi.ListLogicalDeviceFlows(ctxT(t, 5*time.Second), &voltv1.ID{Id: olt.GetLogicalDeviceId()})
	if err != nil {
		t.Fatal(err)
	}

	s.etcd.kill()
	down := time.Now()
	took := poll(t, 15*time.Second, "core health NOT_SERVING with etcd down", func() error {
		if st := s.health(); st != healthpb.HealthCheckResponse_NOT_SERVING {
			return fmt.Errorf("health %s", st)
		}
		return nil
	})
	say(t, "etcd killed: core health NOT_SERVING after %v", took.Round(time.Millisecond))
	poll(t, 15*time.Second, "core /readyz 503 naming etcd", func() error {
		code, body, err := s.readyz()
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "core/etcd") {
			return fmt.Errorf("/readyz: %d %q %v", code, body, err)
		}
		return nil
	})

	_, err = s.nbi.DisableDevice(ctxT(t, 8*time.Second), &voltv1.ID{Id: a.GetId()})
	say(t, "disable ONU %s with etcd down: %v", a.GetSerialNumber(), err)
	if err == nil {
		t.Error("disable succeeded with etcd down")
	}
	_, err = s.nbi.EnableDevice(ctxT(t, 8*time.Second), &voltv1.ID{Id: b.GetId()})
	say(t, "enable ONU %s with etcd down: %v", b.GetSerialNumber(), err)
	if err == nil {
		t.Error("enable succeeded with etcd down")
	}
	uni := a.GetProxyAddress().GetChannelId()<<12 | a.GetProxyAddress().GetOnuId()<<4
	err = s.addFlow(ctxT(t, 8*time.Second), olt.GetLogicalDeviceId(), fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:4000->vlan_vid,output:1", uni))
	say(t, "add-flow with etcd down: %v", err)
	if err == nil {
		t.Error("add-flow succeeded with etcd down")
	}
	// A failed operation changed nothing on ponsim.
	st, err := onuStates(t, sim)
	if err != nil {
		t.Fatal(err)
	}
	if st[a.GetSerialNumber()] == ponsimv1.OnuState_ONU_STATE_DISABLED {
		t.Errorf("the failed disable disabled ONU %s in ponsim", a.GetSerialNumber())
	}
	if st[b.GetSerialNumber()] != ponsimv1.OnuState_ONU_STATE_DISABLED {
		t.Errorf("the failed enable enabled ONU %s in ponsim", b.GetSerialNumber())
	}

	s.etcd.start()
	back := time.Now()
	took = poll(t, 15*time.Second, "core health SERVING after etcd is back", func() error {
		if st := s.health(); st != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %s", st)
		}
		return nil
	})
	say(t, "etcd back after %v down: core SERVING after %v", back.Sub(down).Round(time.Millisecond), took.Round(time.Millisecond))
	poll(t, 15*time.Second, "core /readyz 200 with etcd back", func() error {
		code, body, err := s.readyz()
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("/readyz: %d %q %v", code, body, err)
		}
		return nil
	})
	took = poll(t, 15*time.Second, "core and ponsim agree", func() error {
		st, err := onuStates(t, sim)
		if err != nil {
			return err
		}
		for _, d := range s.children(id) {
			coreDisabled := d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED
			simDisabled := st[d.GetSerialNumber()] == ponsimv1.OnuState_ONU_STATE_DISABLED
			if coreDisabled != simDisabled {
				return fmt.Errorf("ONU %s: core %s, ponsim %s", d.GetSerialNumber(), d.GetAdminState(), st[d.GetSerialNumber()])
			}
		}
		if d, err := s.device(a.GetId()); err != nil || d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
			return fmt.Errorf("ONU a after its failed disable: %v %v", d.GetAdminState(), err)
		}
		if d, err := s.device(b.GetId()); err != nil || d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED {
			return fmt.Errorf("ONU b after its failed enable: %v %v", d.GetAdminState(), err)
		}
		flows, err := s.nbi.ListLogicalDeviceFlows(ctxT(t, 5*time.Second), &voltv1.ID{Id: olt.GetLogicalDeviceId()})
		if err != nil {
			return err
		}
		if len(flows.GetItems()) != len(flowsBefore.GetItems()) {
			return fmt.Errorf("%d logical flows, %d before the failed add", len(flows.GetItems()), len(flowsBefore.GetItems()))
		}
		return nil
	})
	say(t, "core and ponsim agree %v after etcd is back (limit 15s)", took.Round(time.Millisecond))
}
