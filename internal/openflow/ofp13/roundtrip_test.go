package ofp13

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func msgName(i int, m Message) string { return fmt.Sprintf("%02d_%T", i, m)[0:] }

// withHeader sets the header fields that encoding computes, as Decode
// reports them.
func withHeader(m Message, b []byte) Message {
	h := m.Hdr()
	if h.Version == 0 {
		h.Version = Version
	}
	h.Type = MsgType(b[1])
	h.Length = uint16(len(b))
	return m
}

func TestRoundTrip(t *testing.T) {
	for i, m := range sampleMessages() {
		t.Run(msgName(i, m), func(t *testing.T) {
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if got := int(be.Uint16(b[2:])); got != len(b) {
				t.Fatalf("header length %d, encoded %d bytes", got, len(b))
			}
			if MsgType(b[1]) != m.msgType() {
				t.Fatalf("type byte %v, want %v", MsgType(b[1]), m.msgType())
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%x): %v", b, err)
			}
			if diff := cmp.Diff(withHeader(m, b), got); diff != "" {
				t.Fatalf("decoded message differs (-want +got):\n%s", diff)
			}
			again, err := got.AppendBinary([]byte("prefix"))
			if err != nil || !bytes.Equal(again[6:], b) || string(again[:6]) != "prefix" {
				t.Fatalf("AppendBinary = %x, %v; want prefix + %x", again, err, b)
			}
		})
	}
}

// Structures that the spec pads to 8 bytes must come out padded.
func TestAlignment(t *testing.T) {
	for i, m := range sampleMessages() {
		switch m.(type) {
		case *FlowMod, *GroupMod, *MeterMod, *FlowStatsReply, *GroupDescReply, *MeterConfigReply, *FlowRemoved,
			*PortStatus, *FeaturesReply, *TableFeaturesReply, *FlowStatsRequest, *AggregateStatsRequest:
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if len(b)%8 != 0 {
				t.Errorf("%s: %d bytes, not a multiple of 8", msgName(i, m), len(b))
			}
		}
	}
}

func TestMatchPadding(t *testing.T) {
	for _, tc := range []struct {
		m       Match
		wireLen int // the length field: without padding
		padded  int
	}{
		{Match{}, 4, 8},
		{Match{Fields: []OXM{OXMUint(OXMInPort, 1)}}, 12, 16},
		{Match{Fields: []OXM{OXMUint(OXMInPort, 1), OXMUint(OXMVlanVID, VIDPresent|100)}}, 18, 24},
		{Match{Fields: []OXM{OXMUint(OXMEthType, 0x800)}}, 10, 16},
		{Match{Fields: []OXM{OXMUintMasked(OXMMetadata, 1, 1)}}, 24, 24},
	} {
		b, err := appendMatch(nil, tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != tc.padded || int(be.Uint16(b[2:])) != tc.wireLen || matchWireLen(tc.m) != tc.padded {
			t.Errorf("%v: %d bytes with length %d; want %d with %d", tc.m, len(b), be.Uint16(b[2:]), tc.padded, tc.wireLen)
		}
		got, n, err := decodeMatch(b)
		if err != nil || n != tc.padded || !cmp.Equal(got, tc.m) {
			t.Errorf("decodeMatch(%x) = %v, %d, %v", b, got, n, err)
		}
	}
}

// Experimenter payloads are padded to 8 bytes on the wire; decoding hands
// the padding back as part of Data.
func TestExperimenterPadding(t *testing.T) {
	fm := &FlowMod{Instructions: []Instruction{
		&InstructionExperimenter{Experimenter: 1, Data: []byte{1, 2, 3}},
		&InstructionApplyActions{Actions: []Action{&ActionExperimenter{Experimenter: 2, Data: []byte{4}}}},
	}}
	b, err := fm.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	is := m.(*FlowMod).Instructions
	if d := is[0].(*InstructionExperimenter).Data; !bytes.Equal(d, []byte{1, 2, 3, 0, 0, 0, 0, 0}) {
		t.Errorf("instruction data %x", d)
	}
	if d := is[1].(*InstructionApplyActions).Actions[0].(*ActionExperimenter).Data; !bytes.Equal(d, []byte{4, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("action data %x", d)
	}
}

func TestHelloSupports(t *testing.T) {
	for _, tc := range []struct {
		h    *Hello
		want bool
	}{
		{NewHello(0), true},
		{&Hello{Header: Header{Version: 4}}, true},
		{&Hello{Header: Header{Version: 5}}, true},
		{&Hello{Header: Header{Version: 1}}, false},
		{&Hello{Header: Header{Version: 6}, VersionBitmap: []uint32{1 << 6}}, false},
		{&Hello{Header: Header{Version: 6}, VersionBitmap: []uint32{1<<1 | 1<<4}}, true},
		{&Hello{Header: Header{Version: 6}, VersionBitmap: []uint32{}}, false},
	} {
		if got := tc.h.Supports(Version); got != tc.want {
			t.Errorf("%+v.Supports(4) = %v", tc.h, got)
		}
	}
}

// Unknown hello elements are skipped, and a truncated one ends the list
// without failing the hello.
func TestHelloLenient(t *testing.T) {
	b := []byte{4, 0, 0, 32, 0, 0, 0, 1,
		0, 9, 0, 6, 1, 2, 0, 0, // unknown element, padded
		0, 1, 0, 8, 0, 0, 0, 0x12, // version bitmap: 1 and 4
		0, 1, 0, 99, 0, 0, 0, 0, // truncated element
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	h := m.(*Hello)
	if !cmp.Equal(h.VersionBitmap, []uint32{0x12}) || !h.Supports(4) || h.Supports(3) {
		t.Errorf("hello %+v", h)
	}
}

func TestStringsTruncated(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 300))
	m := &DescReply{MfrDesc: long, SerialNum: long}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	d := got.(*DescReply)
	if len(d.MfrDesc) != DescStrLen-1 || len(d.SerialNum) != SerialNumLen-1 {
		t.Errorf("lengths %d %d", len(d.MfrDesc), len(d.SerialNum))
	}
	p := &PortStatus{Desc: Port{Name: "a-very-long-port-name"}}
	b, _ = p.MarshalBinary()
	got, _ = Decode(b)
	if n := got.(*PortStatus).Desc.Name; n != "a-very-long-por" {
		t.Errorf("port name %q", n)
	}
}

func TestFullTableFeatures(t *testing.T) {
	first, last := FullTableFeatures(0, 3, "t0", 10), FullTableFeatures(2, 3, "t2", 10)
	props := func(f TableFeatures) map[TableFeaturePropType][]byte {
		m := map[TableFeaturePropType][]byte{}
		for _, p := range f.Properties {
			m[p.Type] = p.Data
		}
		return m
	}
	p0, p2 := props(first), props(last)
	if len(p0) != 8 || !bytes.Equal(p0[TFPNextTables], []byte{1, 2}) || len(p2[TFPNextTables]) != 0 {
		t.Errorf("properties %v / %v", p0, p2)
	}
	// The last table cannot go anywhere: no goto-table instruction.
	if len(p0[TFPInstructions]) != 6*4 || len(p2[TFPInstructions]) != 5*4 || be.Uint16(p2[TFPInstructions]) == uint16(InstructionTypeGotoTable) {
		t.Errorf("instructions %x / %x", p0[TFPInstructions], p2[TFPInstructions])
	}
	// Every field is matchable, maskable ones with hasmask and a doubled length.
	m := p0[TFPMatch]
	if len(m) != int(numOXMFields)*4 {
		t.Fatalf("match property of %d bytes", len(m))
	}
	for i := 0; i < len(m); i += 4 {
		class, f, hasMask, n := oxmHeader(be.Uint32(m[i:]))
		want := f.Size()
		if maskableFields[f] {
			want *= 2
		}
		if class != OXMClassOpenFlowBasic || hasMask != maskableFields[f] || n != want {
			t.Errorf("oxm id %x", m[i:i+4])
		}
	}
}
