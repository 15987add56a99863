package adapter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
	"github.com/openvolt/openvolt/msgbus"
)

func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// An adapter with --http is not ready until the core has taken its
// registration, and counts its calls to the core by method, topic and
// code: the ones that timed out while no core answered, then the ones
// that succeeded.
func TestAdapterReadinessAndBusMetrics(t *testing.T) {
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	httpAddr := testpeer.ReserveAddr(t)
	a, err := adapter.New(adapter.Config{
		Brokers:     b.Addrs(),
		ID:          "acme_olt",
		DeviceTypes: []*voltv1.DeviceType{{Id: "acme_olt"}},
		CoreTopic:   "metrics.core",
		Heartbeat:   50 * time.Millisecond,
		CallTimeout: 300 * time.Millisecond,
		HTTP:        httpAddr,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, &rebooter{adopter{a: a}}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	metric := func(labels string) (float64, error) {
		code, body, err := httpGet("http://" + httpAddr + "/metrics")
		if err != nil || code != http.StatusOK {
			return 0, fmt.Errorf("/metrics: %d %v", code, err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		for _, m := range fams["volt_msgbus_calls_total"].GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			if strings.Join(ls, ",") == labels {
				return m.GetCounter().GetValue(), nil
			}
		}
		return 0, fmt.Errorf("no volt_msgbus_calls_total{%s} in\n%s", labels, body)
	}
	const register = "component=acme_olt,method=adapter.v1.CoreService/Register,topic=metrics.core"
	testkit.Eventually(t, "not ready, registrations timing out", func() error {
		code, body, err := httpGet("http://" + httpAddr + "/readyz")
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "acme_olt/registered") {
			return fmt.Errorf("/readyz: %d %q %v", code, body, err)
		}
		n, err := metric("code=DeadlineExceeded," + register)
		if err == nil && n < 1 {
			err = fmt.Errorf("%v timed-out registrations", n)
		}
		return err
	})

	srv, err := msgbus.NewServer(msgbus.ServerConfig{Brokers: b.Addrs(), Topic: "metrics.core"})
	if err != nil {
		t.Fatal(err)
	}
	adapterv1.RegisterCoreServiceServer(srv, &fakeCore{})
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	testkit.Eventually(t, "ready, registrations answered", func() error {
		code, body, err := httpGet("http://" + httpAddr + "/readyz")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("/readyz: %d %q %v", code, body, err)
		}
		n, err := metric("code=OK," + register)
		if err == nil && n < 1 {
			err = fmt.Errorf("%v answered registrations", n)
		}
		return err
	})
}
