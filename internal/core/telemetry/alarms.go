package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
)

// Limits of what an adapter may put in an alarm.
const (
	MaxAlarmDescription = 1024
	MaxAlarmResource    = 64
)

var alarmType = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// AlarmSink takes every alarm raised or cleared (the change events and
// the volt.alarms topic); it must not block.
type AlarmSink func(*voltv1.Alarm)

// Alarms keeps the alarms of the devices: the active ones and the last
// cleared one of each id. They are stored, so a core restart keeps them,
// and raising an active alarm again (an adapter that restarted and
// re-derived its state) changes nothing and publishes nothing.
type Alarms struct {
	repo    store.Repo[*voltv1.Alarm]
	devices Devices
	sink    AlarmSink
	log     *slog.Logger

	mu   sync.Mutex // guards byID; held across the store write so changes of one id stay in order
	byID map[string]*voltv1.Alarm
}

// NewAlarms returns the alarms kept in repo; call Load to read them.
func NewAlarms(repo store.Repo[*voltv1.Alarm], devices Devices, sink AlarmSink, log *slog.Logger) *Alarms {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Alarms{repo: repo, devices: devices, sink: sink, log: log, byID: make(map[string]*voltv1.Alarm)}
}

// Load reads the stored alarms.
func (a *Alarms) Load(ctx context.Context) error {
	all, err := a.repo.List(ctx)
	if err != nil {
		return fmt.Errorf("load alarms: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, al := range all {
		a.byID[al.GetId()] = al
	}
	return nil
}

// AlarmID is the id of an alarm: "<device>/<type>[/<resource>]".
func AlarmID(deviceID, typ, resource string) string {
	id := deviceID + "/" + typ
	if resource != "" {
		id += "/" + resource
	}
	return id
}

func checkAlarm(al *voltv1.Alarm) error {
	switch {
	case al.GetDeviceId() == "":
		return invalid("alarm: device_id is required")
	case !alarmType.MatchString(al.GetType()):
		return invalid("alarm type %q: want upper-case letters, digits and '_' (at most 64), such as ONU_LOS", al.GetType())
	case len(al.GetResource()) > MaxAlarmResource || strings.ContainsAny(al.GetResource(), "/ \t\n"):
		return invalid("alarm resource %q: at most %d bytes, no '/' or spaces", al.GetResource(), MaxAlarmResource)
	case len(al.GetDescription()) > MaxAlarmDescription:
		return invalid("alarm description is %d bytes, more than the limit of %d", len(al.GetDescription()), MaxAlarmDescription)
	case al.GetState() != voltv1.AlarmState_ALARM_STATE_RAISED && al.GetState() != voltv1.AlarmState_ALARM_STATE_CLEARED:
		return invalid("alarm state %s: want RAISED or CLEARED", al.GetState())
	}
	if _, ok := voltv1.AlarmSeverity_name[int32(al.GetSeverity())]; !ok {
		return invalid("alarm severity %d is not one of AlarmSeverity", al.GetSeverity())
	}
	if _, ok := voltv1.AlarmCategory_name[int32(al.GetCategory())]; !ok {
		return invalid("alarm category %d is not one of AlarmCategory", al.GetCategory())
	}
	return nil
}

// Update raises or clears an alarm. Raising an active alarm, or clearing
// one that is not active, changes nothing; otherwise the alarm is stored,
// then published. It reports whether anything changed.
func (a *Alarms) Update(ctx context.Context, in *voltv1.Alarm) (bool, error) {
	if err := checkAlarm(in); err != nil {
		return false, err
	}
	if _, err := a.devices.Device(in.GetDeviceId()); err != nil {
		return false, err
	}
	id := AlarmID(in.GetDeviceId(), in.GetType(), in.GetResource())
	raise := in.GetState() == voltv1.AlarmState_ALARM_STATE_RAISED
	a.mu.Lock()
	defer a.mu.Unlock()
	cur := a.byID[id]
	active := cur != nil && cur.GetState() == voltv1.AlarmState_ALARM_STATE_RAISED
	if raise == active {
		return false, nil
	}
	next := proto.Clone(in).(*voltv1.Alarm)
	next.Id = id
	now := timestamppb.Now()
	if raise {
		next.RaisedAt, next.ClearedAt = now, nil
	} else {
		// The clear keeps what was raised: severity, category, time, and
		// the description unless the clear brings one.
		next.RaisedAt, next.ClearedAt = cur.GetRaisedAt(), now
		next.Severity, next.Category = cur.GetSeverity(), cur.GetCategory()
		if next.GetDescription() == "" {
			next.Description = cur.GetDescription()
		}
	}
	if err := a.repo.Put(ctx, id, next); err != nil {
		return false, coreerr.New(coreerr.ErrUnavailable, fmt.Sprintf("alarm %s not stored: %v", id, err))
	}
	a.byID[id] = next
	a.log.Info("alarm", "id", id, "state", next.GetState(), "severity", next.GetSeverity(), "description", next.GetDescription())
	if a.sink != nil {
		a.sink(proto.Clone(next).(*voltv1.Alarm))
	}
	return true, nil
}

// List returns the alarms of one device (deviceID set) or all, only the
// active ones when active is set, sorted by id.
func (a *Alarms) List(deviceID string, active bool) []*voltv1.Alarm {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*voltv1.Alarm
	for _, al := range a.byID {
		if deviceID != "" && al.GetDeviceId() != deviceID {
			continue
		}
		if active && al.GetState() != voltv1.AlarmState_ALARM_STATE_RAISED {
			continue
		}
		out = append(out, proto.Clone(al).(*voltv1.Alarm))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out
}

// Forget removes the alarms of a deleted device.
func (a *Alarms) Forget(ctx context.Context, deviceID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.repo.DeleteGroup(ctx, deviceID); err != nil {
		return err
	}
	for id, al := range a.byID {
		if al.GetDeviceId() == deviceID {
			delete(a.byID, id)
		}
	}
	return nil
}

// Sweep forgets the alarms of devices that no longer exist: a delete whose
// change event was missed (a core killed between the two, a follower cut
// off for falling behind) leaves none behind.
func (a *Alarms) Sweep(ctx context.Context, exists func(deviceID string) bool) error {
	a.mu.Lock()
	gone := make(map[string]bool)
	for _, al := range a.byID {
		if !exists(al.GetDeviceId()) {
			gone[al.GetDeviceId()] = true
		}
	}
	a.mu.Unlock()
	for id := range gone {
		if err := a.Forget(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
