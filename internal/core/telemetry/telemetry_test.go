package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/core/telemetry"
	"github.com/openvolt/openvolt/internal/kvstore"
)

type devices map[string]bool

func (d devices) Device(id string) (*voltv1.Device, error) {
	if !d[id] {
		return nil, fmt.Errorf("device %q: %w", id, coreerr.ErrNotFound)
	}
	return &voltv1.Device{Id: id, Type: "ponsim_olt"}, nil
}

func TestCheckPm(t *testing.T) {
	pm := func(iv time.Duration, groups ...string) *voltv1.PmConfig {
		return &voltv1.PmConfig{DeviceId: "olt1", Enabled: true, Interval: durationpb.New(iv), Groups: groups}
	}
	for _, c := range []struct {
		cfg  *voltv1.PmConfig
		want string // error text; "" accepted
	}{
		{pm(15 * time.Second), ""},
		{pm(time.Second, "port", "pon", "port"), ""},
		{pm(24 * time.Hour), ""},
		{pm(0), "interval 0s: must be positive, at least 1s"},
		{pm(-5 * time.Second), "interval -5s: must be positive, at least 1s"},
		{pm(500 * time.Millisecond), "interval 500ms: below the minimum of 1s"},
		{pm(24*time.Hour + time.Second), "interval 24h0m1s: above the maximum of 24h0m0s"},
		{pm(time.Second, "optics"), `unknown PM group "optics": valid groups are pon, port`},
		{&voltv1.PmConfig{DeviceId: "olt1"}, "interval is required: between 1s and 24h0m0s"},
		{&voltv1.PmConfig{Interval: durationpb.New(time.Second)}, "device_id is required"},
	} {
		got, err := telemetry.CheckPm(c.cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("CheckPm(%v): %v", c.cfg, err)
		case c.want == "" && strings.Join(got.GetGroups(), ",") != "pon,port":
			t.Errorf("CheckPm(%v) groups %v, want pon,port (sorted, once each)", c.cfg, got.GetGroups())
		case c.want != "" && (!errors.Is(err, coreerr.ErrInvalidArgument) || err.Error() != c.want):
			t.Errorf("CheckPm(%v): %v, want InvalidArgument %q", c.cfg, err, c.want)
		}
	}
}

// A raise of an active alarm and a clear of an inactive one change and
// publish nothing; a new Alarms on the same store has the active ones.
func TestAlarmsAreState(t *testing.T) {
	ctx := context.Background()
	st := store.New(kvstore.NewMemory(), "volt")
	var published []*voltv1.Alarm
	sink := func(a *voltv1.Alarm) { published = append(published, a) }
	devs := devices{"onu1": true}
	al := telemetry.NewAlarms(st.Alarms, devs, sink, nil)
	raise := &voltv1.Alarm{DeviceId: "onu1", Type: "ONU_LOS", State: voltv1.AlarmState_ALARM_STATE_RAISED,
		Severity: voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR, Description: "gone"}
	clear := &voltv1.Alarm{DeviceId: "onu1", Type: "ONU_LOS", State: voltv1.AlarmState_ALARM_STATE_CLEARED}
	for i, c := range []struct {
		a       *voltv1.Alarm
		changed bool
	}{{clear, false}, {raise, true}, {raise, false}} {
		changed, err := al.Update(ctx, c.a)
		if err != nil || changed != c.changed {
			t.Fatalf("update %d: changed %v, %v; want %v", i, changed, err, c.changed)
		}
	}

	again := telemetry.NewAlarms(st.Alarms, devs, sink, nil)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := again.List("onu1", true); len(got) != 1 || got[0].GetId() != "onu1/ONU_LOS" || got[0].GetRaisedAt() == nil {
		t.Fatalf("after a reload: %v, want onu1/ONU_LOS active", got)
	}
	if changed, err := again.Update(ctx, raise); err != nil || changed {
		t.Fatalf("raise after a reload: changed %v, %v; want no change", changed, err)
	}
	if changed, err := again.Update(ctx, clear); err != nil || !changed {
		t.Fatalf("clear: changed %v, %v", changed, err)
	}
	if len(published) != 2 || published[1].GetState() != voltv1.AlarmState_ALARM_STATE_CLEARED ||
		published[1].GetSeverity() != voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR || published[1].GetDescription() != "gone" {
		t.Fatalf("published %v: want one raise and one clear that keeps the raise's severity and description", published)
	}
	if got := again.List("", true); len(got) != 0 {
		t.Errorf("active after the clear: %v", got)
	}

	for _, bad := range []struct {
		a    *voltv1.Alarm
		want error
	}{
		{&voltv1.Alarm{DeviceId: "onu9", Type: "ONU_LOS", State: voltv1.AlarmState_ALARM_STATE_RAISED}, coreerr.ErrNotFound},
		{&voltv1.Alarm{DeviceId: "onu1", Type: "onu los", State: voltv1.AlarmState_ALARM_STATE_RAISED}, coreerr.ErrInvalidArgument},
		{&voltv1.Alarm{DeviceId: "onu1", Type: "ONU_LOS"}, coreerr.ErrInvalidArgument},
		{&voltv1.Alarm{DeviceId: "onu1", Type: "ONU_LOS", State: voltv1.AlarmState_ALARM_STATE_RAISED, Resource: "a/b"}, coreerr.ErrInvalidArgument},
		{&voltv1.Alarm{DeviceId: "onu1", Type: "ONU_LOS", State: voltv1.AlarmState_ALARM_STATE_RAISED, Severity: 42}, coreerr.ErrInvalidArgument},
	} {
		if _, err := again.Update(ctx, bad.a); !errors.Is(err, bad.want) {
			t.Errorf("Update(%v): %v, want %v", bad.a, err, bad.want)
		}
	}
	if kvs, _ := st.KV.List(ctx, "/volt/alarms/"); len(kvs) != 1 {
		t.Errorf("%d alarms stored, want 1: refused updates store nothing", len(kvs))
	}
}

// Sweep removes the alarms and PM configurations of devices that are gone
// (a delete whose event was missed) and keeps the others, stored and in
// memory.
func TestSweepForgetsDevicesGone(t *testing.T) {
	ctx := context.Background()
	st := store.New(kvstore.NewMemory(), "volt")
	devs := devices{"olt1": true, "olt2": true}
	al := telemetry.NewAlarms(st.Alarms, devs, nil, nil)
	pm := telemetry.NewPmConfigs(st.PmConfigs, devs, func(context.Context, *voltv1.Device, *voltv1.PmConfig) error { return nil }, nil)
	for _, id := range []string{"olt1", "olt2"} {
		if _, err := al.Update(ctx, &voltv1.Alarm{DeviceId: id, Type: "OLT_UNREACHABLE", State: voltv1.AlarmState_ALARM_STATE_RAISED}); err != nil {
			t.Fatal(err)
		}
		if _, err := pm.Update(ctx, &voltv1.PmConfig{DeviceId: id, Enabled: true, Interval: durationpb.New(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	delete(devs, "olt2")
	exists := func(id string) bool { return devs[id] }
	if err := al.Sweep(ctx, exists); err != nil {
		t.Fatal(err)
	}
	if err := pm.Sweep(ctx, exists); err != nil {
		t.Fatal(err)
	}
	if got := al.List("", false); len(got) != 1 || got[0].GetDeviceId() != "olt1" {
		t.Errorf("alarms after the sweep: %v, want olt1's only", got)
	}
	for prefix, want := range map[string]int{"/volt/alarms/": 1, "/volt/pm_configs/": 1} {
		if kvs, err := st.KV.List(ctx, prefix); err != nil || len(kvs) != want || !strings.Contains(kvs[0].Key, "olt1") {
			t.Errorf("%s after the sweep: %v %v, want olt1's only", prefix, kvs, err)
		}
	}
}
