package ofagent

import (
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// opKind is the kind of request an NBI error answers.
type opKind int

const (
	opFlow opKind = iota
	opGroup
	opMeter
	opPort
	opRead
)

// ErrorInfoDomain is the google.rpc.ErrorInfo domain under which the core
// may name the OpenFlow error of a refused change exactly, with metadata
// "type" and "code" (decimal). When the detail is there the agent uses it
// as is; without it the agent maps the gRPC code and message (errorRules).
const ErrorInfoDomain = "openflow"

// errorRule maps a refusal of the core to an OpenFlow error: the gRPC code
// and, when set, every one of the substrings of its message. The first
// rule that fits wins; rules with substrings come first.
type errorRule struct {
	kind opKind
	code codes.Code
	has  []string
	typ  ofp13.ErrorType
	ofc  uint16
}

// errorRules follow the messages of internal/core/flowtable and
// internal/core/flowdecomp; TestErrorsFromRealCore pins them against a real
// core.
var errorRules = []errorRule{
	// Flow-mods.
	{opFlow, codes.InvalidArgument, []string{"meter ", "does not exist"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
	{opFlow, codes.InvalidArgument, []string{"group ", "does not exist"}, ofp13.ErrTypeBadAction, ofp13.BadActionBadOutGroup},
	{opFlow, codes.InvalidArgument, []string{"goto_table"}, ofp13.ErrTypeBadInstruction, ofp13.BadInstructionBadTableID},
	{opFlow, codes.InvalidArgument, []string{"table ", "does not exist"}, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedBadTableID},
	{opFlow, codes.InvalidArgument, []string{"unsupported match"}, ofp13.ErrTypeBadMatch, ofp13.BadMatchBadField},
	{opFlow, codes.InvalidArgument, []string{"unsupported masked"}, ofp13.ErrTypeBadMatch, ofp13.BadMatchBadMask},
	{opFlow, codes.InvalidArgument, []string{"unsupported metadata match"}, ofp13.ErrTypeBadMatch, ofp13.BadMatchBadField},
	{opFlow, codes.InvalidArgument, []string{"unsupported in_port"}, ofp13.ErrTypeBadMatch, ofp13.BadMatchBadValue},
	{opFlow, codes.InvalidArgument, []string{"no route from logical port"}, ofp13.ErrTypeBadMatch, ofp13.BadMatchBadValue},
	{opFlow, codes.InvalidArgument, []string{"to logical port", "does not exist"}, ofp13.ErrTypeBadAction, ofp13.BadActionBadOutPort},
	{opFlow, codes.InvalidArgument, []string{"unsupported instruction"}, ofp13.ErrTypeBadInstruction, ofp13.BadInstructionUnsupInst},
	{opFlow, codes.InvalidArgument, []string{"unsupported instructions"}, ofp13.ErrTypeBadInstruction, ofp13.BadInstructionUnsupInst},
	{opFlow, codes.InvalidArgument, []string{"after the output"}, ofp13.ErrTypeBadAction, ofp13.BadActionUnsupportedOrder},
	{opFlow, codes.InvalidArgument, []string{"unsupported output"}, ofp13.ErrTypeBadAction, ofp13.BadActionBadOutPort},
	{opFlow, codes.InvalidArgument, []string{"unsupported action set_field"}, ofp13.ErrTypeBadAction, ofp13.BadActionBadSetType},
	{opFlow, codes.InvalidArgument, []string{"unsupported action"}, ofp13.ErrTypeBadAction, ofp13.BadActionBadType},
	{opFlow, codes.InvalidArgument, []string{"unsupported group"}, ofp13.ErrTypeBadAction, ofp13.BadActionBadOutGroup},
	{opFlow, codes.InvalidArgument, []string{"command"}, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedBadCommand},
	{opFlow, codes.InvalidArgument, []string{"conflict"}, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedOverlap},
	{opFlow, codes.InvalidArgument, nil, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedUnknown},
	{opFlow, codes.AlreadyExists, nil, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedOverlap},
	{opFlow, codes.ResourceExhausted, nil, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedTableFull},
	{opFlow, codes.PermissionDenied, nil, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedEPerm},
	{opFlow, codes.Unknown, nil, ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedUnknown},

	// Group-mods.
	{opGroup, codes.InvalidArgument, []string{"reserved"}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedInvalidGroup},
	{opGroup, codes.InvalidArgument, []string{"bucket"}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadBucket},
	{opGroup, codes.InvalidArgument, []string{"type"}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadType},
	{opGroup, codes.InvalidArgument, []string{"command"}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadCommand},
	{opGroup, codes.InvalidArgument, []string{"in use"}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedChainedGroup},
	{opGroup, codes.InvalidArgument, nil, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedInvalidGroup},
	{opGroup, codes.AlreadyExists, nil, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedGroupExists},
	{opGroup, codes.NotFound, []string{"group "}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedUnknownGroup},
	{opGroup, codes.ResourceExhausted, nil, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedOutOfGroups},
	{opGroup, codes.PermissionDenied, nil, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedEPerm},
	{opGroup, codes.Unknown, nil, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedEPerm},

	// Meter-mods.
	{opMeter, codes.InvalidArgument, []string{"not valid"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedInvalidMeter},
	{opMeter, codes.InvalidArgument, []string{"band"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadBand},
	{opMeter, codes.InvalidArgument, []string{"command"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadCommand},
	{opMeter, codes.InvalidArgument, []string{"flags"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadFlags},
	{opMeter, codes.InvalidArgument, []string{"rate"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadRate},
	{opMeter, codes.InvalidArgument, []string{"burst"}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadBurst},
	{opMeter, codes.InvalidArgument, nil, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknown},
	{opMeter, codes.AlreadyExists, nil, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedMeterExists},
	{opMeter, codes.NotFound, []string{"meter "}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
	{opMeter, codes.ResourceExhausted, nil, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedOutOfMeters},
	{opMeter, codes.Unknown, nil, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknown},

	// Port-mods.
	{opPort, codes.NotFound, nil, ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadPort},
	{opPort, codes.InvalidArgument, nil, ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadConfig},
	{opPort, codes.FailedPrecondition, nil, ofp13.ErrTypePortModFailed, ofp13.PortModFailedEPerm},
	{opPort, codes.PermissionDenied, nil, ofp13.ErrTypePortModFailed, ofp13.PortModFailedEPerm},
}

// fallbackError is the answer when no rule fits: the core could not do it
// now (unavailable, timed out, internal error, logical device gone).
func fallbackError(kind opKind) (ofp13.ErrorType, uint16) {
	switch kind {
	case opFlow:
		return ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedUnknown
	case opGroup:
		return ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedEPerm
	case opMeter:
		return ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknown
	case opPort:
		return ofp13.ErrTypePortModFailed, ofp13.PortModFailedEPerm
	}
	return ofp13.ErrTypeBadRequest, ofp13.BadRequestEPerm
}

// ofError turns the NBI's refusal of a request into the OpenFlow error to
// send back. The core's message becomes the reason, for the log.
func ofError(kind opKind, err error) *ofp13.Error {
	if e, ok := ofp13.AsError(err); ok {
		return e
	}
	st := status.Convert(err)
	msg := st.Message()
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorInfoDomain {
			t, err1 := strconv.ParseUint(info.GetMetadata()["type"], 10, 16)
			c, err2 := strconv.ParseUint(info.GetMetadata()["code"], 10, 16)
			if err1 == nil && err2 == nil {
				return ofp13.Errorf(ofp13.ErrorType(t), uint16(c), "%s: %s", st.Code(), msg)
			}
		}
	}
	for _, r := range errorRules {
		if r.kind != kind || r.code != st.Code() {
			continue
		}
		if hasAll(msg, r.has) {
			return ofp13.Errorf(r.typ, r.ofc, "%s: %s", st.Code(), msg)
		}
	}
	t, c := fallbackError(kind)
	return ofp13.Errorf(t, c, "%s: %s", st.Code(), msg)
}

func hasAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
