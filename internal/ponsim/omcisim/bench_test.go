package omcisim

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
)

// BenchmarkHandle measures OMCI request/response pairs through Handle: the whole MIB upload
// sequence (what dominates an ONU's bring-up), gets, and sets.
func BenchmarkHandle(b *testing.B) {
	c := newOLT(b, Config{UNIs: 4}, Hooks{})
	upload := [][]byte{c.frame(omci.MibUploadRequestType, me.OnuDataClassID, 0, nil)}
	for seq := range uint16(c.onu.UploadCount()) {
		upload = append(upload, c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(seq)))
	}
	get := c.layerFrame(omci.GetRequestType, &omci.GetRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: me.Onu2GClassID}, AttributeMask: 0xe000})
	set := c.frame(omci.SetRequestType, me.TContClassID, TContID(0), me.AttributeValueMap{me.TCont_AllocId: uint16(1024)}, meframe.AttributeMask(0x8000))
	for _, bc := range []struct {
		name string
		reqs [][]byte
	}{{"upload", upload}, {"get", [][]byte{get}}, {"set", [][]byte{set}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := c.onu.Handle(bc.reqs[n%len(bc.reqs)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}

// bringUpFrames is the OMCI an ONU adapter sends one 4-UNI ONU to bring it up (openolt-notes.md):
// MIB reset, 6 gets, MIB upload, lock, MIB download, unlock. Starting with a reset makes it
// repeatable on one ONU.
func bringUpFrames(c *olt) [][]byte {
	get := func(class me.ClassID, inst, mask uint16) []byte {
		return c.layerFrame(omci.GetRequestType, &omci.GetRequest{
			MeBasePacket: omci.MeBasePacket{EntityClass: class, EntityInstance: inst}, AttributeMask: mask})
	}
	set := func(class me.ClassID, inst, mask uint16, av me.AttributeValueMap) []byte {
		return c.frame(omci.SetRequestType, class, inst, av, meframe.AttributeMask(mask))
	}
	fs := [][]byte{
		c.frame(omci.MibResetRequestType, me.OnuDataClassID, 0, nil),
		get(me.OnuGClassID, 0, 0xa000), get(me.OnuGClassID, 0, 0x4000), get(me.Onu2GClassID, 0, 0xc000),
		get(me.SoftwareImageClassID, 0, 0xf000), get(me.SoftwareImageClassID, 1, 0xf000), get(me.IpHostConfigDataClassID, 0, 0x4000),
		c.frame(omci.MibUploadRequestType, me.OnuDataClassID, 0, nil),
	}
	for seq := range uint16(c.onu.UploadCount()) {
		fs = append(fs, c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(seq)))
	}
	lock := func(state uint8) {
		fs = append(fs, set(me.OnuGClassID, 0, 0x0200, me.AttributeValueMap{me.OnuG_AdministrativeState: state}))
		for u := range 4 {
			fs = append(fs, set(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u), 0x0800,
				me.AttributeValueMap{me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: state}))
		}
	}
	lock(1)
	fs = append(fs, c.frame(omci.CreateRequestType, me.GalEthernetProfileClassID, 1, me.AttributeValueMap{me.GalEthernetProfile_MaximumGemPayloadSize: uint16(48)}),
		set(me.Onu2GClassID, 0, 0x0010, me.AttributeValueMap{me.Onu2G_CurrentConnectivityMode: uint8(5)}))
	for u := range 4 {
		id := uint16(0x0201 + u)
		fs = append(fs,
			c.frame(omci.CreateRequestType, me.MacBridgeServiceProfileClassID, id, me.AttributeValueMap{
				me.MacBridgeServiceProfile_SpanningTreeInd: uint8(0), me.MacBridgeServiceProfile_LearningInd: uint8(0),
				me.MacBridgeServiceProfile_PortBridgingInd: uint8(0), me.MacBridgeServiceProfile_Priority: uint16(0x8000),
				me.MacBridgeServiceProfile_MaxAge: uint16(20 * 256), me.MacBridgeServiceProfile_HelloTime: uint16(2 * 256),
				me.MacBridgeServiceProfile_ForwardDelay: uint16(15 * 256), me.MacBridgeServiceProfile_UnknownMacAddressDiscard: uint8(0),
				me.MacBridgeServiceProfile_MacLearningDepth: uint8(0), me.MacBridgeServiceProfile_DynamicFilteringAgeingTime: uint32(0),
			}),
			c.frame(omci.CreateRequestType, me.MacBridgePortConfigurationDataClassID, id, bridgePort(id, 1, 1, PPTPID(u))),
			c.frame(omci.CreateRequestType, me.ExtendedVlanTaggingOperationConfigurationDataClassID, id, me.AttributeValueMap{
				me.ExtendedVlanTaggingOperationConfigurationData_AssociationType:     uint8(2),
				me.ExtendedVlanTaggingOperationConfigurationData_AssociatedMePointer: PPTPID(u),
				me.ExtendedVlanTaggingOperationConfigurationData_EnhancedMode:        uint8(0),
			}))
	}
	lock(0)
	return fs
}

// BenchmarkBringUp runs the whole bring-up sequence of one ONU (~280 request/response pairs,
// with the alarm notifications of lock and unlock) over and over.
func BenchmarkBringUp(b *testing.B) {
	c := newOLT(b, Config{UNIs: 4}, Hooks{})
	fs := bringUpFrames(c)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, f := range fs {
			out, err := c.onu.Handle(f)
			if err != nil || len(out) == 0 || resultOf(&header{mt: f[2]}, out[0]) != me.Success {
				b.Fatalf("% x: % x, %v", f[:8], out, err)
			}
		}
		n += len(fs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pairs/s")
	b.ReportMetric(float64(len(fs)), "pairs/bringup")
}

// BenchmarkONUMemory measures the heap one ONU (4 UNIs, 8 T-CONTs) takes with its MIB, fresh and
// after a full MIB upload (whose snapshot it keeps).
func BenchmarkONUMemory(b *testing.B) {
	const n = 1024
	for _, uploaded := range []bool{false, true} {
		b.Run(fmt.Sprintf("uploaded=%v", uploaded), func(b *testing.B) {
			for b.Loop() {
				onus := make([]*ONU, n)
				sharedCatalog()
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for i := range onus {
					o, err := New(Config{SerialNumber: fmt.Sprintf("PSMO%08X", i), UNIs: 4}, Hooks{})
					if err != nil {
						b.Fatal(err)
					}
					if uploaded {
						o.UploadCount() // takes and drops a snapshot; keep one as a real upload would
						o.mu.Lock()
						o.mibUploadLocked(&header{tid: 1, mt: byte(me.MibUpload) | me.AR, class: me.OnuDataClassID})
						o.mu.Unlock()
					}
					onus[i] = o
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n/1024, "KiB/ONU")
				runtime.KeepAlive(onus)
			}
		})
	}
}
