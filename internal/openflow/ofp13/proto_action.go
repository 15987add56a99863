package ofp13

import (
	"fmt"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// Conversions of actions and instructions to and from the protobuf model.

// ActionFromProto converts one action. An empty oneof is OFPBAC_BAD_TYPE,
// a number too wide for its wire field OFPBAC_BAD_ARGUMENT, a bad
// set-field OFPBAC_BAD_SET_TYPE/_LEN/_ARGUMENT.
func ActionFromProto(a *openflowv1.Action) (Action, error) {
	switch x := a.GetAction().(type) {
	case *openflowv1.Action_Output:
		maxLen, err := actionU16(x.Output.GetMaxLen(), "output max_len")
		if err != nil {
			return nil, err
		}
		return &ActionOutput{Port: x.Output.GetPort(), MaxLen: maxLen}, nil
	case *openflowv1.Action_PushVlan:
		et, err := actionU16(x.PushVlan.GetEthertype(), "push_vlan ethertype")
		return &ActionPushVLAN{EtherType: et}, err
	case *openflowv1.Action_PopVlan:
		return &ActionPopVLAN{}, nil
	case *openflowv1.Action_SetField:
		return setFieldFromProto(x.SetField.GetField())
	case *openflowv1.Action_Group:
		return &ActionGroup{GroupID: x.Group.GetGroupId()}, nil
	case *openflowv1.Action_SetQueue:
		return &ActionSetQueue{QueueID: x.SetQueue.GetQueueId()}, nil
	case *openflowv1.Action_PushMpls:
		et, err := actionU16(x.PushMpls.GetEthertype(), "push_mpls ethertype")
		return &ActionPushMPLS{EtherType: et}, err
	case *openflowv1.Action_PopMpls:
		et, err := actionU16(x.PopMpls.GetEthertype(), "pop_mpls ethertype")
		return &ActionPopMPLS{EtherType: et}, err
	case *openflowv1.Action_SetMplsTtl:
		ttl, err := actionU8(x.SetMplsTtl.GetMplsTtl(), "mpls_ttl")
		return &ActionSetMPLSTTL{TTL: ttl}, err
	case *openflowv1.Action_DecMplsTtl:
		return &ActionDecMPLSTTL{}, nil
	case *openflowv1.Action_SetNwTtl:
		ttl, err := actionU8(x.SetNwTtl.GetNwTtl(), "nw_ttl")
		return &ActionSetNWTTL{TTL: ttl}, err
	case *openflowv1.Action_DecNwTtl:
		return &ActionDecNWTTL{}, nil
	case *openflowv1.Action_CopyTtlOut:
		return &ActionCopyTTLOut{}, nil
	case *openflowv1.Action_CopyTtlIn:
		return &ActionCopyTTLIn{}, nil
	case *openflowv1.Action_PushPbb:
		et, err := actionU16(x.PushPbb.GetEthertype(), "push_pbb ethertype")
		return &ActionPushPBB{EtherType: et}, err
	case *openflowv1.Action_PopPbb:
		return &ActionPopPBB{}, nil
	case *openflowv1.Action_Experimenter:
		return &ActionExperimenter{Experimenter: x.Experimenter.GetExperimenter(), Data: cloneBytes(x.Experimenter.GetData())}, nil
	}
	return nil, Errorf(ErrTypeBadAction, BadActionBadType, "action %T", a.GetAction())
}

func actionU16(v uint32, what string) (uint16, error) {
	if v > 0xffff {
		return 0, Errorf(ErrTypeBadAction, BadActionBadArgument, "%s %d does not fit 16 bits", what, v)
	}
	return uint16(v), nil
}

func actionU8(v uint32, what string) (uint8, error) {
	if v > 0xff {
		return 0, Errorf(ErrTypeBadAction, BadActionBadArgument, "%s %d does not fit 8 bits", what, v)
	}
	return uint8(v), nil
}

func setFieldFromProto(f *openflowv1.MatchField) (Action, error) {
	if f.GetHasMask() {
		return nil, Errorf(ErrTypeBadAction, BadActionBadSetArgument, "set_field %v has a mask", f.GetType())
	}
	o, err := OXMFromProto(f)
	if err != nil {
		e, _ := AsError(err)
		code := BadActionBadSetArgument
		switch e.Code {
		case BadMatchBadField:
			code = BadActionBadSetType
		case BadMatchBadLen:
			code = BadActionBadSetLen
		}
		return nil, Errorf(ErrTypeBadAction, code, "set_field: %s", e.Reason)
	}
	if err := checkSetField(o); err != nil {
		return nil, err
	}
	return &ActionSetField{Field: o}, nil
}

// ActionToProto converts one action (nil for nil).
func ActionToProto(a Action) *openflowv1.Action {
	switch x := a.(type) {
	case *ActionOutput:
		return &openflowv1.Action{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: x.Port, MaxLen: uint32(x.MaxLen)}}}
	case *ActionPushVLAN:
		return &openflowv1.Action{Action: &openflowv1.Action_PushVlan{PushVlan: &openflowv1.ActionPushVlan{Ethertype: uint32(x.EtherType)}}}
	case *ActionPopVLAN:
		return &openflowv1.Action{Action: &openflowv1.Action_PopVlan{PopVlan: &openflowv1.ActionPopVlan{}}}
	case *ActionSetField:
		return &openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{Field: OXMToProto(x.Field)}}}
	case *ActionGroup:
		return &openflowv1.Action{Action: &openflowv1.Action_Group{Group: &openflowv1.ActionGroup{GroupId: x.GroupID}}}
	case *ActionSetQueue:
		return &openflowv1.Action{Action: &openflowv1.Action_SetQueue{SetQueue: &openflowv1.ActionSetQueue{QueueId: x.QueueID}}}
	case *ActionPushMPLS:
		return &openflowv1.Action{Action: &openflowv1.Action_PushMpls{PushMpls: &openflowv1.ActionPushMpls{Ethertype: uint32(x.EtherType)}}}
	case *ActionPopMPLS:
		return &openflowv1.Action{Action: &openflowv1.Action_PopMpls{PopMpls: &openflowv1.ActionPopMpls{Ethertype: uint32(x.EtherType)}}}
	case *ActionSetMPLSTTL:
		return &openflowv1.Action{Action: &openflowv1.Action_SetMplsTtl{SetMplsTtl: &openflowv1.ActionSetMplsTtl{MplsTtl: uint32(x.TTL)}}}
	case *ActionDecMPLSTTL:
		return &openflowv1.Action{Action: &openflowv1.Action_DecMplsTtl{DecMplsTtl: &openflowv1.ActionDecMplsTtl{}}}
	case *ActionSetNWTTL:
		return &openflowv1.Action{Action: &openflowv1.Action_SetNwTtl{SetNwTtl: &openflowv1.ActionSetNwTtl{NwTtl: uint32(x.TTL)}}}
	case *ActionDecNWTTL:
		return &openflowv1.Action{Action: &openflowv1.Action_DecNwTtl{DecNwTtl: &openflowv1.ActionDecNwTtl{}}}
	case *ActionCopyTTLOut:
		return &openflowv1.Action{Action: &openflowv1.Action_CopyTtlOut{CopyTtlOut: &openflowv1.ActionCopyTtlOut{}}}
	case *ActionCopyTTLIn:
		return &openflowv1.Action{Action: &openflowv1.Action_CopyTtlIn{CopyTtlIn: &openflowv1.ActionCopyTtlIn{}}}
	case *ActionPushPBB:
		return &openflowv1.Action{Action: &openflowv1.Action_PushPbb{PushPbb: &openflowv1.ActionPushPbb{Ethertype: uint32(x.EtherType)}}}
	case *ActionPopPBB:
		return &openflowv1.Action{Action: &openflowv1.Action_PopPbb{PopPbb: &openflowv1.ActionPopPbb{}}}
	case *ActionExperimenter:
		return &openflowv1.Action{Action: &openflowv1.Action_Experimenter{Experimenter: &openflowv1.ActionExperimenter{
			Experimenter: x.Experimenter, Data: cloneBytes(x.Data)}}}
	}
	return nil
}

// ActionsFromProto converts a list of actions.
func ActionsFromProto(as []*openflowv1.Action) ([]Action, error) {
	var out []Action
	for i, a := range as {
		w, err := ActionFromProto(a)
		if err != nil {
			return nil, fmt.Errorf("action %d: %w", i, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// ActionsToProto converts a list of actions.
func ActionsToProto(as []Action) []*openflowv1.Action {
	var out []*openflowv1.Action
	for _, a := range as {
		out = append(out, ActionToProto(a))
	}
	return out
}

// InstructionFromProto converts one instruction. An empty oneof is
// OFPBIC_UNKNOWN_INST, a table id above 255 OFPBIC_BAD_TABLE_ID.
func InstructionFromProto(i *openflowv1.Instruction) (Instruction, error) {
	switch x := i.GetInstruction().(type) {
	case *openflowv1.Instruction_GotoTable:
		t := x.GotoTable.GetTableId()
		if t > 0xff {
			return nil, Errorf(ErrTypeBadInstruction, BadInstructionBadTableID, "goto_table %d", t)
		}
		return &InstructionGotoTable{TableID: uint8(t)}, nil
	case *openflowv1.Instruction_WriteMetadata:
		return &InstructionWriteMetadata{Metadata: x.WriteMetadata.GetMetadata(), Mask: x.WriteMetadata.GetMetadataMask()}, nil
	case *openflowv1.Instruction_WriteActions:
		as, err := ActionsFromProto(x.WriteActions.GetActions())
		if err != nil {
			return nil, fmt.Errorf("write_actions: %w", err)
		}
		return &InstructionWriteActions{Actions: as}, nil
	case *openflowv1.Instruction_ApplyActions:
		as, err := ActionsFromProto(x.ApplyActions.GetActions())
		if err != nil {
			return nil, fmt.Errorf("apply_actions: %w", err)
		}
		return &InstructionApplyActions{Actions: as}, nil
	case *openflowv1.Instruction_ClearActions:
		return &InstructionClearActions{}, nil
	case *openflowv1.Instruction_Meter:
		return &InstructionMeter{MeterID: x.Meter.GetMeterId()}, nil
	case *openflowv1.Instruction_Experimenter:
		return &InstructionExperimenter{Experimenter: x.Experimenter.GetExperimenter(), Data: cloneBytes(x.Experimenter.GetData())}, nil
	}
	return nil, Errorf(ErrTypeBadInstruction, BadInstructionUnknownInst, "instruction %T", i.GetInstruction())
}

// InstructionToProto converts one instruction (nil for nil).
func InstructionToProto(i Instruction) *openflowv1.Instruction {
	switch x := i.(type) {
	case *InstructionGotoTable:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_GotoTable{
			GotoTable: &openflowv1.InstructionGotoTable{TableId: uint32(x.TableID)}}}
	case *InstructionWriteMetadata:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_WriteMetadata{
			WriteMetadata: &openflowv1.InstructionWriteMetadata{Metadata: x.Metadata, MetadataMask: x.Mask}}}
	case *InstructionWriteActions:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_WriteActions{
			WriteActions: &openflowv1.InstructionActions{Actions: ActionsToProto(x.Actions)}}}
	case *InstructionApplyActions:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_ApplyActions{
			ApplyActions: &openflowv1.InstructionActions{Actions: ActionsToProto(x.Actions)}}}
	case *InstructionClearActions:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_ClearActions{
			ClearActions: &openflowv1.InstructionClearActions{}}}
	case *InstructionMeter:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_Meter{
			Meter: &openflowv1.InstructionMeter{MeterId: x.MeterID}}}
	case *InstructionExperimenter:
		return &openflowv1.Instruction{Instruction: &openflowv1.Instruction_Experimenter{
			Experimenter: &openflowv1.InstructionExperimenter{Experimenter: x.Experimenter, Data: cloneBytes(x.Data)}}}
	}
	return nil
}

// InstructionsFromProto converts a list of instructions.
func InstructionsFromProto(is []*openflowv1.Instruction) ([]Instruction, error) {
	var out []Instruction
	for n, i := range is {
		w, err := InstructionFromProto(i)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", n, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// InstructionsToProto converts a list of instructions.
func InstructionsToProto(is []Instruction) []*openflowv1.Instruction {
	var out []*openflowv1.Instruction
	for _, i := range is {
		out = append(out, InstructionToProto(i))
	}
	return out
}
