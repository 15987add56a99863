package ofp13

import (
	"errors"
	"fmt"
)

// ErrorType is ofp_error_type.
type ErrorType uint16

// OpenFlow 1.3 error types (OFPET_*).
const (
	ErrTypeHelloFailed        ErrorType = 0
	ErrTypeBadRequest         ErrorType = 1
	ErrTypeBadAction          ErrorType = 2
	ErrTypeBadInstruction     ErrorType = 3
	ErrTypeBadMatch           ErrorType = 4
	ErrTypeFlowModFailed      ErrorType = 5
	ErrTypeGroupModFailed     ErrorType = 6
	ErrTypePortModFailed      ErrorType = 7
	ErrTypeTableModFailed     ErrorType = 8
	ErrTypeQueueOpFailed      ErrorType = 9
	ErrTypeSwitchConfigFailed ErrorType = 10
	ErrTypeRoleRequestFailed  ErrorType = 11
	ErrTypeMeterModFailed     ErrorType = 12
	ErrTypeTableFeaturesFail  ErrorType = 13
	ErrTypeExperimenter       ErrorType = 0xffff
)

// OFPHFC_* codes of ErrTypeHelloFailed.
const (
	HelloFailedIncompatible uint16 = 0
	HelloFailedEPerm        uint16 = 1
)

// OFPBRC_* codes of ErrTypeBadRequest.
const (
	BadRequestBadVersion uint16 = iota
	BadRequestBadType
	BadRequestBadMultipart
	BadRequestBadExperimenter
	BadRequestBadExpType
	BadRequestEPerm
	BadRequestBadLen
	BadRequestBufferEmpty
	BadRequestBufferUnknown
	BadRequestBadTableID
	BadRequestIsSlave
	BadRequestBadPort
	BadRequestBadPacket
	BadRequestMultipartBufferOverflow
)

// OFPBAC_* codes of ErrTypeBadAction.
const (
	BadActionBadType uint16 = iota
	BadActionBadLen
	BadActionBadExperimenter
	BadActionBadExpType
	BadActionBadOutPort
	BadActionBadArgument
	BadActionEPerm
	BadActionTooMany
	BadActionBadQueue
	BadActionBadOutGroup
	BadActionMatchInconsistent
	BadActionUnsupportedOrder
	BadActionBadTag
	BadActionBadSetType
	BadActionBadSetLen
	BadActionBadSetArgument
)

// OFPBIC_* codes of ErrTypeBadInstruction.
const (
	BadInstructionUnknownInst uint16 = iota
	BadInstructionUnsupInst
	BadInstructionBadTableID
	BadInstructionUnsupMetadata
	BadInstructionUnsupMetadataMask
	BadInstructionBadExperimenter
	BadInstructionBadExpType
	BadInstructionBadLen
	BadInstructionEPerm
)

// OFPBMC_* codes of ErrTypeBadMatch.
const (
	BadMatchBadType uint16 = iota
	BadMatchBadLen
	BadMatchBadTag
	BadMatchBadDLAddrMask
	BadMatchBadNWAddrMask
	BadMatchBadWildcards
	BadMatchBadField
	BadMatchBadValue
	BadMatchBadMask
	BadMatchBadPrereq
	BadMatchDupField
	BadMatchEPerm
)

// OFPFMFC_* codes of ErrTypeFlowModFailed.
const (
	FlowModFailedUnknown uint16 = iota
	FlowModFailedTableFull
	FlowModFailedBadTableID
	FlowModFailedOverlap
	FlowModFailedEPerm
	FlowModFailedBadTimeout
	FlowModFailedBadCommand
	FlowModFailedBadFlags
)

// OFPGMFC_* codes of ErrTypeGroupModFailed.
const (
	GroupModFailedGroupExists uint16 = iota
	GroupModFailedInvalidGroup
	GroupModFailedWeightUnsupported
	GroupModFailedOutOfGroups
	GroupModFailedOutOfBuckets
	GroupModFailedChainingUnsupported
	GroupModFailedWatchUnsupported
	GroupModFailedLoop
	GroupModFailedUnknownGroup
	GroupModFailedChainedGroup
	GroupModFailedBadType
	GroupModFailedBadCommand
	GroupModFailedBadBucket
	GroupModFailedBadWatch
	GroupModFailedEPerm
)

// OFPPMFC_* codes of ErrTypePortModFailed.
const (
	PortModFailedBadPort uint16 = iota
	PortModFailedBadHWAddr
	PortModFailedBadConfig
	PortModFailedBadAdvertise
	PortModFailedEPerm
)

// OFPTMFC_* codes of ErrTypeTableModFailed.
const (
	TableModFailedBadTable uint16 = iota
	TableModFailedBadConfig
	TableModFailedEPerm
)

// OFPQOFC_* codes of ErrTypeQueueOpFailed.
const (
	QueueOpFailedBadPort uint16 = iota
	QueueOpFailedBadQueue
	QueueOpFailedEPerm
)

// OFPSCFC_* codes of ErrTypeSwitchConfigFailed.
const (
	SwitchConfigFailedBadFlags uint16 = iota
	SwitchConfigFailedBadLen
	SwitchConfigFailedEPerm
)

// OFPRRFC_* codes of ErrTypeRoleRequestFailed.
const (
	RoleRequestFailedStale uint16 = iota
	RoleRequestFailedUnsup
	RoleRequestFailedBadRole
)

// OFPMMFC_* codes of ErrTypeMeterModFailed.
const (
	MeterModFailedUnknown uint16 = iota
	MeterModFailedMeterExists
	MeterModFailedInvalidMeter
	MeterModFailedUnknownMeter
	MeterModFailedBadCommand
	MeterModFailedBadFlags
	MeterModFailedBadRate
	MeterModFailedBadBurst
	MeterModFailedBadBand
	MeterModFailedBadBandValue
	MeterModFailedOutOfMeters
	MeterModFailedOutOfBands
)

// OFPTFFC_* codes of ErrTypeTableFeaturesFail.
const (
	TableFeaturesFailedBadTable uint16 = iota
	TableFeaturesFailedBadMetadata
	TableFeaturesFailedBadType
	TableFeaturesFailedBadLen
	TableFeaturesFailedBadArgument
	TableFeaturesFailedEPerm
)

type errorNames struct {
	typ    string
	prefix string
	codes  []string
}

var errorTypeNames = map[ErrorType]errorNames{
	ErrTypeHelloFailed: {"HELLO_FAILED", "OFPHFC_", []string{"INCOMPATIBLE", "EPERM"}},
	ErrTypeBadRequest: {"BAD_REQUEST", "OFPBRC_", []string{"BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART",
		"BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN",
		"BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW"}},
	ErrTypeBadAction: {"BAD_ACTION", "OFPBAC_", []string{"BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER",
		"BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP",
		"MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"}},
	ErrTypeBadInstruction: {"BAD_INSTRUCTION", "OFPBIC_", []string{"UNKNOWN_INST", "UNSUP_INST",
		"BAD_TABLE_ID", "UNSUP_METADATA", "UNSUP_METADATA_MASK", "BAD_EXPERIMENTER", "BAD_EXP_TYPE",
		"BAD_LEN", "EPERM"}},
	ErrTypeBadMatch: {"BAD_MATCH", "OFPBMC_", []string{"BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK",
		"BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ",
		"DUP_FIELD", "EPERM"}},
	ErrTypeFlowModFailed: {"FLOW_MOD_FAILED", "OFPFMFC_", []string{"UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID",
		"OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS"}},
	ErrTypeGroupModFailed: {"GROUP_MOD_FAILED", "OFPGMFC_", []string{"GROUP_EXISTS", "INVALID_GROUP",
		"WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS", "OUT_OF_BUCKETS", "CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED",
		"LOOP", "UNKNOWN_GROUP", "CHAINED_GROUP", "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM"}},
	ErrTypePortModFailed: {"PORT_MOD_FAILED", "OFPPMFC_", []string{"BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG",
		"BAD_ADVERTISE", "EPERM"}},
	ErrTypeTableModFailed:     {"TABLE_MOD_FAILED", "OFPTMFC_", []string{"BAD_TABLE", "BAD_CONFIG", "EPERM"}},
	ErrTypeQueueOpFailed:      {"QUEUE_OP_FAILED", "OFPQOFC_", []string{"BAD_PORT", "BAD_QUEUE", "EPERM"}},
	ErrTypeSwitchConfigFailed: {"SWITCH_CONFIG_FAILED", "OFPSCFC_", []string{"BAD_FLAGS", "BAD_LEN", "EPERM"}},
	ErrTypeRoleRequestFailed:  {"ROLE_REQUEST_FAILED", "OFPRRFC_", []string{"STALE", "UNSUP", "BAD_ROLE"}},
	ErrTypeMeterModFailed: {"METER_MOD_FAILED", "OFPMMFC_", []string{"UNKNOWN", "METER_EXISTS", "INVALID_METER",
		"UNKNOWN_METER", "BAD_COMMAND", "BAD_FLAGS", "BAD_RATE", "BAD_BURST", "BAD_BAND", "BAD_BAND_VALUE",
		"OUT_OF_METERS", "OUT_OF_BANDS"}},
	ErrTypeTableFeaturesFail: {"TABLE_FEATURES_FAILED", "OFPTFFC_", []string{"BAD_TABLE", "BAD_METADATA",
		"BAD_TYPE", "BAD_LEN", "BAD_ARGUMENT", "EPERM"}},
	ErrTypeExperimenter: {"EXPERIMENTER", "", nil},
}

func (t ErrorType) String() string {
	if n, ok := errorTypeNames[t]; ok {
		return "OFPET_" + n.typ
	}
	return fmt.Sprintf("OFPET_%d", uint16(t))
}

// ErrorCodeName names code within type t, e.g. "OFPBRC_BAD_LEN".
func ErrorCodeName(t ErrorType, code uint16) string {
	n, ok := errorTypeNames[t]
	if ok && int(code) < len(n.codes) {
		return n.prefix + n.codes[code]
	}
	return fmt.Sprintf("%d", code)
}

// Error is a decoding or conversion failure, with the OpenFlow error type
// and code that a switch sends back for it. Compare with errors.Is against
// an *Error with the same Type and Code; Reason is only for the log.
type Error struct {
	Type   ErrorType
	Code   uint16
	Reason string
}

// Errorf returns an *Error of the given type and code.
func Errorf(t ErrorType, code uint16, format string, args ...any) *Error {
	return &Error{Type: t, Code: code, Reason: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	s := "ofp13: " + e.Type.String() + "/" + ErrorCodeName(e.Type, e.Code)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is reports whether target is an *Error with the same type and code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type && t.Code == e.Code
}

// MaxErrorData is how much of the offending message an error reply
// carries: the spec asks for at least 64 bytes.
const MaxErrorData = 64

// Reply builds the OFPT_ERROR to send for the message offending (raw bytes
// as read; the xid is taken from its header when there is one).
func (e *Error) Reply(offending []byte) *ErrorMsg {
	m := &ErrorMsg{Type: e.Type, Code: e.Code}
	if len(offending) >= HeaderLen {
		m.Xid = be.Uint32(offending[4:])
	}
	m.Data = cloneBytes(offending[:min(len(offending), MaxErrorData)])
	return m
}

// AsError returns the *Error in err's chain, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ErrorMsg is OFPT_ERROR (ofp_error_msg, or ofp_error_experimenter_msg when
// Type is ErrTypeExperimenter: then Code is exp_type and Experimenter is
// used). Data is usually the start of the offending message.
type ErrorMsg struct {
	Header
	Type         ErrorType
	Code         uint16
	Experimenter uint32
	Data         []byte
}

func (m *ErrorMsg) msgType() MsgType { return TypeError }

func (m *ErrorMsg) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint16(b, uint16(m.Type))
	b = be.AppendUint16(b, m.Code)
	if m.Type == ErrTypeExperimenter {
		b = be.AppendUint32(b, m.Experimenter)
	}
	return append(b, m.Data...), nil
}

func (m *ErrorMsg) String() string {
	return fmt.Sprintf("%v/%s", m.Type, ErrorCodeName(m.Type, m.Code))
}

func decodeErrorMsg(body []byte) (Message, error) {
	if len(body) < 4 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "error body is %d bytes", len(body))
	}
	m := &ErrorMsg{Type: ErrorType(be.Uint16(body)), Code: be.Uint16(body[2:])}
	body = body[4:]
	if m.Type == ErrTypeExperimenter {
		if len(body) < 4 {
			return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "experimenter error without experimenter id")
		}
		m.Experimenter = be.Uint32(body)
		body = body[4:]
	}
	m.Data = cloneBytes(body)
	return m, nil
}
