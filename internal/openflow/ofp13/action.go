package ofp13

import "fmt"

// ActionType is ofp_action_type.
type ActionType uint16

// OpenFlow 1.3 action types (OFPAT_*).
const (
	ActionTypeOutput       ActionType = 0
	ActionTypeCopyTTLOut   ActionType = 11
	ActionTypeCopyTTLIn    ActionType = 12
	ActionTypeSetMPLSTTL   ActionType = 15
	ActionTypeDecMPLSTTL   ActionType = 16
	ActionTypePushVLAN     ActionType = 17
	ActionTypePopVLAN      ActionType = 18
	ActionTypePushMPLS     ActionType = 19
	ActionTypePopMPLS      ActionType = 20
	ActionTypeSetQueue     ActionType = 21
	ActionTypeGroup        ActionType = 22
	ActionTypeSetNWTTL     ActionType = 23
	ActionTypeDecNWTTL     ActionType = 24
	ActionTypeSetField     ActionType = 25
	ActionTypePushPBB      ActionType = 26
	ActionTypePopPBB       ActionType = 27
	ActionTypeExperimenter ActionType = 0xffff
)

var actionTypeNames = map[ActionType]string{
	ActionTypeOutput: "OUTPUT", ActionTypeCopyTTLOut: "COPY_TTL_OUT", ActionTypeCopyTTLIn: "COPY_TTL_IN",
	ActionTypeSetMPLSTTL: "SET_MPLS_TTL", ActionTypeDecMPLSTTL: "DEC_MPLS_TTL", ActionTypePushVLAN: "PUSH_VLAN",
	ActionTypePopVLAN: "POP_VLAN", ActionTypePushMPLS: "PUSH_MPLS", ActionTypePopMPLS: "POP_MPLS",
	ActionTypeSetQueue: "SET_QUEUE", ActionTypeGroup: "GROUP", ActionTypeSetNWTTL: "SET_NW_TTL",
	ActionTypeDecNWTTL: "DEC_NW_TTL", ActionTypeSetField: "SET_FIELD", ActionTypePushPBB: "PUSH_PBB",
	ActionTypePopPBB: "POP_PBB", ActionTypeExperimenter: "EXPERIMENTER",
}

func (t ActionType) String() string {
	if n, ok := actionTypeNames[t]; ok {
		return "OFPAT_" + n
	}
	return fmt.Sprintf("OFPAT_%d", uint16(t))
}

// Reserved port numbers (ofp_port_no).
const (
	PortMax        uint32 = 0xffffff00
	PortInPort     uint32 = 0xfffffff8
	PortTable      uint32 = 0xfffffff9
	PortNormal     uint32 = 0xfffffffa
	PortFlood      uint32 = 0xfffffffb
	PortAll        uint32 = 0xfffffffc
	PortController uint32 = 0xfffffffd
	PortLocal      uint32 = 0xfffffffe
	PortAny        uint32 = 0xffffffff
)

// ControllerMaxLenNoBuffer (OFPCML_NO_BUFFER) as an output max_len sends
// the whole packet to the controller.
const ControllerMaxLenNoBuffer uint16 = 0xffff

// Action is one OpenFlow action: one of the Action* types of this package,
// always as a pointer.
type Action interface {
	Type() ActionType
	appendAction(b []byte) ([]byte, error)
}

// ActionOutput is OFPAT_OUTPUT.
type ActionOutput struct {
	Port   uint32
	MaxLen uint16
}

// ActionCopyTTLOut is OFPAT_COPY_TTL_OUT.
type ActionCopyTTLOut struct{}

// ActionCopyTTLIn is OFPAT_COPY_TTL_IN.
type ActionCopyTTLIn struct{}

// ActionSetMPLSTTL is OFPAT_SET_MPLS_TTL.
type ActionSetMPLSTTL struct{ TTL uint8 }

// ActionDecMPLSTTL is OFPAT_DEC_MPLS_TTL.
type ActionDecMPLSTTL struct{}

// ActionPushVLAN is OFPAT_PUSH_VLAN; EtherType is 0x8100 or 0x88a8.
type ActionPushVLAN struct{ EtherType uint16 }

// ActionPopVLAN is OFPAT_POP_VLAN.
type ActionPopVLAN struct{}

// ActionPushMPLS is OFPAT_PUSH_MPLS.
type ActionPushMPLS struct{ EtherType uint16 }

// ActionPopMPLS is OFPAT_POP_MPLS; EtherType is that of the payload.
type ActionPopMPLS struct{ EtherType uint16 }

// ActionSetQueue is OFPAT_SET_QUEUE.
type ActionSetQueue struct{ QueueID uint32 }

// ActionGroup is OFPAT_GROUP.
type ActionGroup struct{ GroupID uint32 }

// ActionSetNWTTL is OFPAT_SET_NW_TTL.
type ActionSetNWTTL struct{ TTL uint8 }

// ActionDecNWTTL is OFPAT_DEC_NW_TTL.
type ActionDecNWTTL struct{}

// ActionSetField is OFPAT_SET_FIELD; the field has no mask in 1.3.
type ActionSetField struct{ Field OXM }

// ActionPushPBB is OFPAT_PUSH_PBB.
type ActionPushPBB struct{ EtherType uint16 }

// ActionPopPBB is OFPAT_POP_PBB.
type ActionPopPBB struct{}

// ActionExperimenter is OFPAT_EXPERIMENTER. Data follows the experimenter
// id; it is zero-padded on the wire to a multiple of 8 bytes, so decoding
// returns the padding as part of Data.
type ActionExperimenter struct {
	Experimenter uint32
	Data         []byte
}

func (*ActionOutput) Type() ActionType       { return ActionTypeOutput }
func (*ActionCopyTTLOut) Type() ActionType   { return ActionTypeCopyTTLOut }
func (*ActionCopyTTLIn) Type() ActionType    { return ActionTypeCopyTTLIn }
func (*ActionSetMPLSTTL) Type() ActionType   { return ActionTypeSetMPLSTTL }
func (*ActionDecMPLSTTL) Type() ActionType   { return ActionTypeDecMPLSTTL }
func (*ActionPushVLAN) Type() ActionType     { return ActionTypePushVLAN }
func (*ActionPopVLAN) Type() ActionType      { return ActionTypePopVLAN }
func (*ActionPushMPLS) Type() ActionType     { return ActionTypePushMPLS }
func (*ActionPopMPLS) Type() ActionType      { return ActionTypePopMPLS }
func (*ActionSetQueue) Type() ActionType     { return ActionTypeSetQueue }
func (*ActionGroup) Type() ActionType        { return ActionTypeGroup }
func (*ActionSetNWTTL) Type() ActionType     { return ActionTypeSetNWTTL }
func (*ActionDecNWTTL) Type() ActionType     { return ActionTypeDecNWTTL }
func (*ActionSetField) Type() ActionType     { return ActionTypeSetField }
func (*ActionPushPBB) Type() ActionType      { return ActionTypePushPBB }
func (*ActionPopPBB) Type() ActionType       { return ActionTypePopPBB }
func (*ActionExperimenter) Type() ActionType { return ActionTypeExperimenter }

// appendActionHeader starts an action of the given type and total length.
func appendActionHeader(b []byte, t ActionType, n uint16) []byte {
	b = be.AppendUint16(b, uint16(t))
	return be.AppendUint16(b, n)
}

// appendActionBare writes the 8-byte actions that carry nothing
// (ofp_action_generic).
func appendActionBare(b []byte, t ActionType) []byte {
	return appendZeros(appendActionHeader(b, t, 8), 4)
}

func appendActionEtherType(b []byte, t ActionType, et uint16) []byte {
	b = appendActionHeader(b, t, 8)
	b = be.AppendUint16(b, et)
	return appendZeros(b, 2)
}

func (a *ActionOutput) appendAction(b []byte) ([]byte, error) {
	b = appendActionHeader(b, ActionTypeOutput, 16)
	b = be.AppendUint32(b, a.Port)
	b = be.AppendUint16(b, a.MaxLen)
	return appendZeros(b, 6), nil
}

func (a *ActionCopyTTLOut) appendAction(b []byte) ([]byte, error) {
	return appendActionBare(b, ActionTypeCopyTTLOut), nil
}

func (a *ActionCopyTTLIn) appendAction(b []byte) ([]byte, error) {
	return appendActionBare(b, ActionTypeCopyTTLIn), nil
}

func (a *ActionSetMPLSTTL) appendAction(b []byte) ([]byte, error) {
	b = append(appendActionHeader(b, ActionTypeSetMPLSTTL, 8), a.TTL)
	return appendZeros(b, 3), nil
}

func (a *ActionDecMPLSTTL) appendAction(b []byte) ([]byte, error) {
	return appendActionBare(b, ActionTypeDecMPLSTTL), nil
}

func (a *ActionPushVLAN) appendAction(b []byte) ([]byte, error) {
	return appendActionEtherType(b, ActionTypePushVLAN, a.EtherType), nil
}

func (a *ActionPopVLAN) appendAction(b []byte) ([]byte, error) {
	return appendActionBare(b, ActionTypePopVLAN), nil
}

func (a *ActionPushMPLS) appendAction(b []byte) ([]byte, error) {
	return appendActionEtherType(b, ActionTypePushMPLS, a.EtherType), nil
}

func (a *ActionPopMPLS) appendAction(b []byte) ([]byte, error) {
	return appendActionEtherType(b, ActionTypePopMPLS, a.EtherType), nil
}

func (a *ActionSetQueue) appendAction(b []byte) ([]byte, error) {
	return be.AppendUint32(appendActionHeader(b, ActionTypeSetQueue, 8), a.QueueID), nil
}

func (a *ActionGroup) appendAction(b []byte) ([]byte, error) {
	return be.AppendUint32(appendActionHeader(b, ActionTypeGroup, 8), a.GroupID), nil
}

func (a *ActionSetNWTTL) appendAction(b []byte) ([]byte, error) {
	b = append(appendActionHeader(b, ActionTypeSetNWTTL, 8), a.TTL)
	return appendZeros(b, 3), nil
}

func (a *ActionDecNWTTL) appendAction(b []byte) ([]byte, error) {
	return appendActionBare(b, ActionTypeDecNWTTL), nil
}

func (a *ActionSetField) appendAction(b []byte) ([]byte, error) {
	if err := checkSetField(a.Field); err != nil {
		return b, err
	}
	start := len(b)
	b = appendActionHeader(b, ActionTypeSetField, uint16(pad8(4+a.Field.wireLen())))
	b = appendOXM(b, a.Field)
	return padTo8(b, start), nil
}

func (a *ActionPushPBB) appendAction(b []byte) ([]byte, error) {
	return appendActionEtherType(b, ActionTypePushPBB, a.EtherType), nil
}

func (a *ActionPopPBB) appendAction(b []byte) ([]byte, error) {
	return appendActionBare(b, ActionTypePopPBB), nil
}

func (a *ActionExperimenter) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = appendActionHeader(b, ActionTypeExperimenter, 0)
	b = be.AppendUint32(b, a.Experimenter)
	b = padTo8(append(b, a.Data...), start)
	if err := putLen16(b, start, start+2); err != nil {
		return b[:start], err
	}
	return b, nil
}

// checkSetField validates the field of a set-field action, with the
// OFPBAC_BAD_SET_* codes the spec gives for it.
func checkSetField(o OXM) *Error {
	if o.Mask != nil {
		return Errorf(ErrTypeBadAction, BadActionBadSetArgument, "set_field %v has a mask", o.Field)
	}
	if err := o.check(); err != nil {
		switch err.Code {
		case BadMatchBadField:
			err.Code = BadActionBadSetType
		case BadMatchBadLen:
			err.Code = BadActionBadSetLen
		default:
			err.Code = BadActionBadSetArgument
		}
		err.Type = ErrTypeBadAction
		return err
	}
	return nil
}

// appendActions writes a list of actions.
func appendActions(b []byte, as []Action) ([]byte, error) {
	for i, a := range as {
		if a == nil {
			return b, Errorf(ErrTypeBadAction, BadActionBadType, "action %d is nil", i)
		}
		var err error
		if b, err = a.appendAction(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// decodeActions reads a list of actions that fills p exactly.
func decodeActions(p []byte) ([]Action, error) {
	var as []Action
	for len(p) > 0 {
		if len(p) < 8 {
			return nil, Errorf(ErrTypeBadAction, BadActionBadLen, "%d stray bytes in action list", len(p))
		}
		t, n := ActionType(be.Uint16(p)), int(be.Uint16(p[2:]))
		if n < 8 || n%8 != 0 || n > len(p) {
			return nil, Errorf(ErrTypeBadAction, BadActionBadLen, "%v length %d with %d bytes left", t, n, len(p))
		}
		a, err := decodeAction(t, p[:n])
		if err != nil {
			return nil, err
		}
		as = append(as, a)
		p = p[n:]
	}
	return as, nil
}

// actionLen is the fixed length of each action type except set-field and
// experimenter, which vary.
var actionLen = map[ActionType]int{
	ActionTypeOutput: 16, ActionTypeCopyTTLOut: 8, ActionTypeCopyTTLIn: 8, ActionTypeSetMPLSTTL: 8,
	ActionTypeDecMPLSTTL: 8, ActionTypePushVLAN: 8, ActionTypePopVLAN: 8, ActionTypePushMPLS: 8,
	ActionTypePopMPLS: 8, ActionTypeSetQueue: 8, ActionTypeGroup: 8, ActionTypeSetNWTTL: 8,
	ActionTypeDecNWTTL: 8, ActionTypePushPBB: 8, ActionTypePopPBB: 8,
}

// decodeAction decodes one action; a holds exactly its bytes (length
// already checked to be a multiple of 8 and at least 8).
func decodeAction(t ActionType, a []byte) (Action, error) {
	if want, ok := actionLen[t]; ok && len(a) != want {
		return nil, Errorf(ErrTypeBadAction, BadActionBadLen, "%v length %d, want %d", t, len(a), want)
	}
	switch t {
	case ActionTypeOutput:
		return &ActionOutput{Port: be.Uint32(a[4:]), MaxLen: be.Uint16(a[8:])}, nil
	case ActionTypeCopyTTLOut:
		return &ActionCopyTTLOut{}, nil
	case ActionTypeCopyTTLIn:
		return &ActionCopyTTLIn{}, nil
	case ActionTypeSetMPLSTTL:
		return &ActionSetMPLSTTL{TTL: a[4]}, nil
	case ActionTypeDecMPLSTTL:
		return &ActionDecMPLSTTL{}, nil
	case ActionTypePushVLAN:
		return &ActionPushVLAN{EtherType: be.Uint16(a[4:])}, nil
	case ActionTypePopVLAN:
		return &ActionPopVLAN{}, nil
	case ActionTypePushMPLS:
		return &ActionPushMPLS{EtherType: be.Uint16(a[4:])}, nil
	case ActionTypePopMPLS:
		return &ActionPopMPLS{EtherType: be.Uint16(a[4:])}, nil
	case ActionTypeSetQueue:
		return &ActionSetQueue{QueueID: be.Uint32(a[4:])}, nil
	case ActionTypeGroup:
		return &ActionGroup{GroupID: be.Uint32(a[4:])}, nil
	case ActionTypeSetNWTTL:
		return &ActionSetNWTTL{TTL: a[4]}, nil
	case ActionTypeDecNWTTL:
		return &ActionDecNWTTL{}, nil
	case ActionTypePushPBB:
		return &ActionPushPBB{EtherType: be.Uint16(a[4:])}, nil
	case ActionTypePopPBB:
		return &ActionPopPBB{}, nil
	case ActionTypeSetField:
		return decodeSetField(a)
	case ActionTypeExperimenter:
		return &ActionExperimenter{Experimenter: be.Uint32(a[4:]), Data: cloneBytes(a[8:])}, nil
	}
	return nil, Errorf(ErrTypeBadAction, BadActionBadType, "action type %v", t)
}

func decodeSetField(a []byte) (Action, error) {
	class, field, hasMask, n := oxmHeader(be.Uint32(a[4:]))
	if class != OXMClassOpenFlowBasic || !field.Known() {
		return nil, Errorf(ErrTypeBadAction, BadActionBadSetType, "set_field class 0x%04x field %d", class, uint8(field))
	}
	if hasMask {
		return nil, Errorf(ErrTypeBadAction, BadActionBadSetArgument, "set_field %v has a mask", field)
	}
	if n != field.Size() || pad8(8+n) != len(a) {
		return nil, Errorf(ErrTypeBadAction, BadActionBadSetLen, "set_field %v oxm length %d in action of %d", field, n, len(a))
	}
	o := OXM{Field: field, Value: cloneBytes(a[8 : 8+n])}
	if err := checkSetField(o); err != nil {
		return nil, err
	}
	return &ActionSetField{Field: o}, nil
}
