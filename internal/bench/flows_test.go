package bench

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Flows(ctx, FlowsConfig{Subscribers: 6, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	// 7 flows per subscriber, LLDP and the DHCP trap of the one S-tag; 5
	// OLT and 5 ONU flows per subscriber and the 2 NNI traps.
	if res.Subscribers != 6 || res.LogicalFlows != 6*7+2 || res.DeviceFlows != 6*10+2 || !res.PonSimChecked ||
		res.Seconds <= 0 || res.FlowsPerS <= 0 {
		t.Errorf("result %+v", res)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"subscribers", "logical_flows", "device_flows", "seconds", "flows_per_s"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
}

func TestFlowsConfig(t *testing.T) {
	for _, c := range []FlowsConfig{{Subscribers: 0}, {Subscribers: 1 << 20}, {Subscribers: 1, Concurrency: -1}, {Subscribers: 1, Server: "127.0.0.1:1"}} {
		if _, err := Flows(context.Background(), c); err == nil {
			t.Errorf("Flows(%+v) succeeded", c)
		}
	}
}

// TestActivation runs `volt bench activation` small: 2 OLTs × 2 PONs × 4
// ONUs, every one counted.
func TestActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Activation(ctx, ActivationConfig{OLTs: 2, PONPorts: 2, ONUsPerPON: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.OLTs != 2 || res.ONUs != 16 || res.Seconds <= 0 || res.ONUsPerS <= 0 || res.CoreRSSMiB <= 0 {
		t.Errorf("result %+v", res)
	}
}

func TestActivationConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  ActivationConfig
		want string
	}{
		{ActivationConfig{OLTs: 0, PONPorts: 1, ONUsPerPON: 1}, "must be positive"},
		{ActivationConfig{OLTs: 1, PONPorts: 17, ONUsPerPON: 1}, "bench activation: --pon-ports 17 out of range 1..16"},
		{ActivationConfig{OLTs: 1, PONPorts: 1, ONUsPerPON: 129, Server: "127.0.0.1:1", PonSims: []string{"127.0.0.1:2"}},
			"bench activation: --onus-per-pon 129 out of range 1..128"},
	} {
		_, err := Activation(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Activation(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestFlowsLayout(t *testing.T) {
	for _, tc := range []struct{ n, pons, onus int }{
		{1, 1, 1}, {64, 1, 64}, {65, 2, 64}, {1024, 16, 64}, {1025, 16, 65}, {1500, 16, 94}, {2048, 16, 128},
	} {
		pons, onus := FlowsLayout(tc.n)
		if pons != tc.pons || onus != tc.onus || pons*onus < tc.n {
			t.Errorf("FlowsLayout(%d) = %d × %d, want %d × %d", tc.n, pons, onus, tc.pons, tc.onus)
		}
	}
}

func TestForEach(t *testing.T) {
	var n atomic.Int64
	if err := forEach(context.Background(), 100, 7, func(context.Context, int) error { n.Add(1); return nil }); err != nil || n.Load() != 100 {
		t.Errorf("ran %d of 100: %v", n.Load(), err)
	}
	boom := errors.New("boom")
	n.Store(0)
	err := forEach(context.Background(), 1000, 3, func(_ context.Context, i int) error {
		n.Add(1)
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n.Load() >= 1000 {
		t.Errorf("after an error: ran %d, err %v", n.Load(), err)
	}
}
