package openolt_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
)

// BenchmarkMIBUpload1024 times a MIB reset and a full MIB upload of 1,024
// ONUs (8 PONs × 128, 4 UNIs each) through the openolt stream, as an ONU
// adapter does after activation, 128 ONUs at a time (VOLT_OMCI_IN_FLIGHT:
// another number). With VOLT_OPENOLT_ADDR
// set it drives that openolt agent instead (e.g. `volt ponsim --pon-ports
// 8 --onus-per-pon 128 --unis-per-onu 4`, whose RSS can then be read),
// activating the ONUs it discovers.
//
//	go test -run '^$' -bench MIBUpload1024 -benchtime 3x ./internal/ponsim/openolt/
func BenchmarkMIBUpload1024(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var c *oltclient.Client
	var pons, perPON int
	if addr := os.Getenv("VOLT_OPENOLT_ADDR"); addr != "" {
		var err error
		if c, err = oltclient.Dial(addr); err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		info, err := c.OLT.GetDeviceInfo(ctx, &openolt.Empty{})
		if err != nil {
			b.Fatal(err)
		}
		pons = int(info.GetPonPorts())
		pool := info.GetRanges()[0].GetPools()[0]
		perPON = int(pool.GetEnd() - pool.GetStart() + 1)
	} else {
		pons, perPON = 8, 128
		c = newBed(b, pons, perPON, face.Config{UNIsPerONU: 4}).c
	}
	onus := activateDiscovered(b, ctx, c, pons*perPON)
	var inUse uint64
	b.ResetTimer()
	var msgs atomic.Int64
	inFlight := 128
	if v, err := strconv.Atoi(os.Getenv("VOLT_OMCI_IN_FLIGHT")); err == nil && v > 0 {
		inFlight = v
	}
	sem := make(chan struct{}, inFlight)
	for range b.N {
		var wg sync.WaitGroup
		for _, onu := range onus {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := c.MIBReset(ctx, onu); err != nil {
					b.Error(err)
					return
				}
				_, n, err := c.MIBUpload(ctx, onu)
				if err != nil {
					b.Error(err)
				}
				msgs.Add(int64(n + 1))
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	inUse = ms.HeapInuse
	b.ReportMetric(float64(msgs.Load())/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(msgs.Load())/float64(b.N)/float64(len(onus)), "msgs/onu")
	b.ReportMetric(float64(inUse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(rss())/(1<<20), "rss-MiB")
}

// activateDiscovered opens the indication stream and activates the first n
// ONUs it announces.
func activateDiscovered(b testing.TB, ctx context.Context, c *oltclient.Client, n int) []oltclient.ONU {
	b.Helper()
	connect(b, ctx, c)
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	onus, err := c.ActivateDiscovered(deadline, n)
	if err != nil {
		b.Fatal(err)
	}
	return onus
}

// rss is this process's resident set size in bytes (0 if unknown).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
