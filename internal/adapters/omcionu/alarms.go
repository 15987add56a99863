package omcionu

import (
	"context"
	"fmt"
	"strconv"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// AlarmUNILOS is the alarm this adapter raises on an ONU device whose UNI
// reports LAN LOS (PPTP Ethernet UNI alarm 0: no link, or the UNI locked);
// its resource is the UNI's port number.
const AlarmUNILOS = "UNI_LOS"

// uniLOS raises or clears the UNI_LOS alarm of UNI port. Raising an active
// alarm or clearing one that is not changes nothing in the core.
func (u *onu) uniLOS(ctx context.Context, port uint32, los bool) error {
	state := voltv1.AlarmState_ALARM_STATE_CLEARED
	if los {
		state = voltv1.AlarmState_ALARM_STATE_RAISED
	}
	_, _, uni := portno.SplitUNI(port)
	a := &voltv1.Alarm{
		DeviceId: u.id, Type: AlarmUNILOS, Resource: strconv.FormatUint(uint64(port), 10), State: state,
		Severity: voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR, Category: voltv1.AlarmCategory_ALARM_CATEGORY_UNI,
		Description: fmt.Sprintf("UNI %d: LAN loss of signal: no Ethernet link (or the UNI is locked)", uni),
	}
	if _, err := u.h.core.UpdateAlarm(ctx, a, u.reportKey()); err != nil {
		return fmt.Errorf("ONU %s alarm %s %s: %w", u.id, AlarmUNILOS, state, err)
	}
	return nil
}
