package device

import (
	"slices"
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

const (
	pre      = voltv1.AdminState_ADMIN_STATE_PREPROVISIONED
	en       = voltv1.AdminState_ADMIN_STATE_ENABLED
	dis      = voltv1.AdminState_ADMIN_STATE_DISABLED
	deleting = voltv1.AdminState_ADMIN_STATE_DELETING
	unknown  = voltv1.OperStatus_OPER_STATUS_UNSPECIFIED
	actv     = voltv1.OperStatus_OPER_STATUS_ACTIVATING
	act      = voltv1.OperStatus_OPER_STATUS_ACTIVE
	failed   = voltv1.OperStatus_OPER_STATUS_FAILED
	disc     = voltv1.OperStatus_OPER_STATUS_DISCOVERED
	rbt      = voltv1.OperStatus_OPER_STATUS_REBOOTED
	noConn   = voltv1.ConnectStatus_CONNECT_STATUS_UNSPECIFIED
	up       = voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE
	down     = voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE
)

func TestTransitions(t *testing.T) {
	tests := []struct {
		name       string
		root       bool
		prev, cur  state
		wantAction []action
	}{
		{"root activates", true, state{en, actv, up}, state{en, act, up}, []action{actActivate}},
		{"child activates", false, state{en, actv, up}, state{en, act, up}, []action{actActivate}},
		{"root active while disabled does nothing", true, state{dis, actv, up}, state{dis, act, up}, nil},
		{"child goes inactive", false, state{en, act, up}, state{en, disc, up}, []action{actGone}},
		{"child goes unreachable", false, state{en, act, up}, state{en, disc, down}, []action{actGone}},
		{"child rebooted keeps its ports", false, state{en, act, up}, state{en, rbt, up}, []action{actPortsDown}},
		{"rebooted child off the PON", false, state{en, rbt, up}, state{en, disc, down}, nil},
		{"rebooted child back", false, state{en, actv, up}, state{en, act, up}, []action{actActivate}},
		{"root goes inactive", true, state{en, act, up}, state{en, actv, up}, []action{actPortsDown}},
		{"disable", true, state{en, act, up}, state{dis, act, up}, []action{actPortsDown}},
		{"disable child", false, state{en, act, up}, state{dis, act, up}, []action{actPortsDown}},
		{"re-enable", false, state{dis, act, up}, state{en, act, up}, []action{actPortsUp}},
		{"re-enable not yet active", true, state{dis, actv, up}, state{en, actv, up}, nil},
		{"root unreachable", true, state{en, act, up}, state{en, act, down}, []action{actPortsDown}},
		{"root reachable again", true, state{en, act, down}, state{en, act, up}, []action{actPortsUp}},
		{"child unreachable is the parent's business", false, state{en, act, up}, state{en, act, down}, nil},
		{"no change", true, state{en, act, up}, state{en, act, up}, nil},
		{"adoption fails", true, state{en, actv, noConn}, state{en, failed, noConn}, nil},
		{"pre-provisioned to enabled", true, state{pre, unknown, noConn}, state{en, actv, noConn}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := actionsFor(tt.root, tt.prev, tt.cur)
			if !slices.Equal(got, tt.wantAction) {
				t.Errorf("actionsFor(%v, %v → %v) = %v, want %v", tt.root, tt.prev, tt.cur, got, tt.wantAction)
			}
		})
	}
}

func TestAllowedOperations(t *testing.T) {
	tests := []struct {
		op   op
		s    state
		want bool
	}{
		{opEnable, state{pre, unknown, noConn}, true},
		{opEnable, state{dis, act, up}, true},
		{opEnable, state{en, failed, noConn}, true},
		{opEnable, state{en, act, up}, false},
		{opEnable, state{en, actv, up}, false},
		{opEnable, state{deleting, act, up}, false},
		{opDisable, state{en, act, up}, true},
		{opDisable, state{dis, act, up}, false},
		{opDisable, state{pre, unknown, noConn}, false},
		{opReboot, state{en, act, up}, true},
		{opReboot, state{pre, unknown, noConn}, false},
		{opReboot, state{dis, act, up}, false},
		{opDelete, state{pre, unknown, noConn}, true},
		{opDelete, state{en, act, up}, true},
		{opDelete, state{dis, act, up}, true},
		{opDelete, state{deleting, act, up}, false},
	}
	for _, tt := range tests {
		if got := allowed[tt.op](tt.s); got != tt.want {
			t.Errorf("%s in %v: allowed = %v, want %v", tt.op, tt.s, got, tt.want)
		}
	}
}
