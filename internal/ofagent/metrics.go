package ofagent

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openvolt/openvolt/internal/metrics"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// nTypes is the message types counted one by one (OFPT_HELLO to
// OFPT_METER_MOD); any other counts as "other".
const nTypes = int(ofp13.TypeMeterMod) + 1

// ofMetrics are the agent's OpenFlow metrics: connections open and
// messages by direction and type. The counters are made up front so that
// counting a message is one atomic add.
type ofMetrics struct {
	conns prometheus.Gauge
	msgs  [2][nTypes + 1]prometheus.Counter // [received, sent][type]
}

const (
	received = 0
	sent     = 1
)

func newOFMetrics(reg prometheus.Registerer) *ofMetrics {
	m := &ofMetrics{
		conns: metrics.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "openflow", Name: "connections",
			Help: "OpenFlow connections open (past the hello), over all logical devices.",
		})),
	}
	vec := metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "openflow", Name: "messages_total",
		Help: "OpenFlow messages received from and sent to controllers, by direction and type.",
	}, []string{"direction", "type"}))
	for d, dir := range []string{"received", "sent"} {
		for t := range nTypes {
			m.msgs[d][t] = vec.WithLabelValues(dir, ofp13.MsgType(t).String())
		}
		m.msgs[d][nTypes] = vec.WithLabelValues(dir, "other")
	}
	return m
}

// message counts one message of direction dir whose encoding is b.
func (m *ofMetrics) message(dir int, b []byte) {
	if m == nil || len(b) < 2 {
		return
	}
	m.msgs[dir][min(int(b[1]), nTypes)].Inc()
}

// connection counts a connection opened (+1) or closed (-1).
func (m *ofMetrics) connection(delta float64) {
	if m != nil {
		m.conns.Add(delta)
	}
}
