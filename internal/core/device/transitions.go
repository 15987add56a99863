package device

import (
	"fmt"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// state is the triple the state machine is keyed on.
type state struct {
	admin voltv1.AdminState
	oper  voltv1.OperStatus
	conn  voltv1.ConnectStatus
}

func stateOf(d *voltv1.Device) state {
	return state{d.GetAdminState(), d.GetOperStatus(), d.GetConnectStatus()}
}

func (s state) String() string {
	return fmt.Sprintf("%s/%s/%s", s.admin, s.oper, s.conn)
}

// set is a set of enum values as a bitmask; the zero set matches anything.
type set uint32

func in[E ~int32](vs ...E) set {
	var s set
	for _, v := range vs {
		s |= 1 << uint(v)
	}
	return s
}

func notIn[E ~int32](vs ...E) set { return ^in(vs...) }

func (s set) has(v int32) bool { return s == 0 || s&(1<<uint(v)) != 0 }

// pattern matches a state: each dimension is a set (empty = any).
type pattern struct {
	admin, oper, conn set
}

func (p pattern) match(s state) bool {
	return p.admin.has(int32(s.admin)) && p.oper.has(int32(s.oper)) && p.conn.has(int32(s.conn))
}

type kind int

const (
	anyKind kind = iota
	parentKind
	childKind
)

// action is what a transition makes the logical side do.
type action int

const (
	actActivate  action = iota + 1 // DeviceActive: create logical device / add UNIs
	actGone                        // DeviceGone: child's logical ports go
	actPortsDown                   // SetPortsUp(false)
	actPortsUp                     // SetPortsUp(true)
)

func (a action) String() string {
	switch a {
	case actActivate:
		return "activate"
	case actGone:
		return "gone"
	case actPortsDown:
		return "ports-down"
	case actPortsUp:
		return "ports-up"
	}
	return "invalid"
}

type transition struct {
	name     string
	kind     kind
	from, to pattern
	act      action
}

var (
	active    = in(voltv1.OperStatus_OPER_STATUS_ACTIVE)
	notActive = notIn(voltv1.OperStatus_OPER_STATUS_ACTIVE)
	rebooted  = in(voltv1.OperStatus_OPER_STATUS_REBOOTED)
	// notActiveNorRebooted: a child's ports go when it leaves ACTIVE for
	// anything but a reboot asked of it.
	notActiveNorRebooted = notIn(voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.OperStatus_OPER_STATUS_REBOOTED)
	enabled              = in(voltv1.AdminState_ADMIN_STATE_ENABLED)
	disabled             = in(voltv1.AdminState_ADMIN_STATE_DISABLED)
	reachable            = in(voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE)
	unreach              = in(voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)
)

// transitions is the device state machine: after every change the rules
// whose from matches the old state and whose to matches the new one fire,
// in this order. Actions are idempotent, so overlapping rules are harmless.
var transitions = []transition{
	{"root-active", parentKind, pattern{oper: notActive}, pattern{admin: enabled, oper: active}, actActivate},
	{"child-active", childKind, pattern{oper: notActive}, pattern{admin: enabled, oper: active}, actActivate},
	{"child-inactive", childKind, pattern{oper: active}, pattern{oper: notActiveNorRebooted}, actGone},
	// A child rebooted by request (Manager.Reboot) keeps its logical
	// ports, down, and so their flows, until it is ACTIVE again.
	{"child-rebooting", childKind, pattern{oper: active}, pattern{admin: enabled, oper: rebooted}, actPortsDown},
	{"root-inactive", parentKind, pattern{oper: active}, pattern{oper: notActive}, actPortsDown},
	{"disabled", anyKind, pattern{admin: enabled}, pattern{admin: disabled}, actPortsDown},
	{"reenabled", anyKind, pattern{admin: disabled}, pattern{admin: enabled, oper: active}, actPortsUp},
	{"unreachable", parentKind, pattern{conn: reachable}, pattern{conn: unreach}, actPortsDown},
	{"reachable", parentKind, pattern{conn: unreach}, pattern{admin: enabled, oper: active, conn: reachable}, actPortsUp},
}

// actionsFor returns the actions a change from prev to cur triggers.
func actionsFor(root bool, prev, cur state) []action {
	if prev == cur {
		return nil
	}
	k := childKind
	if root {
		k = parentKind
	}
	var acts []action
	for _, t := range transitions {
		if t.kind != anyKind && t.kind != k {
			continue
		}
		if t.from.match(prev) && t.to.match(cur) {
			acts = append(acts, t.act)
		}
	}
	return acts
}

// op is an operation the NBI asks of a device.
type op string

const (
	opEnable  op = "enable"
	opDisable op = "disable"
	opReboot  op = "reboot"
	opDelete  op = "delete"
)

// allowed is the table of which admin states (and, for enable, which oper
// status) each operation accepts.
var allowed = map[op]func(state) bool{
	// Enable adopts a pre-provisioned device, re-enables a disabled one, and
	// retries one whose adoption failed.
	opEnable: func(s state) bool {
		return s.admin == voltv1.AdminState_ADMIN_STATE_PREPROVISIONED ||
			s.admin == voltv1.AdminState_ADMIN_STATE_DISABLED ||
			(s.admin == voltv1.AdminState_ADMIN_STATE_ENABLED && s.oper == voltv1.OperStatus_OPER_STATUS_FAILED)
	},
	opDisable: func(s state) bool { return s.admin == voltv1.AdminState_ADMIN_STATE_ENABLED },
	opReboot:  func(s state) bool { return s.admin == voltv1.AdminState_ADMIN_STATE_ENABLED },
	opDelete:  func(s state) bool { return s.admin != voltv1.AdminState_ADMIN_STATE_DELETING },
}

var allowedText = map[op]string{
	opEnable:  "PREPROVISIONED, DISABLED, or ENABLED with oper status FAILED",
	opDisable: "ENABLED",
	opReboot:  "ENABLED",
	opDelete:  "any state but DELETING",
}
