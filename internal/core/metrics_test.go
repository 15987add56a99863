package core_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/embedetcd"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// telemetryCore is a core serving /metrics and the probes over HTTP, on
// an etcd and a broker the test can stop and start again.
type telemetryCore struct {
	t        *testing.T
	http     string // host:port of /metrics, /healthz, /readyz
	nbiAddr  string
	nbi      voltv1.VoltServiceClient
	brokers  string
	broker   *broker.Broker
	etcdDir  string
	etcdURL  string
	etcd     *embedetcd.Server
	registry *daemon.Telemetry
}

func startEmbeddedEtcd(t *testing.T, dir, url string) *embedetcd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{DataDir: dir, ClientURL: url, UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	return srv
}

func newTelemetryCore(t *testing.T) *telemetryCore {
	t.Helper()
	c := &telemetryCore{t: t, etcdDir: filepath.Join(t.TempDir(), "etcd"), etcdURL: "http://" + testpeer.ReserveAddr(t)}
	c.brokers = testpeer.ReserveAddr(t)
	c.startBroker()
	c.etcd = startEmbeddedEtcd(t, c.etcdDir, c.etcdURL)
	t.Cleanup(func() {
		if c.etcd != nil {
			c.etcd.Close()
		}
	})
	kv, err := kvstore.NewEtcd(context.Background(), kvstore.Config{Endpoints: c.etcd.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })

	c.http = testpeer.ReserveAddr(t)
	c.registry = daemon.NewTelemetry()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- core.Run(ctx, core.Config{
			NBI:            "127.0.0.1:0",
			KV:             kv,
			Brokers:        []string{c.brokers},
			AdapterTimeout: 5 * time.Second,
			Telemetry:      c.registry,
			HTTP:           c.http,
			Ready:          func(addr string) { ready <- addr },
		})
	}()
	select {
	case c.nbiAddr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("core stopped: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("core did not start")
	}
	cc, err := grpc.NewClient(c.nbiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("core stopped with %v", err)
		}
	})
	c.nbi = voltv1.NewVoltServiceClient(cc)
	return c
}

func (c *telemetryCore) startBroker() {
	b, err := broker.Start(context.Background(), broker.Config{Listen: c.brokers, Partitions: 3})
	if err != nil {
		c.t.Fatalf("start broker on %s: %v", c.brokers, err)
	}
	c.broker = b
	c.t.Cleanup(func() { b.Close() })
}

// get fetches path from the core's HTTP port.
func (c *telemetryCore) get(path string) (int, string, error) {
	resp, err := http.Get("http://" + c.http + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// scrape returns /metrics, parsed.
func (c *telemetryCore) scrape() (string, map[string]*dto.MetricFamily) {
	c.t.Helper()
	code, body, err := c.get("/metrics")
	if err != nil || code != http.StatusOK {
		c.t.Fatalf("GET /metrics: %d %v", code, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		c.t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return body, fams
}

// value returns the value of the series of name whose labels include
// labels, or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			if have[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// promtoolCheck runs Prometheus's own linter over a scrape.
func promtoolCheck(t *testing.T, body string) {
	t.Helper()
	promtool := testpeer.Program(t, "promtool", "apt-get install prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// /metrics passes promtool, and its counters follow real calls: NBI
// requests by method and code, devices by type and state, kvstore
// operations, message-bus calls served.
func TestMetricsFollowCalls(t *testing.T) {
	c := newTelemetryCore(t)
	testkit.Eventually(t, "ready", func() error {
		code, body, err := c.get("/readyz")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("/readyz: %d %v %s", code, err, body)
		}
		return nil
	})
	if code, body, err := c.get("/healthz"); err != nil || code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q %v", code, body, err)
	}

	body, fams := c.scrape()
	promtoolCheck(t, body)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "volt_logical_flows", "volt_msgbus_resent_requests_total"} {
		if fams[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	getDevice := map[string]string{"component": "core", "method": "volt.v1.VoltService/GetDevice", "code": "NotFound"}
	before := max(value(fams, "volt_nbi_requests_total", getDevice), 0)
	puts := max(value(fams, "volt_kvstore_operations_total", map[string]string{"op": "put"}), 0)

	ctx := context.Background()
	if _, err := c.nbi.GetDevice(ctx, &voltv1.ID{Id: "no-such-device"}); err == nil {
		t.Fatal("GetDevice of an unknown device succeeded")
	}
	registerType(t, []string{c.brokers}, "metrics_olt")
	for i := range 3 {
		if _, err := c.nbi.CreateDevice(ctx, &voltv1.Device{Type: "metrics_olt", HostAndPort: fmt.Sprintf("10.0.0.%d:50060", i+1)}); err != nil {
			t.Fatal(err)
		}
	}

	body, fams = c.scrape()
	promtoolCheck(t, body)
	lag := map[string]string{"group": core.DefaultTopic, "topic": core.DefaultTopic}
	if got := value(fams, "volt_msgbus_consumer_lag_records", lag); got < 0 {
		t.Errorf("no volt_msgbus_consumer_lag_records%v:\n%s", lag, grep(body, "lag"))
	}
	if got := value(fams, "volt_nbi_requests_total", getDevice); got != before+1 {
		t.Errorf("volt_nbi_requests_total%v = %v, want %v", getDevice, got, before+1)
	}
	create := map[string]string{"method": "volt.v1.VoltService/CreateDevice", "code": "OK"}
	if got := value(fams, "volt_nbi_requests_total", create); got != 3 {
		t.Errorf("volt_nbi_requests_total%v = %v, want 3", create, got)
	}
	if got := value(fams, "volt_nbi_request_duration_seconds", map[string]string{"method": "volt.v1.VoltService/CreateDevice"}); got != 3 {
		t.Errorf("volt_nbi_request_duration_seconds has %v CreateDevice samples, want 3", got)
	}
	devs := map[string]string{"type": "metrics_olt", "admin_state": "ADMIN_STATE_PREPROVISIONED"}
	if got := value(fams, "volt_devices", devs); got != 3 {
		t.Errorf("volt_devices%v = %v, want 3\n%s", devs, got, grep(body, "volt_devices"))
	}
	if got := value(fams, "volt_kvstore_operations_total", map[string]string{"op": "put"}); got < puts+3 {
		t.Errorf("volt_kvstore_operations_total{op=put} = %v after 3 creates, want at least %v", got, puts+3)
	}
	reg := map[string]string{"method": "adapter.v1.CoreService/Register", "topic": core.DefaultTopic, "code": "OK"}
	if got := value(fams, "volt_msgbus_handled_total", reg); got != 1 {
		t.Errorf("volt_msgbus_handled_total%v = %v, want 1\n%s", reg, got, grep(body, "volt_msgbus_handled"))
	}
}

// grep returns the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// /readyz, and the NBI's gRPC health with it, fail while etcd is down and
// while the broker is down, and recover when each is back.
func TestReadyzFollowsDependencies(t *testing.T) {
	c := newTelemetryCore(t)
	cc, err := grpc.NewClient(c.nbiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	health := healthpb.NewHealthClient(cc)
	want := func(code int, part string, st healthpb.HealthCheckResponse_ServingStatus) func() error {
		return func() error {
			got, body, err := c.get("/readyz")
			if err != nil {
				return err
			}
			if got != code || !strings.Contains(body, part) {
				return fmt.Errorf("/readyz: %d %q, want %d naming %q", got, body, code, part)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			r, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return err
			}
			if r.GetStatus() != st {
				return fmt.Errorf("gRPC health %s, want %s", r.GetStatus(), st)
			}
			return nil
		}
	}
	ready := want(http.StatusOK, "ok", healthpb.HealthCheckResponse_SERVING)
	testkit.Eventually(t, "ready", ready)

	c.etcd.Close()
	c.etcd = nil
	testkit.Eventually(t, "not ready while etcd is down", want(http.StatusServiceUnavailable, "core/etcd", healthpb.HealthCheckResponse_NOT_SERVING))
	if code, _, err := c.get("/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("/healthz while etcd is down: %d %v, want 200 (alive)", code, err)
	}
	c.etcd = startEmbeddedEtcd(t, c.etcdDir, c.etcdURL)
	testkit.Eventually(t, "ready again with etcd back", ready)

	c.broker.Close()
	testkit.Eventually(t, "not ready while the broker is down", want(http.StatusServiceUnavailable, "core/broker", healthpb.HealthCheckResponse_NOT_SERVING))
	c.startBroker()
	testkit.Eventually(t, "ready again with the broker back", ready)
}
