package omcisim

import (
	"errors"
	"testing"

	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
)

// FuzzHandle feeds arbitrary frames to an ONU: Handle must never panic, must answer every
// well-formed request with exactly one response carrying its transaction id, and must report
// anything else as ErrMalformed. The seed corpus (testdata/fuzz/FuzzHandle) holds one frame of each
// message type the ONU handles.
func FuzzHandle(f *testing.F) {
	c := newOLT(f, Config{UNIs: 2}, Hooks{})
	seeds := [][]byte{
		c.frame(omci.MibResetRequestType, me.OnuDataClassID, 0, nil),
		c.frame(omci.MibUploadRequestType, me.OnuDataClassID, 0, nil),
		c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(2)),
		c.frame(omci.GetAllAlarmsRequestType, me.OnuDataClassID, 0, nil, meframe.RetrievalMode(0)),
		c.frame(omci.GetAllAlarmsNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(0)),
		c.frame(omci.RebootRequestType, me.OnuGClassID, 0, nil),
		c.frame(omci.SetRequestType, me.TContClassID, TContID(0), me.AttributeValueMap{me.TCont_AllocId: uint16(1024)}, meframe.AttributeMask(0x8000)),
		c.frame(omci.CreateRequestType, me.GemPortNetworkCtpClassID, 1024, gemAttrs(1024, TContID(0))),
		c.frame(omci.DeleteRequestType, me.GemPortNetworkCtpClassID, 1024, nil),
		c.frame(omci.SetRequestType, me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(0), me.AttributeValueMap{
			me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: uint8(1)}, meframe.AttributeMask(0x0800)),
		c.layerFrame(omci.GetRequestType, &omci.GetRequest{MeBasePacket: omci.MeBasePacket{EntityClass: me.OnuGClassID}, AttributeMask: 0xe000}),
		c.frame(omci.GetRequestType, me.OnuGClassID, 0, me.AttributeValueMap{me.OnuG_VendorId: []byte("    ")},
			meframe.AttributeMask(0x8000), meframe.FrameFormat(omci.ExtendedIdent)),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		onu, err := New(Config{SerialNumber: "PSMO00000001", UNIs: 2}, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		// Twice: the second sees the state the first left (uploads, tables, created MEs).
		for range 2 {
			out, err := onu.Handle(b)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v is not ErrMalformed", err)
				}
				if len(out) > 1 {
					t.Fatalf("%d frames for a malformed request", len(out))
				}
				continue
			}
			if len(out) == 0 {
				t.Fatalf("no answer to a well-formed request % x", b)
			}
			if out[0][0] != b[0] || out[0][1] != b[1] || out[0][2] != b[2]&me.MsgTypeMask|me.AK {
				t.Fatalf("answer % x does not echo the request's TCI and type % x", out[0][:4], b[:4])
			}
		}
		_ = onu.Service()
		_ = onu.DumpMIB()
	})
}
