package faults

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

const brokerDown = 10 * time.Second

// agree checks that every ONU of the OLT is ENABLED/ACTIVE in the core
// and enabled in ponsim.
func (s *stack) allEnabled(sim ponsimv1.PonSimClient, olt string, want int) error {
	if err := s.converged(olt, want); err != nil {
		return err
	}
	info, err := sim.GetDeviceInfo(ctxT(s.t, 5*time.Second), &emptypb.Empty{})
	if err != nil {
		return err
	}
	if !info.GetOlt().GetEnabled() {
		return fmt.Errorf("ponsim has its OLT disabled")
	}
	st, err := onuStates(s.t, sim)
	if err != nil {
		return err
	}
	for serial, v := range st {
		if v == ponsimv1.OnuState_ONU_STATE_DISABLED {
			return fmt.Errorf("ponsim has ONU %s disabled", serial)
		}
	}
	return nil
}

// The broker is killed (SIGKILL) for 10 s, once in steady state and once
// during an enable, and started again on its port: within 15 s of its
// return the core serves, operations reach ponsim again, and the enable
// made while it was down is applied (every ONU ENABLED/ACTIVE, in the
// core and in ponsim).
func TestBrokerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	s := newStack(t)
	_, simAddr := s.ponsim(2, 8, "broker")
	sim := ponsimClient(t, simAddr)
	olt := s.createOLT(simAddr)
	s.enable(olt)
	poll(t, 30*time.Second, "activation", func() error { return s.allEnabled(sim, olt, 16) })

	// Steady state.
	s.broker.kill()
	time.Sleep(brokerDown) // the outage, not an assertion
	s.broker.start()
	back := time.Now()
	onu := s.children(olt)[0]
	poll(t, 15*time.Second, "a disable reaches ponsim after the broker's return", func() error {
		if s.health() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("core health %s", s.health())
		}
		d, err := s.device(onu.GetId())
		if err != nil {
			return err
		}
		if d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED {
			if _, err := s.nbi.DisableDevice(ctxT(t, 5*time.Second), &voltv1.ID{Id: onu.GetId()}); err != nil {
				return err
			}
		}
		st, err := onuStates(t, sim)
		if err != nil {
			return err
		}
		if st[onu.GetSerialNumber()] != ponsimv1.OnuState_ONU_STATE_DISABLED {
			return fmt.Errorf("ponsim shows %s", st[onu.GetSerialNumber()])
		}
		return nil
	})
	say(t, "broker down %v in steady state: a disable reached ponsim %v after its return", brokerDown, time.Since(back).Round(time.Millisecond))
	if _, err := s.nbi.EnableDevice(ctxT(t, 15*time.Second), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	poll(t, 15*time.Second, "all enabled again", func() error { return s.allEnabled(sim, olt, 16) })

	// During an enable: the OLT is disabled, the broker goes, the OLT is
	// enabled (the caller may see an error; the intent is stored).
	poll(t, 15*time.Second, "OLT disabled", func() error {
		d, err := s.device(olt)
		if err != nil {
			return err
		}
		if d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED {
			return nil
		}
		_, err = s.nbi.DisableDevice(ctxT(t, 5*time.Second), &voltv1.ID{Id: olt})
		return err
	})
	poll(t, 15*time.Second, "ponsim's OLT disabled", func() error {
		info, err := sim.GetDeviceInfo(ctxT(t, 5*time.Second), &emptypb.Empty{})
		if err != nil {
			return err
		}
		if info.GetOlt().GetEnabled() {
			return fmt.Errorf("ponsim's OLT still enabled")
		}
		return nil
	})
	s.broker.kill()
	_, err := s.nbi.EnableDevice(ctxT(t, 15*time.Second), &voltv1.ID{Id: olt})
	say(t, "OLT enable with the broker down: %v", err)
	time.Sleep(brokerDown) // the rest of the outage
	s.broker.start()
	took := poll(t, 15*time.Second, "everything enabled after the broker's return", func() error {
		return s.allEnabled(sim, olt, 16)
	})
	say(t, "broker down %v during an enable: OLT and 16 ONUs ENABLED/ACTIVE in the core and ponsim %v after its return (limit 15s)", brokerDown, took.Round(time.Millisecond))

	// The change the enable made while the broker was away (the OLT's
	// admin state, DISABLED → ENABLED) is on volt.events: the broker came
	// back empty, so it can only be there if the core kept it and sent it.
	conn, err := msgbus.Dial(ctxT(t, 10*time.Second), msgbus.Config{Brokers: []string{s.brokers}, Name: "faults-events"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var enabled atomic.Bool
	sub, err := conn.Subscribe(ctxT(t, 10*time.Second), "volt.events", "faults-events", func(_ context.Context, ev *msgbus.Event) {
		e, ok := ev.Message.(*voltv1.Event)
		if !ok || e.GetDeviceId() != olt {
			return
		}
		dc := e.GetDevice()
		if dc.GetPreviousAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED && dc.GetDevice().GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED {
			enabled.Store(true)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	poll(t, 15*time.Second, "the enable's change event on volt.events", func() error {
		if !enabled.Load() {
			return fmt.Errorf("no event of OLT %s going from DISABLED to ENABLED", olt)
		}
		return nil
	})
	say(t, "the change event of the enable made while the broker was down is on volt.events after its return")
}
