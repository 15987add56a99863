package ponsimolt_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
	"github.com/openvolt/openvolt/msgbus"
)

// recorder keeps the events of one topic, from its subscription on.
type recorder[T any] struct {
	mu  sync.Mutex
	got []recorded[T]
}

type recorded[T any] struct {
	at  time.Time
	key string
	msg T
}

func (r *recorder[T]) all() []recorded[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// follow subscribes to topic on the stack's broker and records its events
// of type T.
func follow[T any](s *stack, topic string) *recorder[T] {
	s.t.Helper()
	conn, err := msgbus.Dial(s.ctx(), msgbus.Config{Brokers: s.brokers, Name: "test-follow"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	r := &recorder[T]{}
	sub, err := conn.Subscribe(s.ctx(), topic, "", func(_ context.Context, ev *msgbus.Event) {
		if m, ok := ev.Message.(T); ok {
			r.mu.Lock()
			r.got = append(r.got, recorded[T]{at: time.Now(), key: ev.Key, msg: m})
			r.mu.Unlock()
		}
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { sub.Close() })
	return r
}

func (s *stack) setPm(id string, enabled bool, interval time.Duration, groups ...string) *voltv1.PmConfig {
	s.t.Helper()
	cfg, err := s.nbi.UpdatePmConfig(s.ctx(), &voltv1.PmConfig{DeviceId: id, Enabled: enabled, Interval: durationpb.New(interval), Groups: groups})
	if err != nil {
		s.t.Fatalf("update PM config of %s: %v", id, err)
	}
	return cfg
}

// KPI events of the OLT and of an ONU arrive on volt.kpis at the interval
// set through the NBI, keyed by the device id, with the groups asked for;
// kcat reads them too. Bad PM configurations are refused.
func TestKpisOnTopic(t *testing.T) {
	s := newStack(t)
	p := s.newSim("kpis", 1, 1)
	p.start()
	oltID := s.createOLT(p.addr)
	s.waitActive(oltID, 1)
	onuID := s.children(oltID)[0].GetId()
	kpis := follow[*voltv1.KpiEvent](s, adapter.DefaultKpisTopic)

	def, err := s.nbi.GetPmConfig(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	if !def.GetEnabled() || def.GetInterval().AsDuration() != 15*time.Second || !slices.Equal(def.GetGroups(), []string{"pon", "port"}) {
		t.Fatalf("default PM config %v, want enabled every 15s, groups pon and port", def)
	}
	s.setPm(oltID, true, time.Second)
	s.setPm(onuID, true, time.Second, "port")
	if got, err := s.nbi.GetPmConfig(s.ctx(), &voltv1.ID{Id: onuID}); err != nil || got.GetInterval().AsDuration() != time.Second || !slices.Equal(got.GetGroups(), []string{"port"}) {
		t.Fatalf("PM config of %s read back as %v, %v", onuID, got, err)
	}

	of := func(id string) []recorded[*voltv1.KpiEvent] {
		var out []recorded[*voltv1.KpiEvent]
		for _, r := range kpis.all() {
			if r.msg.GetDeviceId() == id {
				out = append(out, r)
			}
		}
		return out
	}
	testkit.Eventually(t, "4 KPI events of the OLT and 2 of the ONU", func() error {
		if n, m := len(of(oltID)), len(of(onuID)); n < 4 || m < 2 {
			return fmt.Errorf("%d of the OLT, %d of the ONU", n, m)
		}
		return nil
	})
	olt := of(oltID)
	for i, r := range olt {
		if r.key != oltID {
			t.Errorf("KPI event keyed %q, want the device id %s", r.key, oltID)
		}
		if iv := r.msg.GetInterval().AsDuration(); iv != time.Second {
			t.Errorf("KPI event interval %v, want 1s", iv)
		}
		groups := map[string]bool{}
		for _, port := range r.msg.GetPorts() {
			groups[port.GetGroup()] = true
		}
		if !groups["port"] || !groups["pon"] || len(r.msg.GetPorts()) != 2 {
			t.Errorf("OLT KPI ports %v: want the NNI (port) and the PON (pon)", r.msg.GetPorts())
		}
		if i >= 2 { // the first one comes at a random point of the interval
			gap := r.msg.GetTime().AsTime().Sub(olt[i-1].msg.GetTime().AsTime())
			if gap < 700*time.Millisecond || gap > 1500*time.Millisecond {
				t.Errorf("KPI events %v apart, want about the 1s interval", gap)
			}
		}
	}
	for _, r := range of(onuID) {
		ports := r.msg.GetPorts()
		if len(ports) != 1 || ports[0].GetGroup() != "port" || !portno.IsUNI(ports[0].GetPortNo()) {
			t.Errorf("ONU KPI ports %v: want only the UNI (group port)", ports)
		}
		if r.msg.GetSerialNumber() == "" {
			t.Errorf("ONU KPI event without a serial number")
		}
	}

	// kcat reads the same records: keyed by the device id, the message
	// type readable in the envelope.
	kcat := testpeer.Program(t, "kcat", "apt-get install kcat")
	out, err := exec.CommandContext(s.ctx(), kcat, "-b", s.brokers[0], "-C", "-t", adapter.DefaultKpisTopic,
		"-o", "beginning", "-e", "-q", "-f", "key=%k value=%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "key="+oltID+" value=") || !strings.Contains(string(out), "volt.v1.KpiEvent") {
		t.Errorf("kcat -C -t volt.kpis: want records keyed %s carrying volt.v1.KpiEvent, got\n%.2000s", oltID, out)
	}

	// A restarted adapter gets the stored configuration again when the
	// core reconciles the OLT: events keep coming every second, not every
	// 15 s (the default).
	s.olt.stop(t, "ponsim_olt adapter")
	restarted := len(of(oltID))
	s.olt = s.startAdapter("ponsim_olt", ponsimolt.Run)
	testkit.Eventually(t, "3 more OLT KPI events after an adapter restart", func() error {
		if n := len(of(oltID)) - restarted; n < 3 {
			return fmt.Errorf("%d more", n)
		}
		return nil
	})
	after := of(oltID)[restarted:]
	if gap := after[2].msg.GetTime().AsTime().Sub(after[1].msg.GetTime().AsTime()); gap > 1500*time.Millisecond {
		t.Errorf("after an adapter restart KPI events are %v apart, want the stored 1s interval", gap)
	}

	// Disabled: no more events once the change has reached the adapter.
	s.setPm(oltID, false, time.Second)
	testkit.Eventually(t, "OLT KPIs stop", func() error {
		n := len(of(oltID))
		time.Sleep(1500 * time.Millisecond) // more than one interval
		if m := len(of(oltID)); m != n {
			return fmt.Errorf("%d more events", m-n)
		}
		return nil
	})

	for _, c := range []struct {
		cfg  *voltv1.PmConfig
		want string
	}{
		{&voltv1.PmConfig{DeviceId: oltID, Enabled: true, Interval: durationpb.New(0)}, "at least 1s"},
		{&voltv1.PmConfig{DeviceId: oltID, Enabled: true, Interval: durationpb.New(-time.Second)}, "must be positive"},
		{&voltv1.PmConfig{DeviceId: oltID, Enabled: true, Interval: durationpb.New(25 * time.Hour)}, "maximum of 24h0m0s"},
		{&voltv1.PmConfig{DeviceId: oltID, Enabled: true, Interval: durationpb.New(time.Second), Groups: []string{"optics"}}, `unknown PM group "optics": valid groups are pon, port`},
	} {
		_, err := s.nbi.UpdatePmConfig(s.ctx(), c.cfg)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), c.want) {
			t.Errorf("UpdatePmConfig(%v): %v, want InvalidArgument saying %q", c.cfg, err, c.want)
		}
	}
	if got, err := s.nbi.GetPmConfig(s.ctx(), &voltv1.ID{Id: oltID}); err != nil || got.GetEnabled() || got.GetInterval().AsDuration() != time.Second {
		t.Errorf("after refused updates the PM config is %v, %v; want the last one stored (disabled, 1s)", got, err)
	}
	if _, err := s.nbi.GetPmConfig(s.ctx(), &voltv1.ID{Id: "no-such-device"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetPmConfig of an unknown device: %v, want NotFound", err)
	}
}

// Powering a ponsim ONU off raises its loss-of-signal and dying-gasp
// alarms (on volt.alarms, the change-event stream and ListAlarms);
// restarting the core and the OLT adapter neither forgets nor raises them
// again; powering it on clears them. ponsim stopping raises
// OLT_UNREACHABLE until it is back.
func TestAlarmsFromOnuPower(t *testing.T) {
	s := newStack(t)
	p := s.newSim("alarms", 1, 2)
	p.start()
	oltID := s.createOLT(p.addr)
	s.waitActive(oltID, 2)
	onu := s.children(oltID)[0]
	alarms := follow[*voltv1.Alarm](s, core.DefaultAlarmsTopic)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := s.nbi.ReceiveChangeEvents(ctx, &voltv1.ReceiveChangeEventsRequest{DeviceId: onu.GetId(), Payloads: []string{"alarm"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil { // subscribed
		t.Fatal(err)
	}

	sim := p.client()
	if _, err := sim.SetOnuPower(s.ctx(), &ponsimv1.OnuPower{SerialNumber: onu.GetSerialNumber(), On: false}); err != nil {
		t.Fatal(err)
	}
	active := func() []string {
		t.Helper()
		got, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: onu.GetId(), Active: true})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, a := range got.GetItems() {
			types = append(types, a.GetType())
		}
		return types
	}
	want := []string{ponsimolt.AlarmONUDyingGasp, ponsimolt.AlarmONULOS}
	testkit.Eventually(t, "ONU alarms raised", func() error {
		if got := active(); !slices.Equal(got, want) {
			return fmt.Errorf("active alarms %v", got)
		}
		return nil
	})
	ev, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if a := ev.GetAlarm().GetAlarm(); a.GetState() != voltv1.AlarmState_ALARM_STATE_RAISED || a.GetDeviceId() != onu.GetId() {
		t.Errorf("change event %v: want an alarm of %s raised", ev, onu.GetId())
	}
	d := s.device(onu.GetId())
	if d.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE || !strings.HasPrefix(d.GetReason(), "dying gasp") {
		t.Errorf("powered-off ONU is %s (%q), want UNREACHABLE with a dying-gasp reason", d.GetConnectStatus(), d.GetReason())
	}
	if other := s.children(oltID)[1]; other.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
		t.Errorf("the other ONU is %s", other.GetConnectStatus())
	}

	// Restarts: the core reloads the alarms; the OLT adapter re-derives
	// them from ponsim and raises them again, which changes nothing.
	s.core.stop(t, "core")
	s.startCore()
	if got := active(); !slices.Equal(got, want) {
		t.Errorf("after a core restart the active alarms are %v, want %v", got, want)
	}
	s.olt.stop(t, "ponsim_olt adapter")
	s.olt = s.startAdapter("ponsim_olt", ponsimolt.Run)
	testkit.Eventually(t, "OLT reachable again", func() error {
		if c := s.device(oltID).GetConnectStatus(); c != voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
			return fmt.Errorf("OLT %s", c)
		}
		return nil
	})

	if _, err := sim.SetOnuPower(s.ctx(), &ponsimv1.OnuPower{SerialNumber: onu.GetSerialNumber(), On: true}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "ONU alarms cleared and the ONU back", func() error {
		if got := active(); len(got) != 0 {
			return fmt.Errorf("active alarms %v", got)
		}
		if d := s.device(onu.GetId()); d.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
			return fmt.Errorf("ONU %s", d.GetConnectStatus())
		}
		return nil
	})
	all, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: onu.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all.GetItems() {
		if a.GetState() != voltv1.AlarmState_ALARM_STATE_CLEARED || a.GetClearedAt() == nil || a.GetRaisedAt() == nil ||
			a.GetSeverity() == voltv1.AlarmSeverity_ALARM_SEVERITY_UNSPECIFIED || a.GetDescription() == "" {
			t.Errorf("alarm after power-on: %v; want CLEARED with its raise and clear times, severity and description", a)
		}
	}
	// Exactly one raise and one clear of each alarm went out on
	// volt.alarms: the restarts raised nothing again.
	testkit.Eventually(t, "4 alarm events on volt.alarms", func() error {
		var raised, cleared int
		for _, r := range alarms.all() {
			if r.msg.GetDeviceId() != onu.GetId() {
				continue
			}
			if r.key != onu.GetId() {
				return fmt.Errorf("alarm keyed %q", r.key)
			}
			switch r.msg.GetState() {
			case voltv1.AlarmState_ALARM_STATE_RAISED:
				raised++
			case voltv1.AlarmState_ALARM_STATE_CLEARED:
				cleared++
			}
		}
		if raised != 2 || cleared != 2 {
			return fmt.Errorf("%d raised, %d cleared; want 2 and 2", raised, cleared)
		}
		return nil
	})

	// ponsim away: the core raises OLT_UNREACHABLE, and clears it when
	// the OLT is reachable again.
	oltAlarms := func() []string {
		t.Helper()
		got, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: oltID, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, a := range got.GetItems() {
			types = append(types, a.GetType())
		}
		return types
	}
	p.stop()
	testkit.Eventually(t, "OLT_UNREACHABLE raised", func() error {
		if got := oltAlarms(); !slices.Equal(got, []string{core.AlarmOLTUnreachable}) {
			return fmt.Errorf("active alarms of the OLT %v", got)
		}
		return nil
	})
	p.start()
	testkit.Eventually(t, "OLT_UNREACHABLE cleared", func() error {
		if got := oltAlarms(); len(got) != 0 {
			return fmt.Errorf("active alarms of the OLT %v", got)
		}
		return nil
	})
	sim = p.client()

	if _, err := sim.SetOnuPower(s.ctx(), &ponsimv1.OnuPower{SerialNumber: "NOSUCHONU"}); status.Code(err) != codes.NotFound {
		t.Errorf("SetOnuPower of an unknown ONU: %v, want NotFound", err)
	}
	if _, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: "no-such-device"}); status.Code(err) != codes.NotFound {
		t.Errorf("ListAlarms of an unknown device: %v, want NotFound", err)
	}
}
