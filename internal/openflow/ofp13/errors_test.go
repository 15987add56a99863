package ofp13

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// mk builds a version 0x04 message of type t, xid 1, with the given body
// parts and a correct length.
func mk(t MsgType, parts ...[]byte) []byte {
	b := []byte{Version, byte(t), 0, 0, 0, 0, 0, 1}
	for _, p := range parts {
		b = append(b, p...)
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return b
}

// mp is a multipart header.
func mp(t MultipartType) []byte { return []byte{byte(t >> 8), byte(t), 0, 0, 0, 0, 0, 0} }

// flowModWith is a flow-mod whose match and instructions are raw bytes.
func flowModWith(match, instructions []byte) []byte {
	fixed := make([]byte, 40)
	be.PutUint32(fixed[24:], NoBuffer)
	return mk(TypeFlowMod, fixed, match, instructions)
}

// oxmMatch wraps raw OXM TLVs in an OXM match with padding.
func oxmMatch(tlvs ...[]byte) []byte {
	b := []byte{0, 1, 0, 0}
	for _, t := range tlvs {
		b = append(b, t...)
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return padTo8(b, 0)
}

func oxm(class uint16, field uint8, hasMask bool, value ...byte) []byte {
	h := uint32(class)<<16 | uint32(field)<<9 | uint32(len(value))
	if hasMask {
		h |= 1 << 8
	}
	return be.AppendUint32(nil, h)
	// value appended by callers that need it
}

func tlv(class uint16, field uint8, hasMask bool, value ...byte) []byte {
	return append(oxm(class, field, hasMask, value...), value...)
}

func apply(actions ...[]byte) []byte {
	b := []byte{0, 4, 0, 0, 0, 0, 0, 0}
	for _, a := range actions {
		b = append(b, a...)
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return b
}

func setFieldAction(t []byte) []byte {
	b := append([]byte{0, 25, 0, 0}, t...)
	b = padTo8(b, 0)
	be.PutUint16(b[2:], uint16(len(b)))
	return b
}

func TestDecodeErrors(t *testing.T) {
	outputAction := []byte{0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	inPort1 := tlv(0x8000, 0, false, 0, 0, 0, 1)
	validFlowMod := flowModWith(oxmMatch(inPort1), apply(outputAction))
	for _, tc := range []struct {
		name string
		in   []byte
		typ  ErrorType
		code uint16
	}{
		{"shorter than a header", []byte{4, 2, 0}, ErrTypeBadRequest, BadRequestBadLen},
		{"length below 8", []byte{4, 2, 0, 4, 0, 0, 0, 1}, ErrTypeBadRequest, BadRequestBadLen},
		{"truncated", validFlowMod[:len(validFlowMod)-8], ErrTypeBadRequest, BadRequestBadLen},
		{"trailing bytes", append(append([]byte{}, validFlowMod...), 0), ErrTypeBadRequest, BadRequestBadLen},
		{"version 1 echo", []byte{1, 2, 0, 8, 0, 0, 0, 1}, ErrTypeBadRequest, BadRequestBadVersion},
		{"version 5 flow-mod", append([]byte{5}, validFlowMod[1:]...), ErrTypeBadRequest, BadRequestBadVersion},
		{"unknown type", mk(30), ErrTypeBadRequest, BadRequestBadType},
		{"queue get config", mk(TypeQueueGetConfigRequest, make([]byte, 8)), ErrTypeBadRequest, BadRequestBadType},
		{"queue stats", mk(TypeMultipartRequest, mp(MultipartQueue), make([]byte, 8)), ErrTypeBadRequest, BadRequestBadMultipart},
		{"unknown multipart", mk(TypeMultipartRequest, mp(99)), ErrTypeBadRequest, BadRequestBadMultipart},
		{"unknown multipart reply", mk(TypeMultipartReply, mp(99)), ErrTypeBadRequest, BadRequestBadMultipart},
		{"experimenter multipart", mk(TypeMultipartRequest, mp(MultipartExperimenter), make([]byte, 8)),
			ErrTypeBadRequest, BadRequestBadExperimenter},
		{"multipart header short", mk(TypeMultipartRequest, []byte{0, 0, 0}), ErrTypeBadRequest, BadRequestBadLen},
		{"desc request with body", mk(TypeMultipartRequest, mp(MultipartDesc), make([]byte, 8)), ErrTypeBadRequest, BadRequestBadLen},
		{"barrier with body", mk(TypeBarrierRequest, []byte{0}), ErrTypeBadRequest, BadRequestBadLen},
		{"features reply short", mk(TypeFeaturesReply, make([]byte, 20)), ErrTypeBadRequest, BadRequestBadLen},
		{"set config short", mk(TypeSetConfig, make([]byte, 2)), ErrTypeSwitchConfigFailed, SwitchConfigFailedBadLen},
		{"role 4", mk(TypeRoleRequest, []byte{0, 0, 0, 4}, make([]byte, 12)), ErrTypeRoleRequestFailed, RoleRequestFailedBadRole},
		{"role short", mk(TypeRoleRequest, make([]byte, 8)), ErrTypeBadRequest, BadRequestBadLen},
		{"async short", mk(TypeSetAsync, make([]byte, 20)), ErrTypeBadRequest, BadRequestBadLen},
		{"error short", mk(TypeError, []byte{0, 1}), ErrTypeBadRequest, BadRequestBadLen},
		{"experimenter error short", mk(TypeError, []byte{0xff, 0xff, 0, 1}), ErrTypeBadRequest, BadRequestBadLen},
		{"experimenter short", mk(TypeExperimenter, make([]byte, 4)), ErrTypeBadRequest, BadRequestBadLen},
		{"port status short", mk(TypePortStatus, make([]byte, 71)), ErrTypeBadRequest, BadRequestBadLen},
		{"port mod short", mk(TypePortMod, make([]byte, 31)), ErrTypeBadRequest, BadRequestBadLen},
		{"table mod short", mk(TypeTableMod, make([]byte, 7)), ErrTypeBadRequest, BadRequestBadLen},

		{"flow-mod short", mk(TypeFlowMod, make([]byte, 39)), ErrTypeBadRequest, BadRequestBadLen},
		{"flow-mod command 5", func() []byte { b := bytes.Clone(validFlowMod); b[8+17] = 5; return b }(),
			ErrTypeFlowModFailed, FlowModFailedBadCommand},
		{"standard match", flowModWith([]byte{0, 0, 0, 4, 0, 0, 0, 0}, nil), ErrTypeBadMatch, BadMatchBadType},
		{"match longer than message", flowModWith([]byte{0, 1, 0, 64, 0, 0, 0, 0}, nil), ErrTypeBadMatch, BadMatchBadLen},
		{"match length 2", flowModWith([]byte{0, 1, 0, 2, 0, 0, 0, 0}, nil), ErrTypeBadMatch, BadMatchBadLen},
		{"match header cut", flowModWith([]byte{0, 1}, nil), ErrTypeBadMatch, BadMatchBadLen},
		{"nicira oxm", flowModWith(oxmMatch(tlv(0x0001, 0, false, 0, 1)), nil), ErrTypeBadMatch, BadMatchBadField},
		{"experimenter oxm", flowModWith(oxmMatch(tlv(0xffff, 0, false, 0, 0, 0x23, 0x20, 1, 2, 3, 4)), nil),
			ErrTypeBadMatch, BadMatchBadField},
		{"unknown oxm field", flowModWith(oxmMatch(tlv(0x8000, 40, false, 1)), nil), ErrTypeBadMatch, BadMatchBadField},
		{"oxm length wrong", flowModWith(oxmMatch(tlv(0x8000, 0, false, 0, 0, 1)), nil), ErrTypeBadMatch, BadMatchBadLen},
		{"oxm length past match", flowModWith(oxmMatch(oxm(0x8000, 0, false, 0, 0, 0, 1)), nil), ErrTypeBadMatch, BadMatchBadLen},
		{"oxm stray bytes", flowModWith(func() []byte {
			m := []byte{0, 1, 0, 7, 0x80, 0, 0}
			return padTo8(m, 0)
		}(), nil), ErrTypeBadMatch, BadMatchBadLen},
		{"oxm twice", flowModWith(oxmMatch(inPort1, inPort1), nil), ErrTypeBadMatch, BadMatchDupField},
		{"vlan_vid beyond 13 bits", flowModWith(oxmMatch(tlv(0x8000, 6, false, 0x20, 0)), nil), ErrTypeBadMatch, BadMatchBadValue},
		{"value outside mask", flowModWith(oxmMatch(tlv(0x8000, 11, true, 10, 0, 0, 1, 255, 0, 0, 0)), nil),
			ErrTypeBadMatch, BadMatchBadWildcards},

		{"unknown instruction", flowModWith(oxmMatch(), []byte{0, 7, 0, 8, 0, 0, 0, 0}), ErrTypeBadInstruction, BadInstructionUnknownInst},
		{"instruction length 0", flowModWith(oxmMatch(), []byte{0, 1, 0, 0, 0, 0, 0, 0}), ErrTypeBadInstruction, BadInstructionBadLen},
		{"instruction length 12", flowModWith(oxmMatch(), []byte{0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
			ErrTypeBadInstruction, BadInstructionBadLen},
		{"instruction past message", flowModWith(oxmMatch(), []byte{0, 4, 0, 16, 0, 0, 0, 0}), ErrTypeBadInstruction, BadInstructionBadLen},
		{"goto-table of 16", flowModWith(oxmMatch(), []byte{0, 1, 0, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
			ErrTypeBadInstruction, BadInstructionBadLen},
		{"instruction stray bytes", flowModWith(oxmMatch(), []byte{0, 5, 0, 8}), ErrTypeBadInstruction, BadInstructionBadLen},

		{"OF1.0 set_vlan_vid action", flowModWith(oxmMatch(), apply([]byte{0, 1, 0, 8, 0, 100, 0, 0})), ErrTypeBadAction, BadActionBadType},
		{"unknown action 28", flowModWith(oxmMatch(), apply([]byte{0, 28, 0, 8, 0, 0, 0, 0})), ErrTypeBadAction, BadActionBadType},
		{"action length 0", flowModWith(oxmMatch(), apply([]byte{0, 0, 0, 0, 0, 0, 0, 0})), ErrTypeBadAction, BadActionBadLen},
		{"action length 12", flowModWith(oxmMatch(), apply([]byte{0, 18, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})),
			ErrTypeBadAction, BadActionBadLen},
		{"output of 8", flowModWith(oxmMatch(), apply([]byte{0, 0, 0, 8, 0, 0, 0, 1})), ErrTypeBadAction, BadActionBadLen},
		{"action past list", flowModWith(oxmMatch(), apply([]byte{0, 18, 0, 16, 0, 0, 0, 0})), ErrTypeBadAction, BadActionBadLen},
		{"set_field unknown field", flowModWith(oxmMatch(), apply(setFieldAction(tlv(0x8000, 45, false, 1)))),
			ErrTypeBadAction, BadActionBadSetType},
		{"set_field nicira", flowModWith(oxmMatch(), apply(setFieldAction(tlv(0x0001, 1, false, 1, 2)))),
			ErrTypeBadAction, BadActionBadSetType},
		{"set_field masked", flowModWith(oxmMatch(), apply(setFieldAction(tlv(0x8000, 6, true, 0x10, 1, 0x1f, 0xff)))),
			ErrTypeBadAction, BadActionBadSetArgument},
		{"set_field wrong length", flowModWith(oxmMatch(), apply(setFieldAction(tlv(0x8000, 6, false, 0x10, 1, 0)))),
			ErrTypeBadAction, BadActionBadSetLen},
		{"set_field over-padded", flowModWith(oxmMatch(), apply(append(setFieldAction(tlv(0x8000, 6, false, 0x10, 1)),
			make([]byte, 8)...))), ErrTypeBadAction, BadActionBadLen},
		{"set_field bad vid", flowModWith(oxmMatch(), apply(setFieldAction(tlv(0x8000, 6, false, 0x40, 1)))),
			ErrTypeBadAction, BadActionBadSetArgument},

		{"packet-out actions_len too long", mk(TypePacketOut, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 64, 0, 0, 0, 0, 0, 0},
			outputAction), ErrTypeBadRequest, BadRequestBadLen},
		{"packet-out short", mk(TypePacketOut, make([]byte, 12)), ErrTypeBadRequest, BadRequestBadLen},
		{"packet-in short", mk(TypePacketIn, make([]byte, 12)), ErrTypeBadRequest, BadRequestBadLen},
		{"packet-in without pad", mk(TypePacketIn, make([]byte, 16), oxmMatch()), ErrTypeBadRequest, BadRequestBadLen},
		{"flow-removed short", mk(TypeFlowRemoved, make([]byte, 30)), ErrTypeBadRequest, BadRequestBadLen},
		{"flow-removed trailing", mk(TypeFlowRemoved, make([]byte, 40), oxmMatch(), make([]byte, 8)), ErrTypeBadRequest, BadRequestBadLen},

		{"group-mod short", mk(TypeGroupMod, make([]byte, 4)), ErrTypeBadRequest, BadRequestBadLen},
		{"group-mod command 3", mk(TypeGroupMod, []byte{0, 3, 0, 0, 0, 0, 0, 1}), ErrTypeGroupModFailed, GroupModFailedBadCommand},
		{"group type 4", mk(TypeGroupMod, []byte{0, 0, 4, 0, 0, 0, 0, 1}), ErrTypeGroupModFailed, GroupModFailedBadType},
		{"bucket short", mk(TypeGroupMod, []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte{0, 8, 0, 0, 0, 0, 0, 0}),
			ErrTypeGroupModFailed, GroupModFailedBadBucket},
		{"bucket past message", mk(TypeGroupMod, []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte{0, 32}, make([]byte, 14)),
			ErrTypeGroupModFailed, GroupModFailedBadBucket},
		{"bucket bad action", mk(TypeGroupMod, []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte{0, 24}, make([]byte, 14),
			[]byte{0, 99, 0, 8, 0, 0, 0, 0}), ErrTypeBadAction, BadActionBadType},

		{"meter-mod short", mk(TypeMeterMod, make([]byte, 4)), ErrTypeBadRequest, BadRequestBadLen},
		{"meter-mod command 3", mk(TypeMeterMod, []byte{0, 3, 0, 1, 0, 0, 0, 1}), ErrTypeMeterModFailed, MeterModFailedBadCommand},
		{"meter band type 3", mk(TypeMeterMod, []byte{0, 0, 0, 1, 0, 0, 0, 1}, []byte{0, 3, 0, 16}, make([]byte, 12)),
			ErrTypeMeterModFailed, MeterModFailedBadBand},
		{"meter band length 8", mk(TypeMeterMod, []byte{0, 0, 0, 1, 0, 0, 0, 1}, []byte{0, 1, 0, 8}, make([]byte, 12)),
			ErrTypeBadRequest, BadRequestBadLen},
		{"drop band of 24", mk(TypeMeterMod, []byte{0, 0, 0, 1, 0, 0, 0, 1}, []byte{0, 1, 0, 24}, make([]byte, 20)),
			ErrTypeBadRequest, BadRequestBadLen},

		{"flow stats request short", mk(TypeMultipartRequest, mp(MultipartFlow), make([]byte, 20)), ErrTypeBadRequest, BadRequestBadLen},
		{"flow stats entry length 8", mk(TypeMultipartReply, mp(MultipartFlow), []byte{0, 8}, make([]byte, 54)),
			ErrTypeBadRequest, BadRequestBadLen},
		{"port stats not whole", mk(TypeMultipartReply, mp(MultipartPortStats), make([]byte, 100)), ErrTypeBadRequest, BadRequestBadLen},
		{"port desc not whole", mk(TypeMultipartReply, mp(MultipartPortDesc), make([]byte, 65)), ErrTypeBadRequest, BadRequestBadLen},
		{"group stats odd buckets", mk(TypeMultipartReply, mp(MultipartGroup), []byte{0, 48}, make([]byte, 46)),
			ErrTypeBadRequest, BadRequestBadLen},
		{"meter stats entry short", mk(TypeMultipartReply, mp(MultipartMeter), []byte{0, 0, 0, 1, 0, 8}, make([]byte, 34)),
			ErrTypeBadRequest, BadRequestBadLen},
		{"table features property past entry", mk(TypeMultipartReply, mp(MultipartTableFeatures), []byte{0, 72}, make([]byte, 62),
			[]byte{0, 0, 0, 16, 0, 0, 0, 0}), ErrTypeTableFeaturesFail, TableFeaturesFailedBadLen},
		{"aggregate reply short", mk(TypeMultipartReply, mp(MultipartAggregate), make([]byte, 16)), ErrTypeBadRequest, BadRequestBadLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.in)
			want := &Error{Type: tc.typ, Code: tc.code}
			if !errors.Is(err, want) {
				t.Fatalf("Decode(%x) = %v, %v; want %v", tc.in, m, err, want)
			}
			if m != nil {
				t.Errorf("message %v returned with the error", m)
			}
		})
	}
	if _, err := Decode(validFlowMod); err != nil {
		t.Fatalf("the valid base message fails: %v", err)
	}
}

// A message of another version is fine for HELLO and ERROR.
func TestDecodeOtherVersions(t *testing.T) {
	for _, b := range [][]byte{
		{1, 0, 0, 8, 0, 0, 0, 1},
		{6, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x50},
		{1, 1, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0},
	} {
		if _, err := Decode(b); err != nil {
			t.Errorf("Decode(%x): %v", b, err)
		}
	}
}

// OpenFlow 1.3 makes only some fields maskable; the codec carries masks
// on any field and leaves the policy to the flow table.
func TestDecodeMaskOnAnyField(t *testing.T) {
	b := flowModWith(oxmMatch(tlv(0x8000, 14, true, 0x10, 0, 0xf0, 0)), nil)
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if o := m.(*FlowMod).Match.Fields[0]; o.Field != OXMTCPDst || o.Uint() != 0x1000 || o.MaskUint() != 0xf000 {
		t.Errorf("got %v", o)
	}
}

func TestErrorReply(t *testing.T) {
	offending := flowModWith(oxmMatch(tlv(0x0001, 0, false, 0, 1)), make([]byte, 80))
	be.PutUint32(offending[4:], 0xdeadbeef)
	_, err := Decode(offending)
	oe, ok := AsError(err)
	if !ok {
		t.Fatalf("error %v is not an *Error", err)
	}
	if !strings.Contains(err.Error(), "OFPET_BAD_MATCH/OFPBMC_BAD_FIELD") {
		t.Errorf("Error() = %q", err)
	}
	reply := oe.Reply(offending)
	b, err := reply.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	em := got.(*ErrorMsg)
	if em.Xid != 0xdeadbeef || em.Type != ErrTypeBadMatch || em.Code != BadMatchBadField ||
		!bytes.Equal(em.Data, offending[:MaxErrorData]) || len(b) != HeaderLen+4+MaxErrorData {
		t.Errorf("reply %+v (%d bytes)", em, len(b))
	}
	if s := em.String(); s != "OFPET_BAD_MATCH/OFPBMC_BAD_FIELD" {
		t.Errorf("String() = %q", s)
	}
	// Shorter than 64 bytes: all of it; shorter than a header: no xid.
	if r := oe.Reply([]byte{4, 0}); r.Xid != 0 || !bytes.Equal(r.Data, []byte{4, 0}) {
		t.Errorf("short reply %+v", r)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{TypeFlowMod.String(), "OFPT_FLOW_MOD"},
		{MsgType(99).String(), "OFPT_99"},
		{ErrTypeBadRequest.String(), "OFPET_BAD_REQUEST"},
		{ErrorType(77).String(), "OFPET_77"},
		{ErrorCodeName(ErrTypeBadRequest, BadRequestBadLen), "OFPBRC_BAD_LEN"},
		{ErrorCodeName(ErrTypeBadInstruction, BadInstructionUnknownInst), "OFPBIC_UNKNOWN_INST"},
		{ErrorCodeName(ErrTypeMeterModFailed, MeterModFailedOutOfBands), "OFPMMFC_OUT_OF_BANDS"},
		{ErrorCodeName(ErrTypeBadRequest, 99), "99"},
		{MultipartPortDesc.String(), "OFPMP_PORT_DESC"},
		{MultipartExperimenter.String(), "OFPMP_EXPERIMENTER"},
		{ActionTypeSetField.String(), "OFPAT_SET_FIELD"},
		{InstructionTypeMeter.String(), "OFPIT_METER"},
		{OXMVlanVID.String(), "vlan_vid"},
		{OXMField(50).String(), "oxm_field_50"},
		{RoleMaster.String(), "master"},
		{ControllerRole(9).String(), "role(9)"},
		{OXMUintMasked(OXMVlanVID, 0x1000, 0x1000).String(), "vlan_vid=0x1000/0x1000"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestReadMessage(t *testing.T) {
	echo := mk(TypeEchoRequest, []byte("abc"))
	barrier := mk(TypeBarrierRequest)
	oversized := mk(TypePacketOut, make([]byte, 200))
	short := []byte{4, 2, 0, 4, 0, 0, 0, 9}

	var stream []byte
	for _, b := range [][]byte{echo, oversized, barrier, short, echo} {
		stream = append(stream, b...)
	}
	r := bytes.NewReader(stream)
	want := []struct {
		msg  []byte
		code uint16 // BAD_LEN when non-zero
	}{
		{echo, 0}, {oversized[:8], BadRequestBadLen}, {barrier, 0}, {short, BadRequestBadLen}, {echo, 0},
	}
	for i, w := range want {
		b, err := ReadMessage(r, 100)
		if w.code != 0 {
			if !errors.Is(err, &Error{Type: ErrTypeBadRequest, Code: w.code}) {
				t.Fatalf("message %d: err %v", i, err)
			}
		} else if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(b, w.msg) {
			t.Fatalf("message %d: %x, want %x", i, b, w.msg)
		}
	}
	if _, err := ReadMessage(r, 100); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}

	// A body cut short is an unexpected EOF, as is a header cut short.
	for _, in := range [][]byte{echo[:len(echo)-1], echo[:5], oversized[:50]} {
		if _, err := ReadMessage(bytes.NewReader(in), 100); err != io.ErrUnexpectedEOF {
			t.Errorf("ReadMessage(%x) = %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
	// max <= 0 means 64 KiB.
	big := mk(TypeEchoRequest, make([]byte, 60000))
	if b, err := ReadMessage(bytes.NewReader(big), 0); err != nil || len(b) != len(big) {
		t.Errorf("default max: %d bytes, %v", len(b), err)
	}
}

// Encoding refuses messages whose length would not fit 16 bits.
func TestEncodeTooLong(t *testing.T) {
	m := &EchoRequest{Data: make([]byte, MaxMessageLen)}
	if _, err := m.MarshalBinary(); !errors.Is(err, ErrTooLong) {
		t.Errorf("MarshalBinary = %v, want ErrTooLong", err)
	}
	prefix := []byte("keep")
	if b, err := m.AppendBinary(prefix); err == nil || !bytes.Equal(b, prefix) {
		t.Errorf("AppendBinary = %q, %v; want the prefix back and an error", b, err)
	}
	// Invalid content is refused with the error a switch would send.
	fm := &FlowMod{Match: Match{Fields: []OXM{{Field: OXMInPort, Value: []byte{1}}}}}
	if _, err := fm.MarshalBinary(); !errors.Is(err, &Error{Type: ErrTypeBadMatch, Code: BadMatchBadLen}) {
		t.Errorf("bad match: %v", err)
	}
	fm = &FlowMod{Instructions: []Instruction{&InstructionApplyActions{Actions: []Action{nil}}}}
	if _, err := fm.MarshalBinary(); !errors.Is(err, &Error{Type: ErrTypeBadAction, Code: BadActionBadType}) {
		t.Errorf("nil action: %v", err)
	}
	fm = &FlowMod{Instructions: []Instruction{nil}}
	if _, err := fm.MarshalBinary(); !errors.Is(err, &Error{Type: ErrTypeBadInstruction, Code: BadInstructionUnknownInst}) {
		t.Errorf("nil instruction: %v", err)
	}
	mm := &MeterMod{Bands: []MeterBand{{Type: 7}}}
	if _, err := mm.MarshalBinary(); !errors.Is(err, &Error{Type: ErrTypeMeterModFailed, Code: MeterModFailedBadBand}) {
		t.Errorf("bad band: %v", err)
	}
	sf := &PacketOut{Actions: []Action{&ActionSetField{Field: OXMUintMasked(OXMVlanVID, 1, 1)}}}
	if _, err := sf.MarshalBinary(); !errors.Is(err, &Error{Type: ErrTypeBadAction, Code: BadActionBadSetArgument}) {
		t.Errorf("masked set_field: %v", err)
	}
}
