package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/openvolt/openvolt/internal/metrics"
)

// DefaultHTTP is where `volt core` and `volt up` serve /metrics, /healthz
// and /readyz unless told otherwise.
const DefaultHTTP = "127.0.0.1:50080"

// AddHTTPFlag registers --http (env VOLT_HTTP) into addr; def is the
// default ("" leaves the HTTP port off).
func AddHTTPFlag(fs *pflag.FlagSet, addr *string, def string) {
	usage := "HTTP listen address of /metrics (Prometheus), /healthz and /readyz"
	if def == "" {
		usage += " (empty: none)"
	}
	fs.StringVar(addr, "http", Env("VOLT_HTTP", def), usage)
}

// HTTPServer serves a process's probes and metrics:
//
//	/metrics  Prometheus text format, from the process's registry
//	/healthz  200 while the process runs (alive)
//	/readyz   200 when every part is ready, else 503 listing what is not
type HTTPServer struct {
	srv   *http.Server
	addr  string
	errc  chan error
	ready *Readiness
}

// ListenHTTP binds addr (failing at once when it cannot) and serves until
// Close; reg may be nil (no /metrics), ready may be nil (always ready).
func ListenHTTP(addr string, reg *prometheus.Registry, ready *Readiness, log *slog.Logger) (*HTTPServer, error) {
	lis, err := Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	if ready == nil {
		ready = NewReadiness()
	}
	s := &HTTPServer{addr: lis.Addr().String(), errc: make(chan error, 1), ready: ready}
	mux := http.NewServeMux()
	if reg != nil {
		// A collector that fails (the broker away for the lag) costs its
		// own series, not the scrape.
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if log != nil {
		s.srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	go func() { s.errc <- s.srv.Serve(lis) }()
	return s, nil
}

func (s *HTTPServer) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.ready.Check(""); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.ReplaceAll(err.Error(), "; ", "\nnot ready: "))
		return
	}
	fmt.Fprintln(w, "ok")
}

// Addr is the address the server listens on (useful with port 0).
func (s *HTTPServer) Addr() string { return s.addr }

// Close stops the server, letting requests in flight finish for a second.
func (s *HTTPServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Telemetry is what a process exposes over HTTP: its registry and its
// readiness, built once in main (or by volt up) and shared by its parts.
type Telemetry struct {
	Registry  *prometheus.Registry
	Readiness *Readiness
	// PerDevice adds per-logical-device labels to the table-size metrics
	// (small deployments only: the series grow with the devices).
	PerDevice bool
}

// NewTelemetry returns a registry with the Go runtime and process
// collectors, and an empty readiness.
func NewTelemetry() *Telemetry {
	return &Telemetry{Registry: metrics.NewRegistry(), Readiness: NewReadiness()}
}

// Registerer is where a component registers its metrics: the registry
// with a component label, or a registry nobody reads when t is nil.
func (t *Telemetry) Registerer(component string) prometheus.Registerer {
	if t == nil {
		return metrics.For(nil, component)
	}
	return metrics.For(t.Registry, component)
}

// Ready is the readiness parts report to (a private one when t is nil).
func (t *Telemetry) Ready() *Readiness {
	if t == nil || t.Readiness == nil {
		return NewReadiness()
	}
	return t.Readiness
}

// ServeHTTP serves t on addr until ctx ends or stop is called ("" serves
// nothing); it returns once the port is bound. stop ends the server and
// waits for it.
func (t *Telemetry) ServeHTTP(ctx context.Context, addr string, log *slog.Logger) (bound string, stop func(), err error) {
	if addr == "" {
		return "", func() {}, nil
	}
	s, err := ListenHTTP(addr, t.Registry, t.Readiness, log)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		_ = s.Close()
	}()
	if log != nil {
		log.Info("HTTP serving /metrics, /healthz, /readyz", "addr", s.Addr())
	}
	return s.Addr(), func() { cancel(); <-done }, nil
}
