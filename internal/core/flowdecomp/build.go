package flowdecomp

import (
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// deviceFlow is one device flow to make.
type deviceFlow struct {
	dev    string
	in     uint32                   // in_port on the device
	fields []*openflowv1.MatchField // the rest of the match
	inner  *openflowv1.MatchField   // metadata match: the inner VLAN VID, or nil
	tunnel uint32                   // tunnel_id to match (the UNI), or 0
	meter  uint32
	acts   []*openflowv1.Action // before the output
	setTun uint32               // tunnel_id to set before the output (the UNI), or 0
	final  *openflowv1.Action   // output or group; nil for a drop
	extra  []*openflowv1.Action // more outputs after final
}

// make builds the device flow for logical flow f: table 0, f's priority
// and cookie, the match sorted by field type.
func (df *deviceFlow) make(f *openflowv1.Flow) *openflowv1.Flow {
	n := 1 + len(df.fields)
	if df.inner != nil {
		n++
	}
	if df.tunnel != 0 {
		n++
	}
	fields := make([]*openflowv1.MatchField, 0, n)
	fields = append(fields, &openflowv1.MatchField{Type: fInPort, Value: uint64(df.in)})
	fields = append(fields, df.fields...)
	if df.inner != nil {
		fields = append(fields, df.inner)
	}
	if df.tunnel != 0 {
		fields = append(fields, &openflowv1.MatchField{Type: fTunnel, Value: uint64(df.tunnel)})
	}
	sortFields(fields)

	var ins []*openflowv1.Instruction
	nacts := len(df.acts)
	if df.setTun != 0 {
		nacts++
	}
	if df.final != nil {
		nacts++
	}
	nacts += len(df.extra)
	if df.meter != 0 {
		ins = make([]*openflowv1.Instruction, 0, 2)
		ins = append(ins, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_Meter{
			Meter: &openflowv1.InstructionMeter{MeterId: df.meter}}})
	}
	if nacts > 0 {
		acts := make([]*openflowv1.Action, 0, nacts)
		acts = append(acts, df.acts...)
		if df.setTun != 0 {
			acts = append(acts, &openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{
				Field: &openflowv1.MatchField{Type: fTunnel, Value: uint64(df.setTun)}}}})
		}
		if df.final != nil {
			acts = append(acts, df.final)
		}
		acts = append(acts, df.extra...)
		ins = append(ins, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_ApplyActions{
			ApplyActions: &openflowv1.InstructionActions{Actions: acts}}})
	}
	out := &openflowv1.Flow{
		Priority:     f.GetPriority(),
		Cookie:       f.GetCookie(),
		Match:        &openflowv1.Match{Fields: fields},
		Instructions: ins,
	}
	out.Id = DeviceFlowID(df.dev, out)
	return out
}

// sortFields sorts a short match by field type, stably (insertion sort:
// matches have a handful of fields).
func sortFields(fields []*openflowv1.MatchField) {
	for i := 1; i < len(fields); i++ {
		for j := i; j > 0 && fields[j].GetType() < fields[j-1].GetType(); j-- {
			fields[j], fields[j-1] = fields[j-1], fields[j]
		}
	}
}

func output(port, maxLen uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: port, MaxLen: maxLen}}}
}

func groupAction(id uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_Group{Group: &openflowv1.ActionGroup{GroupId: id}}}
}
