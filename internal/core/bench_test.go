package core_test

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
	"github.com/openvolt/openvolt/msgbus"
)

// BenchmarkListDevices10k measures ListDevices through gRPC with 10,000
// devices in a core backed by a real (embedded) etcd, and the core's heap
// per device. Run:
//
//	go test -run '^$' -bench ListDevices10k -benchtime 50x ./internal/core/
func BenchmarkListDevices10k(b *testing.B) {
	const n = 10000
	brokers := startBroker(b)
	kv := kvstoretest.NewEtcdStore(b)
	heapBefore := heapAlloc()
	nbi, stop := startCore(b, kv, brokers, 5*time.Second)
	defer stop()
	registerType(b, brokers, "bench_olt") // the NBI creates only devices of a known type

	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := nbi.CreateDevice(ctx, &voltv1.Device{Type: "bench_olt", HostAndPort: fmt.Sprintf("10.%d.%d.%d:50060", i>>16&255, i>>8&255, i&255)})
				cancel()
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	heapAfter := heapAlloc()

	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		devs, err := nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{})
		lat = append(lat, time.Since(start))
		if err != nil || len(devs.GetItems()) != n {
			b.Fatalf("list: %d devices, %v", len(devs.GetItems()), err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	// The heap includes the embedded etcd serving the same process, so the
	// core alone uses less than this.
	b.ReportMetric(float64(heapAfter-heapBefore)/n/1024, "heap_KiB/device")
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// registerType registers an adapter serving typ, so that devices of that
// type can be created; nothing answers on its topic.
func registerType(tb testing.TB, brokers []string, typ string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: brokers, Name: typ + "-registrar"})
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	_, err = adapterv1.NewCoreServiceClient(conn.To(core.DefaultTopic)).Register(ctx, &adapterv1.RegisterRequest{
		Adapter:     &voltv1.Adapter{Id: typ + "-adapter", Vendor: "test", Version: "1", Endpoint: typ},
		DeviceTypes: []*voltv1.DeviceType{{Id: typ}},
	})
	if err != nil {
		tb.Fatalf("register %s: %v", typ, err)
	}
}
