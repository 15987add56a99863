package frameio

import (
	"slices"
	"testing"
	"time"
)

// Benchmarks report frames/s for a windowed stream from one port to its
// peer, and the latency of a ping-pong; go test -bench . runs the memory
// ones anywhere and the raw ones as root.

const benchWindow = 64 // frames in flight; below queue and socket limits

// benchThroughput streams b.N copies of frame from tx to rx, never more than
// benchWindow unanswered, so nothing is lost and the figure is what the
// receiving side sustains.
func benchThroughput(b *testing.B, tx, rx Port, frame []byte) {
	credits := make(chan struct{}, benchWindow)
	unsub := rx.Subscribe(nil, func([]byte) { <-credits })
	defer unsub()
	take := func() {
		select {
		case credits <- struct{}{}:
			return
		default:
		}
		select {
		case credits <- struct{}{}:
		case <-time.After(2 * time.Second):
			b.Fatalf("stalled: %s %+v", rx.Name(), rx.Counters())
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		take()
		if err := tx.Send(frame); err != nil {
			b.Fatal(err)
		}
	}
	for range benchWindow { // wait for the tail
		take()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}

// benchRoundTrip sends frame from a, which z echoes back, one at a time, and
// reports the median and 99th percentile round trip.
func benchRoundTrip(b *testing.B, a, z Port, frame []byte) {
	unsubEcho := z.Subscribe(nil, func(f []byte) { _ = z.Send(f) })
	defer unsubEcho()
	back := make(chan struct{}, 1)
	unsub := a.Subscribe(nil, func([]byte) { back <- struct{}{} })
	defer unsub()
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := a.Send(frame); err != nil {
			b.Fatal(err)
		}
		select {
		case <-back:
		case <-time.After(2 * time.Second):
			b.Fatalf("no echo: %s %+v", a.Name(), a.Counters())
		}
		rtts = append(rtts, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// benchPorts is one link with a VLAN 100 sub-port on each end.
type benchPorts struct {
	a, b       Port
	subA, subB Port
}

func newBenchPorts(b *testing.B, link newLink) benchPorts {
	pa, pb := link(b, Options{ReadBuffer: 1 << 22})
	return benchPorts{a: pa, b: pb, subA: mustVLAN(b, pa, 100), subB: mustVLAN(b, pb, 100)}
}

func runLinkBenchmarks(b *testing.B, link newLink) {
	p := newBenchPorts(b, link)
	untagged := frameOf(macB, etTest, "bench", 60)
	ctag := mustPush(b, untagged, Tag{TPID: TPIDCTag, PCP: 5, VID: 200})
	big := frameOf(macB, etTest, "bench", 1514)
	b.Run("Throughput/untagged-60", func(b *testing.B) { benchThroughput(b, p.a, p.b, untagged) })
	b.Run("Throughput/untagged-1514", func(b *testing.B) { benchThroughput(b, p.a, p.b, big) })
	b.Run("Throughput/ctag-64", func(b *testing.B) { benchThroughput(b, p.a, p.b, ctag) })
	b.Run("Throughput/vlan-subport", func(b *testing.B) { benchThroughput(b, p.subA, p.subB, untagged) })
	b.Run("RoundTrip/untagged-60", func(b *testing.B) { benchRoundTrip(b, p.a, p.b, untagged) })
	b.Run("RoundTrip/vlan-subport", func(b *testing.B) { benchRoundTrip(b, p.subA, p.subB, untagged) })
}

func BenchmarkMem(b *testing.B) { runLinkBenchmarks(b, memLink) }

func BenchmarkPushPopTag(b *testing.B) {
	frame := frameOf(macB, etTest, "bench", 60)
	tag := Tag{TPID: TPIDCTag, VID: 100}
	b.ReportAllocs()
	for b.Loop() {
		tagged, err := PushTag(frame, tag)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := PopTag(tagged); err != nil {
			b.Fatal(err)
		}
	}
}
