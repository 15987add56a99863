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
	tp     uint64               // OLT flows: the tech profile of write_metadata (bits 47-32), or 0
}

// flowParts is a device flow and the messages every one is made of, so
// that make allocates it at once (for up to inlineParts fields and
// actions). The parts only some flows have come in allocations of their
// own, not to make every flow bigger.
type flowParts struct {
	flow   openflowv1.Flow
	match  openflowv1.Match
	inPort openflowv1.MatchField
	fields [inlineParts]*openflowv1.MatchField
	ins    [2]*openflowv1.Instruction

	apply     openflowv1.Instruction
	applyWrap openflowv1.Instruction_ApplyActions
	applyBody openflowv1.InstructionActions
	acts      [inlineParts]*openflowv1.Action
}

const inlineParts = 6

// parts returns buf empty with capacity n, or a new slice when n is more.
func parts[T any](buf []T, n int) []T {
	if n <= len(buf) {
		return buf[:0:n]
	}
	return make([]T, 0, n)
}

// make builds the device flow for logical flow f: table 0, f's priority
// and cookie, the match sorted by field type.
func (df *deviceFlow) make(f *openflowv1.Flow) *openflowv1.Flow {
	p := new(flowParts)
	n := 1 + len(df.fields)
	if df.inner != nil {
		n++
	}
	if df.tunnel != 0 {
		n++
	}
	fields := parts(p.fields[:], n)
	p.inPort.Type, p.inPort.Value = fInPort, uint64(df.in)
	fields = append(fields, &p.inPort)
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
		m := new(struct {
			in   openflowv1.Instruction
			wrap openflowv1.Instruction_Meter
			body openflowv1.InstructionMeter
		})
		m.body.MeterId = df.meter
		m.wrap.Meter = &m.body
		m.in.Instruction = &m.wrap
		ins = append(p.ins[:0:2], &m.in)
	}
	if nacts > 0 {
		acts := parts(p.acts[:], nacts)
		acts = append(acts, df.acts...)
		if df.setTun != 0 {
			a := new(struct {
				act   openflowv1.Action
				wrap  openflowv1.Action_SetField
				body  openflowv1.ActionSetField
				field openflowv1.MatchField
			})
			a.field.Type, a.field.Value = fTunnel, uint64(df.setTun)
			a.body.Field = &a.field
			a.wrap.SetField = &a.body
			a.act.Action = &a.wrap
			acts = append(acts, &a.act)
		}
		if df.final != nil {
			acts = append(acts, df.final)
		}
		acts = append(acts, df.extra...)
		p.applyBody.Actions = acts
		p.applyWrap.ApplyActions = &p.applyBody
		p.apply.Instruction = &p.applyWrap
		if ins == nil {
			ins = p.ins[:0:1]
		}
		ins = append(ins, &p.apply)
	}
	if df.tp != 0 {
		// The tech profile, for the OLT adapter (after apply, as
		// OpenFlow orders instructions).
		ins = append(ins, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_WriteMetadata{
			WriteMetadata: &openflowv1.InstructionWriteMetadata{Metadata: df.tp << mdTPShift, MetadataMask: mdTPMask}}})
	}
	out := &p.flow
	out.Priority = f.GetPriority()
	out.Cookie = f.GetCookie()
	p.match.Fields = fields
	out.Match = &p.match
	out.Instructions = ins
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

// output and groupAction allocate an action with its oneof wrapper and
// body in one go.
func output(port, maxLen uint32) *openflowv1.Action {
	a := new(struct {
		act  openflowv1.Action
		wrap openflowv1.Action_Output
		body openflowv1.ActionOutput
	})
	a.body.Port, a.body.MaxLen = port, maxLen
	a.wrap.Output = &a.body
	a.act.Action = &a.wrap
	return &a.act
}

func groupAction(id uint32) *openflowv1.Action {
	a := new(struct {
		act  openflowv1.Action
		wrap openflowv1.Action_Group
		body openflowv1.ActionGroup
	})
	a.body.GroupId = id
	a.wrap.Group = &a.body
	a.act.Action = &a.wrap
	return &a.act
}
