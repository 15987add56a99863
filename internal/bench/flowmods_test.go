package bench

import (
	"context"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/ofagent"
)

// BenchmarkOFAgent measures flow-mods per second from one controller
// connection through a real agent into a real core (the whole stack in
// process: embedded etcd with fsync, broker, ponsim, adapters), each
// confirmed by a barrier. b.N is the number of flow-mods; run it with a
// fixed count:
//
//	go test -run '^$' -bench OFAgent -benchtime 20000x ./internal/bench/
func BenchmarkOFAgent(b *testing.B) {
	res, err := OFAgent(context.Background(), OFAgentConfig{Bench: FlowMods{FlowMods: b.N}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.FlowModsPerS, "flowmods/s")
	b.ReportMetric(res.BarrierP50Ms, "barrier_p50_ms")
}

// BenchmarkOFAgentFakeNBI measures the agent alone: the same flow-mods
// into an NBI that only counts them.
//
//	go test -run '^$' -bench OFAgentFakeNBI -benchtime 200000x ./internal/bench/
func BenchmarkOFAgentFakeNBI(b *testing.B) {
	f := nbitest.New()
	f.AddLogical(nbitest.LogicalDevice("ld1", 0xaabbccddeeff))
	f.CountOnly = true
	ctx, cancel := context.WithCancel(context.Background())
	listen := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- ofagent.Run(ctx, ofagent.Config{Server: f.Serve(b), Listen: "127.0.0.1:0",
			Ready: func(addr string) { listen <- addr }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("agent: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-listen:
	case err := <-done:
		b.Fatalf("agent stopped: %v", err)
	case <-time.After(time.Minute):
		b.Fatal("agent not ready")
	}
	b.ResetTimer()
	res, err := controllerLoad(ctx, FlowMods{Addr: addr, FlowMods: b.N})
	b.StopTimer()
	if err != nil || res.Errors > 0 {
		b.Fatalf("%v, %+v", err, res)
	}
	b.ReportMetric(res.FlowModsPerS, "flowmods/s")
}
