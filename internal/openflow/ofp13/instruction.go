package ofp13

import "fmt"

// InstructionType is ofp_instruction_type.
type InstructionType uint16

// OpenFlow 1.3 instruction types (OFPIT_*).
const (
	InstructionTypeGotoTable     InstructionType = 1
	InstructionTypeWriteMetadata InstructionType = 2
	InstructionTypeWriteActions  InstructionType = 3
	InstructionTypeApplyActions  InstructionType = 4
	InstructionTypeClearActions  InstructionType = 5
	InstructionTypeMeter         InstructionType = 6
	InstructionTypeExperimenter  InstructionType = 0xffff
)

var instructionTypeNames = map[InstructionType]string{
	InstructionTypeGotoTable: "GOTO_TABLE", InstructionTypeWriteMetadata: "WRITE_METADATA",
	InstructionTypeWriteActions: "WRITE_ACTIONS", InstructionTypeApplyActions: "APPLY_ACTIONS",
	InstructionTypeClearActions: "CLEAR_ACTIONS", InstructionTypeMeter: "METER",
	InstructionTypeExperimenter: "EXPERIMENTER",
}

func (t InstructionType) String() string {
	if n, ok := instructionTypeNames[t]; ok {
		return "OFPIT_" + n
	}
	return fmt.Sprintf("OFPIT_%d", uint16(t))
}

// Instruction is one OpenFlow 1.3 instruction: one of the Instruction*
// types of this package, always as a pointer.
type Instruction interface {
	Type() InstructionType
	appendInstruction(b []byte) ([]byte, error)
}

// InstructionGotoTable is OFPIT_GOTO_TABLE.
type InstructionGotoTable struct{ TableID uint8 }

// InstructionWriteMetadata is OFPIT_WRITE_METADATA.
type InstructionWriteMetadata struct{ Metadata, Mask uint64 }

// InstructionWriteActions is OFPIT_WRITE_ACTIONS.
type InstructionWriteActions struct{ Actions []Action }

// InstructionApplyActions is OFPIT_APPLY_ACTIONS.
type InstructionApplyActions struct{ Actions []Action }

// InstructionClearActions is OFPIT_CLEAR_ACTIONS.
type InstructionClearActions struct{}

// InstructionMeter is OFPIT_METER.
type InstructionMeter struct{ MeterID uint32 }

// InstructionExperimenter is OFPIT_EXPERIMENTER; like ActionExperimenter,
// Data is zero-padded to a multiple of 8 bytes on the wire.
type InstructionExperimenter struct {
	Experimenter uint32
	Data         []byte
}

func (*InstructionGotoTable) Type() InstructionType     { return InstructionTypeGotoTable }
func (*InstructionWriteMetadata) Type() InstructionType { return InstructionTypeWriteMetadata }
func (*InstructionWriteActions) Type() InstructionType  { return InstructionTypeWriteActions }
func (*InstructionApplyActions) Type() InstructionType  { return InstructionTypeApplyActions }
func (*InstructionClearActions) Type() InstructionType  { return InstructionTypeClearActions }
func (*InstructionMeter) Type() InstructionType         { return InstructionTypeMeter }
func (*InstructionExperimenter) Type() InstructionType  { return InstructionTypeExperimenter }

func appendInstructionHeader(b []byte, t InstructionType, n uint16) []byte {
	b = be.AppendUint16(b, uint16(t))
	return be.AppendUint16(b, n)
}

func (i *InstructionGotoTable) appendInstruction(b []byte) ([]byte, error) {
	b = append(appendInstructionHeader(b, InstructionTypeGotoTable, 8), i.TableID)
	return appendZeros(b, 3), nil
}

func (i *InstructionWriteMetadata) appendInstruction(b []byte) ([]byte, error) {
	b = appendZeros(appendInstructionHeader(b, InstructionTypeWriteMetadata, 24), 4)
	b = be.AppendUint64(b, i.Metadata)
	return be.AppendUint64(b, i.Mask), nil
}

func appendInstructionActions(b []byte, t InstructionType, as []Action) ([]byte, error) {
	start := len(b)
	b = appendZeros(appendInstructionHeader(b, t, 0), 4)
	b, err := appendActions(b, as)
	if err != nil {
		return b[:start], err
	}
	if err := putLen16(b, start, start+2); err != nil {
		return b[:start], err
	}
	return b, nil
}

func (i *InstructionWriteActions) appendInstruction(b []byte) ([]byte, error) {
	return appendInstructionActions(b, InstructionTypeWriteActions, i.Actions)
}

func (i *InstructionApplyActions) appendInstruction(b []byte) ([]byte, error) {
	return appendInstructionActions(b, InstructionTypeApplyActions, i.Actions)
}

func (i *InstructionClearActions) appendInstruction(b []byte) ([]byte, error) {
	return appendZeros(appendInstructionHeader(b, InstructionTypeClearActions, 8), 4), nil
}

func (i *InstructionMeter) appendInstruction(b []byte) ([]byte, error) {
	return be.AppendUint32(appendInstructionHeader(b, InstructionTypeMeter, 8), i.MeterID), nil
}

func (i *InstructionExperimenter) appendInstruction(b []byte) ([]byte, error) {
	start := len(b)
	b = appendInstructionHeader(b, InstructionTypeExperimenter, 0)
	b = be.AppendUint32(b, i.Experimenter)
	b = padTo8(append(b, i.Data...), start)
	if err := putLen16(b, start, start+2); err != nil {
		return b[:start], err
	}
	return b, nil
}

func appendInstructions(b []byte, is []Instruction) ([]byte, error) {
	for n, i := range is {
		if i == nil {
			return b, Errorf(ErrTypeBadInstruction, BadInstructionUnknownInst, "instruction %d is nil", n)
		}
		var err error
		if b, err = i.appendInstruction(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// instructionLen is the fixed length of the instructions that have one.
var instructionLen = map[InstructionType]int{
	InstructionTypeGotoTable: 8, InstructionTypeWriteMetadata: 24,
	InstructionTypeClearActions: 8, InstructionTypeMeter: 8,
}

// decodeInstructions reads a list of instructions that fills p exactly.
func decodeInstructions(p []byte) ([]Instruction, error) {
	var is []Instruction
	for len(p) > 0 {
		if len(p) < 8 {
			return nil, Errorf(ErrTypeBadInstruction, BadInstructionBadLen, "%d stray bytes in instruction list", len(p))
		}
		t, n := InstructionType(be.Uint16(p)), int(be.Uint16(p[2:]))
		if n < 8 || n%8 != 0 || n > len(p) {
			return nil, Errorf(ErrTypeBadInstruction, BadInstructionBadLen, "%v length %d with %d bytes left", t, n, len(p))
		}
		if want, ok := instructionLen[t]; ok && n != want {
			return nil, Errorf(ErrTypeBadInstruction, BadInstructionBadLen, "%v length %d, want %d", t, n, want)
		}
		q := p[:n]
		var i Instruction
		switch t {
		case InstructionTypeGotoTable:
			i = &InstructionGotoTable{TableID: q[4]}
		case InstructionTypeWriteMetadata:
			i = &InstructionWriteMetadata{Metadata: be.Uint64(q[8:]), Mask: be.Uint64(q[16:])}
		case InstructionTypeWriteActions, InstructionTypeApplyActions:
			as, err := decodeActions(q[8:])
			if err != nil {
				return nil, err
			}
			if t == InstructionTypeWriteActions {
				i = &InstructionWriteActions{Actions: as}
			} else {
				i = &InstructionApplyActions{Actions: as}
			}
		case InstructionTypeClearActions:
			i = &InstructionClearActions{}
		case InstructionTypeMeter:
			i = &InstructionMeter{MeterID: be.Uint32(q[4:])}
		case InstructionTypeExperimenter:
			i = &InstructionExperimenter{Experimenter: be.Uint32(q[4:]), Data: cloneBytes(q[8:])}
		default:
			return nil, Errorf(ErrTypeBadInstruction, BadInstructionUnknownInst, "instruction type %v", t)
		}
		is = append(is, i)
		p = p[n:]
	}
	return is, nil
}
