package core_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// BenchmarkScrape10kONUs measures a /metrics scrape over HTTP of a core
// holding 10 OLTs × 16 PONs × 64 ONUs (10,240 ONUs, the size of `volt
// bench activation --olts 10 --pon-ports 16 --onus-per-pon 64`), loaded
// from its store at start as after a restart. Target: ≤ 100 ms. Run:
//
//	go test -run '^$' -bench Scrape10kONUs -benchtime 50x ./internal/core/
func BenchmarkScrape10kONUs(b *testing.B) {
	const olts, pons, onus = 10, 16, 64
	kv := kvstore.NewMemory()
	st := store.New(kv, "volt")
	ctx := context.Background()
	for o := range olts {
		olt := &voltv1.Device{
			Id: fmt.Sprintf("olt%02d", o), Type: "ponsim_olt", Root: true,
			HostAndPort: fmt.Sprintf("127.0.0.1:%d", 50060+o), SerialNumber: fmt.Sprintf("PSMO%08d", o),
			AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
			ConnectStatus: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE,
		}
		if err := st.Devices.Put(ctx, olt.GetId(), olt); err != nil {
			b.Fatal(err)
		}
		for p := range pons {
			for n := range onus {
				onu := &voltv1.Device{
					Id: fmt.Sprintf("%s-onu-%02d-%02d", olt.GetId(), p, n), Type: "ponsim_onu",
					ParentId: olt.GetId(), ParentPortNo: uint32(p + 1), SerialNumber: fmt.Sprintf("PSMO%02d%02d%04d", o, p, n),
					AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
					ConnectStatus: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE,
				}
				if err := st.Devices.Put(ctx, onu.GetId(), onu); err != nil {
					b.Fatal(err)
				}
			}
		}
	}

	brokers := startBroker(b)
	httpAddr := testpeer.ReserveAddr(b)
	tel := daemon.NewTelemetry()
	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- core.Run(runCtx, core.Config{
			NBI: "127.0.0.1:0", KV: kv, Brokers: brokers,
			Telemetry: tel, HTTP: httpAddr,
			Ready: func(addr string) { ready <- addr },
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("core stopped with %v", err)
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		b.Fatalf("core stopped: %v", err)
	case <-time.After(60 * time.Second):
		b.Fatal("core did not start")
	}

	scrape := func() (string, error) {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("status %d", resp.StatusCode)
		}
		return string(body), err
	}
	body, err := scrape()
	if err != nil {
		b.Fatal(err)
	}
	want := fmt.Sprintf(`volt_devices{admin_state="ADMIN_STATE_ENABLED",component="core",connect_status="CONNECT_STATUS_REACHABLE",oper_status="OPER_STATUS_ACTIVE",type="ponsim_onu"} %d`, olts*pons*onus)
	if !strings.Contains(body, want) {
		b.Fatalf("scrape lacks %s:\n%s", want, grep(body, "volt_devices"))
	}

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := scrape(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	// The collecting alone, without HTTP and text encoding: what the
	// core spends on a scrape, apart from the machine's load.
	gathers := make([]time.Duration, 0, 50)
	for range 50 {
		start := time.Now()
		if _, err := tel.Registry.Gather(); err != nil {
			b.Fatal(err)
		}
		gathers = append(gathers, time.Since(start))
	}
	sort.Slice(gathers, func(i, j int) bool { return gathers[i] < gathers[j] })
	b.ReportMetric(float64(gathers[len(gathers)/2].Microseconds())/1000, "gather_p50_ms")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(len(body)), "bytes/scrape")
}
