package omcisim

import (
	"testing"

	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
)

// TestValuesHaveLibraryTypes encodes every readable non-table attribute of every class omci-lib-go
// knows, as attrLayout.value produces it, through omci-lib-go's get response encoder: a value of
// the wrong Go type would make the library panic or fail, so this proves no MIB value can.
func TestValuesHaveLibraryTypes(t *testing.T) {
	cat := sharedCatalog()
	if len(cat.classes) < 150 {
		t.Fatalf("catalog has %d classes", len(cat.classes))
	}
	n := 0
	for id, lay := range cat.classes {
		if !lay.supports(me.Get) {
			continue
		}
		for i := range lay.attrs {
			a := &lay.attrs[i]
			if a.table || !a.read || a.size > 25 {
				continue
			}
			resp := &omci.GetResponse{
				MeBasePacket:  omci.MeBasePacket{EntityClass: id},
				Result:        me.Success,
				AttributeMask: a.mask,
				Attributes:    me.AttributeValueMap{a.def.Name: a.value(make([]byte, a.size))},
			}
			b, err := encode(1, omci.GetResponseType, false, resp)
			if err != nil {
				t.Errorf("%s.%s (%d octets): %v", lay.name, a.def.Name, a.size, err)
				continue
			}
			_, l := decode(t, b)
			if r, ok := l.(*omci.GetResponse); !ok || r.AttributeMask != a.mask {
				t.Errorf("%s.%s: decoded %v", lay.name, a.def.Name, l)
			}
			n++
		}
	}
	t.Logf("%d attributes of %d classes encoded", n, len(cat.classes))
}

func TestPutValueRejectsWrongTypes(t *testing.T) {
	for _, tc := range []struct {
		size int
		v    any
		ok   bool
	}{
		{1, uint8(1), true}, {1, uint16(1), false}, {2, uint16(1), true}, {2, uint32(1), false},
		{4, uint32(1), true}, {8, uint64(1), true}, {4, uint64(1), false}, {3, 7, false},
		{4, []byte{1, 2, 3, 4, 5}, true}, {4, "ab", true}, {2, true, false}, {2, nil, false}, {1, 1.5, false},
	} {
		if got := putValue(make([]byte, tc.size), tc.v); got != tc.ok {
			t.Errorf("putValue(%d octets, %T) = %v, want %v", tc.size, tc.v, got, tc.ok)
		}
	}
}

// TestExtendedMessageSet runs reset, upload, set, create and get in the extended message set:
// every answer comes back extended and decodes.
func TestExtendedMessageSet(t *testing.T) {
	c := newOLT(t, Config{UNIs: 1}, Hooks{})
	onuData := omci.MeBasePacket{EntityClass: me.OnuDataClassID, Extended: true}
	l, _ := c.do(c.extFrame(omci.MibResetRequestType, &omci.MibResetRequest{MeBasePacket: onuData}))
	if r, ok := l.(*omci.MibResetResponse); !ok || r.Result != me.Success || !r.Extended {
		t.Fatalf("extended MIB reset: %v", l)
	}
	l, _ = c.do(c.extFrame(omci.MibUploadRequestType, &omci.MibUploadRequest{MeBasePacket: onuData}))
	up, ok := l.(*omci.MibUploadResponse)
	if !ok || up.NumberOfCommands != uint16(c.onu.UploadCount()) {
		t.Fatalf("extended MIB upload: %v", l)
	}
	for seq := range up.NumberOfCommands {
		l, _ := c.do(c.extFrame(omci.MibUploadNextRequestType, &omci.MibUploadNextRequest{MeBasePacket: onuData, CommandSequenceNumber: seq}))
		if n, ok := l.(*omci.MibUploadNextResponse); !ok || !n.Extended {
			t.Fatalf("extended upload next %d: %v", seq, l)
		}
	}
	// omci-lib-go v2.2.4 decodes an extended set response's result from the wrong octet (the
	// instance's high octet), so the answer is checked on the wire: result after the length.
	out, err := c.onu.Handle(c.extFrame(omci.SetRequestType, &omci.SetRequest{
		MeBasePacket:  omci.MeBasePacket{EntityClass: me.TContClassID, EntityInstance: TContID(2), Extended: true},
		AttributeMask: 0x8000, Attributes: me.AttributeValueMap{me.TCont_AllocId: uint16(1030)}}))
	if err != nil || len(out) != 1 || out[0][2] != byte(omci.SetResponseType) || out[0][3] != byte(omci.ExtendedIdent) || out[0][9] != 1 || out[0][10] != byte(me.Success) {
		t.Fatalf("extended set: % x, %v", out, err)
	}
	l, _ = c.do(c.extFrame(omci.CreateRequestType, &omci.CreateRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: me.GemPortNetworkCtpClassID, EntityInstance: 1030, Extended: true},
		Attributes:   gemAttrs(1030, TContID(2))}))
	if r, ok := l.(*omci.CreateResponse); !ok || r.Result != me.Success {
		t.Fatalf("extended create: %v", l)
	}
	l, _ = c.do(c.frame(omci.GetRequestType, me.GemPortNetworkCtpClassID, 1030, me.AttributeValueMap{
		me.GemPortNetworkCtp_PortId: uint16(0), me.GemPortNetworkCtp_TContPointer: uint16(0)}, meframe.FrameFormat(omci.ExtendedIdent), meframe.AttributeMask(0xc000)))
	r, ok := l.(*omci.GetResponse)
	if !ok || r.Result != me.Success || r.Attributes[me.GemPortNetworkCtp_PortId] != uint16(1030) || r.Attributes[me.GemPortNetworkCtp_TContPointer] != TContID(2) {
		t.Fatalf("extended get: %v", l)
	}
	if s := c.onu.Service(); len(s.GemPorts) != 1 || s.GemPorts[0].AllocID != 1030 {
		t.Errorf("service: %+v", s)
	}
}
