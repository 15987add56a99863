package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := RPC(ctx, RPCConfig{Calls: 300, Concurrency: 8, Keys: 10, Warmup: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 300 || res.Concurrency != 8 || res.P50us <= 0 || res.P99us < res.P50us || res.CallsPerS <= 0 ||
		res.FloorCallsPerS <= 0 || res.FloorP50us <= 0 || res.Ratio <= 0 || res.P50Ratio <= 0 ||
		res.CPUusPerCall <= 0 || res.FloorCPUusPerCall <= 0 || res.CPURatio <= 0 {
		t.Errorf("result %+v", res)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]float64
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"calls", "concurrency", "p50_us", "p99_us", "calls_per_s", "floor_calls_per_s", "floor_p50_us", "ratio", "p50_ratio", "cpu_us_per_call", "floor_cpu_us_per_call", "cpu_ratio"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
}

func TestRPCConfig(t *testing.T) {
	for _, c := range []RPCConfig{{Calls: -1}, {Concurrency: -2}, {Keys: -1}} {
		if _, err := RPC(context.Background(), c); err == nil {
			t.Errorf("RPC(%+v) succeeded", c)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if p := percentile(d, 0.5); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(d, 0.99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(d[:1], 0.99); p != 1 {
		t.Errorf("p99 of one = %v", p)
	}
}
