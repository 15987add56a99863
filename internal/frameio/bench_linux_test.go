package frameio

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRaw runs the link benchmarks over a veth pair (root only).
func BenchmarkRaw(b *testing.B) {
	needRoot(b)
	runLinkBenchmarks(b, rawLink)
}

func BenchmarkReconstruct(b *testing.B) {
	frame := frameOf(macB, etTest, "bench", 60)
	buf := append(make([]byte, tagRoom), frame...)
	oob := auxOOB(unix.TP_STATUS_VLAN_VALID|unix.TP_STATUS_VLAN_TPID_VALID, 0xa064, TPIDCTag)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf[tagRoom:], frame)
		if _, err := reconstruct(buf, len(frame), 0, oob); err != nil {
			b.Fatal(err)
		}
	}
}
