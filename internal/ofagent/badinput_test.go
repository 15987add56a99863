package ofagent

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/openflow/ofp13"
	"github.com/openvolt/openvolt/internal/testkit"
)

func TestVersionNegotiation(t *testing.T) {
	_, ag := withFake(t, nil)
	for _, tc := range []struct {
		name  string
		hello []byte
	}{
		{"OpenFlow 1.0 header", []byte{0x01, 0, 0, 8, 0, 0, 0, 1}},
		{"bitmap of 1.0 and 1.2", []byte{0x04, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x0a}},
		{"features request first", []byte{0x04, 5, 0, 8, 0, 0, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", ag.listen)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if _, err := nc.Write(tc.hello); err != nil {
				t.Fatal(err)
			}
			_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			var got []ofp13.Message
			for {
				raw, err := ofp13.ReadMessage(nc, 0)
				if err != nil {
					break // closed by the agent
				}
				m, err := ofp13.Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, m)
			}
			if len(got) != 2 || got[0].Hdr().Type != ofp13.TypeHello {
				t.Fatalf("got %d messages, want hello and error", len(got))
			}
			wantError(t, got[1], ofp13.ErrTypeHelloFailed, ofp13.HelloFailedIncompatible)
		})
	}
	// A 1.0 peer that also speaks 1.3 (bitmap) is fine.
	c := dialOF(t, ag.listen)
	c.alive()
}

// TestBadInput sends malformed and unsupported messages: each gets the
// right OpenFlow error with its xid and a log line, and the connection
// stays.
func TestBadInput(t *testing.T) {
	_, ag := withFake(t, nil)
	c := dialOF(t, ag.listen)
	enc := func(m ofp13.Message) []byte {
		m.Hdr().Xid = 77
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	patch := func(b []byte, at int, v ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[at:], v)
		return b
	}
	setLen := func(b []byte) []byte {
		b[2], b[3] = byte(len(b)>>8), byte(len(b))
		return b
	}
	fm := enc(flowMod(ofp13.FlowAdd, 10, 16, 1))
	matchAt := ofp13.HeaderLen + 40 // ofp_match after the flow-mod's fixed part
	oxmAt := matchAt + 4
	instrAt := matchAt + 16 // one 8-byte OXM (in_port) in a 16-byte match
	po := enc(&ofp13.PacketOut{BufferID: ofp13.NoBuffer, InPort: ofp13.PortController,
		Actions: []ofp13.Action{&ofp13.ActionOutput{Port: 16}}, Data: []byte{1, 2, 3}})
	for _, tc := range []struct {
		name string
		raw  []byte
		typ  ofp13.ErrorType
		code uint16
	}{
		{"unknown type", []byte{4, 99, 0, 8, 0, 0, 0, 77}, ofp13.ErrTypeBadRequest, ofp13.BadRequestBadType},
		{"length below the header", []byte{4, 2, 0, 4, 0, 0, 0, 77}, ofp13.ErrTypeBadRequest, ofp13.BadRequestBadLen},
		{"wrong version", []byte{1, 5, 0, 8, 0, 0, 0, 77}, ofp13.ErrTypeBadRequest, ofp13.BadRequestBadVersion},
		{"truncated flow-mod", setLen(bytes.Clone(fm[:30])), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadLen},
		{"flow-mod match longer than the message", patch(fm, matchAt+2, 0x7f, 0xf0), ofp13.ErrTypeBadMatch, ofp13.BadMatchBadLen},
		{"features request with a body", setLen(append(enc(&ofp13.FeaturesRequest{}), 1, 2, 3, 4)), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadLen},
		{"unsupported match field", patch(fm, oxmAt+2, 60<<1), ofp13.ErrTypeBadMatch, ofp13.BadMatchBadField},
		{"unknown instruction", patch(fm, instrAt, 0, 0x77), ofp13.ErrTypeBadInstruction, ofp13.BadInstructionUnknownInst},
		{"unknown action", patch(fm, instrAt+8, 0, 0x77), ofp13.ErrTypeBadAction, ofp13.BadActionBadType},
		{"flow-mod command", patch(fm, ofp13.HeaderLen+17, 9), ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedBadCommand},
		{"flow-mod with a buffer", patch(fm, ofp13.HeaderLen+24, 0, 0, 0, 5), ofp13.ErrTypeBadRequest, ofp13.BadRequestBufferUnknown},
		{"experimenter", enc(&ofp13.Experimenter{Experimenter: 0x2320, ExpType: 1}), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadExperimenter},
		{"features reply to a switch", enc(&ofp13.FeaturesReply{}), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadType},
		{"multipart reply to a switch", enc(&ofp13.DescReply{}), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadType},
		{"queue multipart", patch(enc(&ofp13.DescRequest{}), ofp13.HeaderLen, 0, 5), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadMultipart},
		{"unknown multipart", patch(enc(&ofp13.DescRequest{}), ofp13.HeaderLen, 0, 77), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadMultipart},
		{"multipart in several requests", patch(enc(&ofp13.DescRequest{}), ofp13.HeaderLen+3, 1), ofp13.ErrTypeBadRequest, ofp13.BadRequestMultipartBufferOverflow},
		{"set table features", enc(&ofp13.TableFeaturesRequest{Tables: []ofp13.TableFeatures{{TableID: 0, Name: "t"}}}), ofp13.ErrTypeTableFeaturesFail, ofp13.TableFeaturesFailedEPerm},
		{"set config flags", enc(&ofp13.SetConfig{Flags: 0x80}), ofp13.ErrTypeSwitchConfigFailed, ofp13.SwitchConfigFailedBadFlags},
		{"set config length", setLen(append(enc(&ofp13.SetConfig{}), 0, 0, 0, 0)), ofp13.ErrTypeSwitchConfigFailed, ofp13.SwitchConfigFailedBadLen},
		{"bad role", patch(enc(&ofp13.RoleRequest{Role: ofp13.RoleEqual}), ofp13.HeaderLen+3, 9), ofp13.ErrTypeRoleRequestFailed, ofp13.RoleRequestFailedBadRole},
		{"group type", patch(enc(&ofp13.GroupMod{Command: ofp13.GroupAdd, GroupID: 1}), ofp13.HeaderLen+2, 9), ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadType},
		{"meter band type", patch(enc(&ofp13.MeterMod{Command: ofp13.MeterAdd, MeterID: 1, Bands: []ofp13.MeterBand{{Type: ofp13.MeterBandDrop, Rate: 1}}}), ofp13.HeaderLen+8, 0, 9), ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadBand},
		{"table-mod of a missing table", enc(&ofp13.TableMod{TableID: 9}), ofp13.ErrTypeTableModFailed, ofp13.TableModFailedBadTable},
		{"table-mod config", enc(&ofp13.TableMod{TableID: 0, Config: 3}), ofp13.ErrTypeTableModFailed, ofp13.TableModFailedBadConfig},
		{"port-mod of a missing port", enc(&ofp13.PortMod{PortNo: 99, Mask: 1}), ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadPort},
		{"port-mod of another bit", enc(&ofp13.PortMod{PortNo: 16, HWAddr: [6]byte{0, 0, 0, 0, 0, 16}, Mask: ofp13.PortConfigNoFwd}), ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadConfig},
		{"port-mod hw_addr", enc(&ofp13.PortMod{PortNo: 16, Mask: 1}), ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadHWAddr},
		{"packet-out with a buffer", patch(po, ofp13.HeaderLen, 0, 0, 0, 1), ofp13.ErrTypeBadRequest, ofp13.BadRequestBufferUnknown},
		{"packet-out from a missing port", patch(po, ofp13.HeaderLen+4, 0, 0, 0, 99), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadPort},
		{"packet-out to a missing port", patch(po, ofp13.HeaderLen+16+4, 0, 0, 0, 99), ofp13.ErrTypeBadAction, ofp13.BadActionBadOutPort},
		{"packet-out to the table", patch(po, ofp13.HeaderLen+16+4, 0xff, 0xff, 0xff, 0xf9), ofp13.ErrTypeBadAction, ofp13.BadActionBadOutPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xid := be32(tc.raw[4:])
			c.sendRaw(tc.raw)
			m := c.reply(xid)
			wantError(t, m, tc.typ, tc.code)
			e := m.(*ofp13.ErrorMsg)
			if n := min(len(tc.raw), ofp13.MaxErrorData); !bytes.Equal(e.Data, tc.raw[:n]) && tc.code != ofp13.BadRequestBadLen {
				t.Errorf("error data %x, want the first %d bytes of the message", e.Data, n)
			}
			c.alive()
			testkit.Eventually(t, "a log line", func() error {
				if !strings.Contains(ag.logs.String(), ofp13.ErrorCodeName(tc.typ, tc.code)) {
					return fmt.Errorf("no log line names %s", ofp13.ErrorCodeName(tc.typ, tc.code))
				}
				return nil
			})
		})
	}
	// The largest message OpenFlow can frame goes through.
	big := &ofp13.EchoRequest{Data: make([]byte, ofp13.MaxMessageLen-ofp13.HeaderLen)}
	if r, ok := c.request(big).(*ofp13.EchoReply); !ok || len(r.Data) != len(big.Data) {
		t.Error("64 KiB echo not answered whole")
	}
}
