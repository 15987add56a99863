package ponsim

import (
	"fmt"
	"testing"
)

// BenchmarkPortCount counts a frame received and sent on one port from
// every core at once, as every upstream frame does on the OLT's PON and
// NNI: with one shard per P (how the OLT's ports count) and with one
// shared set of counters. With -cpu 2 the difference is the cache line
// the cores take from each other.
//
//	go test -run '^$' -bench PortCount -cpu 1,2 ./internal/ponsim/
func BenchmarkPortCount(b *testing.B) {
	for _, shared := range []bool{true, false} {
		b.Run(fmt.Sprintf("sharded=%v", shared), func(b *testing.B) {
			p := newPort(1, "nni-0", true, true, shared)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p.rx(64)
					p.tx(64)
				}
			})
			c := p.counters("")
			if c.GetRxFrames() != uint64(b.N) || c.GetTxBytes() != 64*uint64(b.N) {
				b.Fatalf("counted %d frames in, %d bytes out, for %d frames of 64 bytes", c.GetRxFrames(), c.GetTxBytes(), b.N)
			}
		})
	}
}
