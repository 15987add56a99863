package omcisim

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
)

// olt builds requests the way an OLT's OMCI adapter does (omci-lib-go's meframe) and decodes the
// answers with omci-lib-go.
type olt struct {
	t   testing.TB
	onu *ONU
	tid uint16
}

func newOLT(t testing.TB, cfg Config, h Hooks) *olt {
	t.Helper()
	if cfg.SerialNumber == "" {
		cfg.SerialNumber = "PSMO00000001"
	}
	o, err := New(cfg, h)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &olt{t: t, onu: o}
}

func (c *olt) nextTID() uint16 {
	c.tid++
	if c.tid == 0 {
		c.tid = 1
	}
	return c.tid
}

// frame builds a request for an instance of class with the given attributes.
func (c *olt) frame(mt omci.MessageType, class me.ClassID, inst uint16, av me.AttributeValueMap, opts ...meframe.FrameOption) []byte {
	c.t.Helper()
	ent, oerr := me.LoadManagedEntityDefinition(class, me.ParamData{EntityID: inst, Attributes: av})
	if oerr != nil && oerr.StatusCode() != me.Success {
		c.t.Fatalf("ME %v: %v", class, oerr.GetError())
	}
	opts = append([]meframe.FrameOption{meframe.TransactionID(c.nextTID())}, opts...)
	b, err := meframe.GenFrame(ent, mt, opts...)
	if err != nil {
		c.t.Fatalf("GenFrame %v %v: %v", mt, class, err)
	}
	return b
}

// layerFrame serializes one request layer behind an OMCI header.
func (c *olt) layerFrame(mt omci.MessageType, l gopacket.SerializableLayer) []byte {
	c.t.Helper()
	hdr := &omci.OMCI{TransactionID: c.nextTID(), MessageType: mt, DeviceIdentifier: omci.BaselineIdent}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, hdr, l); err != nil {
		c.t.Fatalf("serialize %v: %v", mt, err)
	}
	return buf.Bytes()
}

// extFrame serializes one request layer behind an extended OMCI header.
func (c *olt) extFrame(mt omci.MessageType, l gopacket.SerializableLayer) []byte {
	c.t.Helper()
	hdr := &omci.OMCI{TransactionID: c.nextTID(), MessageType: mt, DeviceIdentifier: omci.ExtendedIdent}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, hdr, l); err != nil {
		c.t.Fatalf("serialize %v: %v", mt, err)
	}
	return buf.Bytes()
}

// do sends a request and returns the decoded response and any further frames.
func (c *olt) do(req []byte) (gopacket.Layer, [][]byte) {
	c.t.Helper()
	out, err := c.onu.Handle(req)
	if err != nil {
		c.t.Fatalf("Handle: %v", err)
	}
	if len(out) == 0 {
		c.t.Fatalf("no response")
	}
	_, l := decode(c.t, out[0])
	return l, out[1:]
}

func decode(t testing.TB, b []byte) (*omci.OMCI, gopacket.Layer) {
	t.Helper()
	pkt := gopacket.NewPacket(b, omci.LayerTypeOMCI, gopacket.NoCopy)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("decode % x: %v", b, el.Error())
	}
	hdr, _ := pkt.Layer(omci.LayerTypeOMCI).(*omci.OMCI)
	if len(pkt.Layers()) < 2 {
		t.Fatalf("decode % x: no message layer", b)
	}
	return hdr, pkt.Layers()[1]
}

func (c *olt) get(class me.ClassID, inst, mask uint16) *omci.GetResponse {
	c.t.Helper()
	l, _ := c.do(c.layerFrame(omci.GetRequestType, &omci.GetRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: class, EntityInstance: inst}, AttributeMask: mask}))
	r, ok := l.(*omci.GetResponse)
	if !ok {
		c.t.Fatalf("get: answer %T", l)
	}
	return r
}

func (c *olt) set(class me.ClassID, inst uint16, av me.AttributeValueMap) (*omci.SetResponse, [][]byte) {
	c.t.Helper()
	mask := uint16(0)
	defs, _ := me.GetAttributesDefinitions(class)
	for name := range av {
		for _, d := range defs {
			if d.Name == name {
				mask |= d.Mask
			}
		}
	}
	l, more := c.do(c.frame(omci.SetRequestType, class, inst, av, meframe.AttributeMask(mask)))
	r, ok := l.(*omci.SetResponse)
	if !ok {
		c.t.Fatalf("set: answer %T", l)
	}
	return r, more
}

func (c *olt) create(class me.ClassID, inst uint16, av me.AttributeValueMap) *omci.CreateResponse {
	c.t.Helper()
	l, _ := c.do(c.frame(omci.CreateRequestType, class, inst, av))
	r, ok := l.(*omci.CreateResponse)
	if !ok {
		c.t.Fatalf("create: answer %T", l)
	}
	return r
}

func (c *olt) delete(class me.ClassID, inst uint16) *omci.DeleteResponse {
	c.t.Helper()
	l, _ := c.do(c.frame(omci.DeleteRequestType, class, inst, nil))
	r, ok := l.(*omci.DeleteResponse)
	if !ok {
		c.t.Fatalf("delete: answer %T", l)
	}
	return r
}

func (c *olt) mibReset() *omci.MibResetResponse {
	c.t.Helper()
	l, _ := c.do(c.frame(omci.MibResetRequestType, me.OnuDataClassID, 0, nil))
	r, ok := l.(*omci.MibResetResponse)
	if !ok {
		c.t.Fatalf("mib reset: answer %T", l)
	}
	return r
}

// upload runs a whole MIB upload and returns the reported MEs.
func (c *olt) upload() []me.ManagedEntity {
	c.t.Helper()
	l, _ := c.do(c.frame(omci.MibUploadRequestType, me.OnuDataClassID, 0, nil))
	r, ok := l.(*omci.MibUploadResponse)
	if !ok {
		c.t.Fatalf("mib upload: answer %T", l)
	}
	var mes []me.ManagedEntity
	for seq := range r.NumberOfCommands {
		l, _ := c.do(c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(seq)))
		n, ok := l.(*omci.MibUploadNextResponse)
		if !ok {
			c.t.Fatalf("mib upload next %d: answer %T", seq, l)
		}
		mes = append(mes, n.ReportedME)
	}
	return mes
}

func (c *olt) mibDataSync() uint8 {
	c.t.Helper()
	r := c.get(me.OnuDataClassID, 0, 0x8000)
	v, _ := r.Attributes[me.OnuData_MibDataSync].(uint8)
	return v
}
