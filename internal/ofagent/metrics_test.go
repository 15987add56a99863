package ofagent

import (
	"fmt"
	"testing"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
	"github.com/openvolt/openvolt/internal/testkit"
)

// gathered returns the value of the series of name whose labels include
// labels, or -1.
func gathered(t *testing.T, tel *daemon.Telemetry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := tel.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// The agent counts its connections and the messages of each type, both
// ways, and is ready once it has read the logical devices.
func TestMetricsCountMessages(t *testing.T) {
	tel := daemon.NewTelemetry()
	_, ag := withFake(t, func(c *Config) { c.Telemetry = tel })
	if err := tel.Readiness.Check(""); err != nil {
		t.Fatalf("agent ready but readiness says %v", err)
	}
	c := dialOF(t, ag.listen)
	testkit.Eventually(t, "one connection", func() error {
		if got := gathered(t, tel, "volt_openflow_connections", nil); got != 1 {
			return fmt.Errorf("volt_openflow_connections = %v, want 1", got)
		}
		return nil
	})
	for i := range 3 {
		c.send(flowMod(ofp13.FlowAdd, uint16(100+i), 1, 2))
	}
	c.barrier()
	for _, tc := range []struct {
		dir, typ string
		want     float64
	}{
		{"received", "OFPT_HELLO", 1},
		{"received", "OFPT_FLOW_MOD", 3},
		{"received", "OFPT_BARRIER_REQUEST", 1},
		{"sent", "OFPT_HELLO", 1},
		{"sent", "OFPT_BARRIER_REPLY", 1},
	} {
		labels := map[string]string{"component": "ofagent", "direction": tc.dir, "type": tc.typ}
		if got := gathered(t, tel, "volt_openflow_messages_total", labels); got != tc.want {
			t.Errorf("volt_openflow_messages_total%v = %v, want %v", labels, got, tc.want)
		}
	}
	c.nc.Close()
	testkit.Eventually(t, "no connection", func() error {
		if got := gathered(t, tel, "volt_openflow_connections", nil); got != 0 {
			return fmt.Errorf("volt_openflow_connections = %v, want 0", got)
		}
		return nil
	})
}
