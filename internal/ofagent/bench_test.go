package ofagent

import (
	"context"
	"testing"
	"time"
)

// BenchmarkFlowMods measures flow-mods per second from one controller
// connection through a real agent into a real core (the whole stack in
// process: embedded etcd with fsync, broker, ponsim, adapters), each
// confirmed by a barrier. b.N is the number of flow-mods; run it with a
// fixed count:
//
//	go test -run '^$' -bench FlowMods -benchtime 20000x ./internal/ofagent/
func BenchmarkFlowMods(b *testing.B) {
	s := getStack(b)
	ag := startAgent(b, Config{Server: s.addrs.NBI, Listen: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := Bench(ctx, BenchConfig{Addr: ag.listen, FlowMods: b.N, Cleanup: true})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 {
		b.Fatalf("%d flow-mods refused, the first with %s", res.Errors, res.FirstError)
	}
	b.ReportMetric(res.FlowModsPerS, "flowmods/s")
	b.ReportMetric(res.BarrierP50Ms, "barrier_p50_ms")
}

// TestBench runs Bench briefly against the real stack, so that it keeps
// working.
func TestBench(t *testing.T) {
	s := getStack(t)
	ag := s.agent(t)
	res, err := Bench(context.Background(), BenchConfig{Addr: ag.listen, FlowMods: 300, Batch: 100, Cleanup: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.FlowMods != 300 || res.FlowModsPerS <= 0 || res.InPort != s.unis[0] || res.OutPort != s.nni {
		t.Fatalf("result %+v", res)
	}
	if n := len(s.logicalFlows(t)); n != 0 {
		t.Errorf("%d flows left after the cleanup", n)
	}
	t.Logf("%+v", res)
}

// BenchmarkFlowModsFakeNBI measures the agent alone: the same flow-mods
// into an NBI that only counts them.
//
//	go test -run '^$' -bench FlowModsFakeNBI -benchtime 200000x ./internal/ofagent/
func BenchmarkFlowModsFakeNBI(b *testing.B) {
	f := newFakeNBI()
	ld, ports := testLD("ld1", testDPID)
	f.AddLogical(ld, ports)
	f.CountOnly = true
	ag := startAgent(b, Config{Server: f.Serve(b), Listen: "127.0.0.1:0"})
	b.ResetTimer()
	res, err := Bench(context.Background(), BenchConfig{Addr: ag.listen, FlowMods: b.N})
	b.StopTimer()
	if err != nil || res.Errors > 0 {
		b.Fatalf("%v, %+v", err, res)
	}
	b.ReportMetric(res.FlowModsPerS, "flowmods/s")
}
