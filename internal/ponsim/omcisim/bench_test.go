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
