package openolt_test

import (
	"testing"
	"time"
)

// BenchmarkActivation measures OLT enable → every ONU activated (ActivateOnu
// answered by an ONU indication up, the child device ACTIVE and
// REACHABLE) with 16 PONs × 64 ONUs behind ponsim's openolt face, the
// whole stack in process (embedded etcd, broker, core, adapter, ponsim):
//
//	go test -run '^$' -bench Activation -benchtime 1x ./internal/adapters/openolt/
func BenchmarkActivation(b *testing.B) {
	for range b.N {
		b.StopTimer()
		s := newStack(b)
		p := s.newOLT("bench", 16, 64)
		p.start()
		b.StartTimer()
		begin := time.Now()
		id := s.create(p.addr)
		s.waitActive(id, 16, 1024)
		b.ReportMetric(time.Since(begin).Seconds(), "s/1024onus")
		b.StopTimer()
	}
}
