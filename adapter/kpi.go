package adapter

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// KPI defaults: what a device without a PM configuration gets.
const (
	DefaultKpisTopic   = "volt.kpis"
	DefaultPmInterval  = 15 * time.Second
	kpiCollectTimeout  = 10 * time.Second
	kpiPublisherBuffer = 1 << 16
)

// PM counter groups.
const (
	// GroupPort is the Ethernet ports: NNI, UNI.
	GroupPort = "port"
	// GroupPON is the PON ports.
	GroupPON = "pon"
)

// PmGroups lists the valid PM groups, sorted.
var PmGroups = []string{GroupPON, GroupPort}

// DefaultPmConfig is the PM configuration of a device that has none stored:
// enabled, every DefaultPmInterval, every group.
func DefaultPmConfig(deviceID string) *voltv1.PmConfig {
	return &voltv1.PmConfig{DeviceId: deviceID, Enabled: true, Interval: durationpb.New(DefaultPmInterval), Groups: slices.Clone(PmGroups)}
}

// KpiCollector is implemented by handlers whose devices have counters: the
// SDK calls CollectKpis for each device it adopted or reconciled (d is the
// device as the core sent it then), every PM interval of the device (its
// PmConfig, DefaultPmConfig until the core sends another), and publishes
// the event on volt.kpis keyed by the device id. The SDK fills in
// device_id, time (unless set) and interval and keeps only the ports of
// the configured groups. An error skips one interval.
type KpiCollector interface {
	CollectKpis(ctx context.Context, d *voltv1.Device) (*voltv1.KpiEvent, error)
}

// kpis runs one loop per device that collects and publishes its KPIs.
type kpis struct {
	c   KpiCollector
	pub *msgbus.Publisher
	w   *work
	log *slog.Logger

	mu      sync.Mutex // guards devices, configs
	devices map[string]*pmDevice
	configs map[string]*voltv1.PmConfig // by device id: the core's, when it sent one
}

// pmDevice is one device's KPI loop; dev and cfg are guarded by kpis.mu.
type pmDevice struct {
	dev     *voltv1.Device
	cfg     *voltv1.PmConfig
	changed chan struct{} // capacity 1: cfg changed
}

func newKpis(c KpiCollector, pub *msgbus.Publisher, w *work, log *slog.Logger) *kpis {
	return &kpis{c: c, pub: pub, w: w, log: log, devices: make(map[string]*pmDevice), configs: make(map[string]*voltv1.PmConfig)}
}

// track starts the KPI loop of a device, unless it runs (then it keeps
// the newer device).
func (k *kpis) track(dev *voltv1.Device) {
	if k == nil {
		return
	}
	id := dev.GetId()
	dev = proto.Clone(dev).(*voltv1.Device)
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := k.devices[id]; ok {
		d.dev = dev
		return
	}
	cfg := k.configs[id]
	if cfg == nil {
		cfg = DefaultPmConfig(id)
	}
	d := &pmDevice{dev: dev, cfg: cfg, changed: make(chan struct{}, 1)}
	k.devices[id] = d
	k.w.goTask(id+"/kpis", func(ctx context.Context) { k.loop(ctx, id, d) })
}

// untrack ends the KPI loop of a device.
func (k *kpis) untrack(id string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	d := k.devices[id]
	delete(k.devices, id)
	delete(k.configs, id)
	k.mu.Unlock()
	if d != nil {
		k.w.forget(id + "/kpis") // ends the loop without waiting: this may run in a handler's call
	}
}

// set gives a device its PM configuration, kept for when the device is
// adopted or reconciled if it is not yet.
func (k *kpis) set(cfg *voltv1.PmConfig) {
	id := cfg.GetDeviceId()
	cfg = proto.Clone(cfg).(*voltv1.PmConfig)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.configs[id] = cfg
	d := k.devices[id]
	if d == nil {
		return
	}
	d.cfg = cfg
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (k *kpis) config(d *pmDevice) (*voltv1.Device, *voltv1.PmConfig) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return d.dev, d.cfg
}

// loop publishes a device's KPIs every interval while its configuration
// says so. The first one comes after a random part of the interval, so
// that thousands of devices adopted at once spread their work.
func (k *kpis) loop(ctx context.Context, id string, d *pmDevice) {
	defer func() {
		k.mu.Lock()
		if k.devices[id] == d {
			delete(k.devices, id) // the device was forgotten: a reconcile tracks it again
		}
		k.mu.Unlock()
	}()
	first := true
	for {
		dev, cfg := k.config(d)
		var tick <-chan time.Time
		var t *time.Timer
		if cfg.GetEnabled() {
			wait := cfg.GetInterval().AsDuration()
			if first {
				wait = rand.N(wait) + time.Millisecond
				first = false
			}
			t = time.NewTimer(wait)
			tick = t.C
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-d.changed:
			first = true // a new interval starts afresh
			if t != nil {
				t.Stop()
			}
			continue
		case <-tick:
		}
		k.publishOnce(ctx, dev, cfg)
	}
}

// publishOnce collects one device's KPIs and queues them for volt.kpis.
func (k *kpis) publishOnce(ctx context.Context, dev *voltv1.Device, cfg *voltv1.PmConfig) bool {
	id := dev.GetId()
	cctx, cancel := context.WithTimeout(ctx, kpiCollectTimeout)
	ev, err := k.c.CollectKpis(cctx, dev)
	cancel()
	if err != nil {
		k.log.Debug("KPIs not collected", "device", id, "err", err)
		return false
	}
	if ev == nil {
		return false
	}
	ev.DeviceId = id
	if ev.Time == nil {
		ev.Time = timestamppb.Now()
	}
	ev.Interval = cfg.GetInterval()
	if len(cfg.GetGroups()) > 0 && len(cfg.GetGroups()) < len(PmGroups) {
		ev.Ports = slices.DeleteFunc(ev.Ports, func(p *voltv1.PortKpi) bool { return !slices.Contains(cfg.GetGroups(), p.GetGroup()) })
	}
	return k.pub.Publish(ev, id)
}
