package ponsim

import (
	"sync/atomic"
	"testing"

	"github.com/openvolt/openvolt/adapter/portno"
)

// BenchmarkDataplane forwards frames through the ONU and OLT tables of an
// OLT with 1,024 ATT-like subscribers (16 PONs × 64 ONUs: about 5,100 OLT
// flows and 5 per ONU), upstream (UNI → ONU → OLT → NNI) and downstream
// (NNI → OLT → ONU → UNI), and reports frames per second.
//
//	go test -run XXX -bench Dataplane ./internal/ponsim
func BenchmarkDataplane(b *testing.B) {
	const pons, onus = 16, 64
	s, err := New(Config{Name: "bench", PONPorts: pons, ONUsPerPON: onus})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	installSubscribers(b, s, nil, nil)
	if err := s.Enable(""); err != nil {
		b.Fatal(err)
	}
	var nniOut, uniOut atomic.Int64 // frames that left the NNI, the UNIs
	if err := s.Connect("", portno.NNI(0), func([]byte) { nniOut.Add(1) }); err != nil {
		b.Fatal(err)
	}
	type sub struct {
		serial string
		uni    uint32
		down   []byte
	}
	var subs []sub
	for pon := range uint32(pons) {
		for onu := uint32(1); onu <= onus; onu++ {
			serial, uni := s.ONUSerial(pon, onu), portno.UNI(pon, onu, 0)
			if err := s.Connect(serial, uni, func([]byte) { uniOut.Add(1) }); err != nil {
				b.Fatal(err)
			}
			subs = append(subs, sub{serial, uni, tagged(ethTypeIPv4, udp4(protoUDP, 80, 5000), sTag, uint16(cTag(pon, onu)))})
		}
	}
	up := frame(ethTypeIPv4, udp4(protoUDP, 5000, 80))
	run := func(b *testing.B, out *atomic.Int64, fn func(i int) error) {
		b.ReportAllocs()
		before := out.Load()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		if got := out.Load() - before; got != int64(b.N) {
			b.Fatalf("%d frames out for %d in", got, b.N)
		}
	}
	b.Run("upstream", func(b *testing.B) {
		run(b, &nniOut, func(i int) error {
			sb := subs[i%len(subs)]
			return s.Inject(sb.serial, sb.uni, up)
		})
	})
	b.Run("downstream", func(b *testing.B) {
		run(b, &uniOut, func(i int) error { return s.Inject("", portno.NNI(0), subs[i%len(subs)].down) })
	})
	st, err := s.Stats("")
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range st.GetPorts() {
		if p.GetDropped() != 0 || p.GetMalformed() != 0 {
			b.Fatalf("olt port %s dropped %d frames", p.GetName(), p.GetDropped())
		}
	}
}
