package core

import (
	"github.com/prometheus/client_golang/prometheus"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/device"
	"github.com/openvolt/openvolt/internal/core/flows"
	"github.com/openvolt/openvolt/internal/metrics"
	"github.com/openvolt/openvolt/msgbus"
)

// registerMetrics registers the core's collectors that read its state at
// scrape time: devices by type and states, table sizes, the message bus's
// counters and consumer lag, dropped events. It returns what to close.
func (p *parts) registerMetrics(reg prometheus.Registerer, cfg Config, index *device.Index, perDevice bool) (closeFn func()) {
	metrics.Register(reg, &deviceCollector{index: index})
	metrics.Register(reg, &tableCollector{flows: p.flows, perDevice: perDevice})
	metrics.Register(reg, metrics.BusStats{
		Conn: func() *msgbus.Conn {
			p.kafka.mu.RLock()
			defer p.kafka.mu.RUnlock()
			return p.kafka.conn
		},
		Server: func() *msgbus.Server {
			p.kafka.mu.RLock()
			defer p.kafka.mu.RUnlock()
			return p.kafka.server
		},
		Topic: cfg.Topic,
	})
	metrics.Register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "core", Name: "events_dropped_total",
		Help: "Change events dropped because the queue to Kafka was full.",
	}, func() float64 { return float64(p.kafka.droppedEvents()) }))
	lag := metrics.NewLag(cfg.Brokers, cfg.Topic) // the request topic's consumer group is its name
	metrics.Register(reg, lag)
	return lag.Close
}

var devicesDesc = prometheus.NewDesc("volt_devices",
	"Devices known to the core, by type, admin state, oper status and connect status.",
	[]string{"type", "admin_state", "oper_status", "connect_status"}, nil)

// deviceCollector counts the devices of the in-memory index at scrape
// time: a series per combination of type and states, none per device.
type deviceCollector struct{ index *device.Index }

type deviceKey struct {
	typ     string
	admin   voltv1.AdminState
	oper    voltv1.OperStatus
	connect voltv1.ConnectStatus
}

func (c *deviceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- devicesDesc }

func (c *deviceCollector) Collect(ch chan<- prometheus.Metric) {
	counts := make(map[deviceKey]int)
	c.index.Each(func(d *voltv1.Device) {
		counts[deviceKey{d.GetType(), d.GetAdminState(), d.GetOperStatus(), d.GetConnectStatus()}]++
	})
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(n),
			k.typ, k.admin.String(), k.oper.String(), k.connect.String())
	}
}

// tableCollector reports the logical flow, group and meter tables' sizes:
// totals, or per logical device when perDevice (small deployments).
type tableCollector struct {
	flows     *flows.Manager
	perDevice bool
}

var (
	ldTablesDesc = prometheus.NewDesc("volt_logical_devices_with_tables",
		"Logical devices whose flow tables are loaded in memory.", nil, nil)
	flowsDesc   = prometheus.NewDesc("volt_logical_flows", "Flows in the logical devices' flow tables.", nil, nil)
	groupsDesc  = prometheus.NewDesc("volt_logical_groups", "Groups in the logical devices' group tables.", nil, nil)
	metersDesc  = prometheus.NewDesc("volt_logical_meters", "Meters in the logical devices' meter tables.", nil, nil)
	ldLabel     = []string{"logical_device"}
	flowsLDDesc = prometheus.NewDesc("volt_logical_flows", "Flows in the logical devices' flow tables.", ldLabel, nil)
	groupsLDDsc = prometheus.NewDesc("volt_logical_groups", "Groups in the logical devices' group tables.", ldLabel, nil)
	metersLDDsc = prometheus.NewDesc("volt_logical_meters", "Meters in the logical devices' meter tables.", ldLabel, nil)
)

func (c *tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ldTablesDesc
	if c.perDevice {
		ch <- flowsLDDesc
		ch <- groupsLDDsc
		ch <- metersLDDsc
		return
	}
	ch <- flowsDesc
	ch <- groupsDesc
	ch <- metersDesc
}

func (c *tableCollector) Collect(ch chan<- prometheus.Metric) {
	sizes := c.flows.TableSizes()
	ch <- prometheus.MustNewConstMetric(ldTablesDesc, prometheus.GaugeValue, float64(len(sizes)))
	if c.perDevice {
		for _, s := range sizes {
			ch <- prometheus.MustNewConstMetric(flowsLDDesc, prometheus.GaugeValue, float64(s.Flows), s.LogicalDevice)
			ch <- prometheus.MustNewConstMetric(groupsLDDsc, prometheus.GaugeValue, float64(s.Groups), s.LogicalDevice)
			ch <- prometheus.MustNewConstMetric(metersLDDsc, prometheus.GaugeValue, float64(s.Meters), s.LogicalDevice)
		}
		return
	}
	var f, g, m int
	for _, s := range sizes {
		f, g, m = f+s.Flows, g+s.Groups, m+s.Meters
	}
	ch <- prometheus.MustNewConstMetric(flowsDesc, prometheus.GaugeValue, float64(f))
	ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(g))
	ch <- prometheus.MustNewConstMetric(metersDesc, prometheus.GaugeValue, float64(m))
}
