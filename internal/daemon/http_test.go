package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/logging"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// /readyz and a gRPC port's health read one readiness: a part of the
// port's component that is not ready makes both say so, a part of
// another component only /readyz; /healthz stays 200 throughout.
func TestReadyzAndGRPCHealthAgree(t *testing.T) {
	tel := daemon.NewTelemetry()
	addr, stop, err := tel.ServeHTTP(context.Background(), "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	base := "http://" + addr

	srv, err := daemon.ListenGRPC("127.0.0.1:0", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	srv.ReportTo(tel.Readiness, "part")
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "part/serving") {
		t.Fatalf("/readyz before Serve: %d %q, want 503 naming part/serving", code, body)
	}
	cc, _ := serveGRPC(t, srv)
	hc := healthpb.NewHealthClient(cc)
	state := func(code int, st healthpb.HealthCheckResponse_ServingStatus, part string) func() error {
		return func() error {
			got, body := get(t, base+"/readyz")
			if got != code || !strings.Contains(body, part) {
				return fmt.Errorf("/readyz %d %q, want %d naming %q", got, body, code, part)
			}
			r, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
			if err != nil {
				return err
			}
			if r.GetStatus() != st {
				return fmt.Errorf("health %s, want %s", r.GetStatus(), st)
			}
			return nil
		}
	}
	testkit.Eventually(t, "ready", state(http.StatusOK, healthpb.HealthCheckResponse_SERVING, "ok"))

	tel.Readiness.Set("part/bus", errors.New("bus down"))
	testkit.Eventually(t, "the port's part not ready", state(http.StatusServiceUnavailable, healthpb.HealthCheckResponse_NOT_SERVING, "part/bus: bus down"))
	tel.Readiness.Set("part/bus", nil)
	tel.Readiness.Set("other/thing", errors.New("away"))
	testkit.Eventually(t, "another component's part not ready", state(http.StatusServiceUnavailable, healthpb.HealthCheckResponse_SERVING, "other/thing: away"))
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	tel.Readiness.Set("other/thing", nil)
	testkit.Eventually(t, "ready again", state(http.StatusOK, healthpb.HealthCheckResponse_SERVING, "ok"))
	if code, body := get(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d, no go_goroutines", code)
	}
}

// A port that cannot be bound fails at once, with the address.
func TestHTTPPortInUse(t *testing.T) {
	tel := daemon.NewTelemetry()
	addr, stop, err := tel.ServeHTTP(context.Background(), "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, _, err := tel.ServeHTTP(context.Background(), addr, nil); err == nil || !strings.Contains(err.Error(), addr+": address already in use") {
		t.Errorf("second bind: %v", err)
	}
}
