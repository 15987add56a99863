package ponsimonu

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/openvolt/openvolt/adapter"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/logging"
	"github.com/openvolt/openvolt/msgbus"
)

// kpiONUs is the scale of the target: 10 OLTs × 16 PONs × 64 ONUs.
const kpiONUs = 10 * 16 * 64

// refetchEvery makes the benchmark read all counters as often as a real
// interval does: the ONUs of each of the 10 ponsims spread their KPIs over
// the 15 s interval, so each ponsim is read 15 times (statsFresh), 150
// reads of 1,024 ONUs' counters for the 10,240 ONUs.
const refetchEvery = kpiONUs / (10 * 15)

// BenchmarkKpiPublishing measures one interval's KPI work for 10,240 ONUs
// as the adapter does it: per ONU, CollectKpis (a GetStats call to ponsim
// over gRPC and the KPI event built from it) and Publish on a
// msgbus.Publisher whose Run sends the events to a real broker (kfake over
// TCP). CollectKpis reads every counter of a ponsim at most once a second
// (statsFresh); the benchmark makes as many reads as an interval would. One op is the whole interval; every op waits until the broker has
// taken all its events. cpu-%-of-core-at-15s is the process CPU time (user
// + system, from getrusage) per op over the 15 s default interval: with
// ponsim and the broker in this process an upper bound of the adapter's
// share of one core; with them in their own processes (the env variables
// below) the adapter's share.
func BenchmarkKpiPublishing(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// VOLT_KPI_BENCH_PONSIM and VOLT_KPI_BENCH_BROKERS point the benchmark
	// at a ponsim (16 × 64 ONUs) and a broker in other processes, so that
	// the CPU time measured is the adapter's work alone.
	addr, brokers := os.Getenv("VOLT_KPI_BENCH_PONSIM"), strings.Split(os.Getenv("VOLT_KPI_BENCH_BROKERS"), ",")
	if addr == "" {
		brk, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", Partitions: 3})
		if err != nil {
			b.Fatal(err)
		}
		defer brk.Close()
		brokers = brk.Addrs()
		// One ponsim of 16 × 64 ONUs; the 10,240 devices are ten devices
		// per simulated ONU (each call reads that ONU's counters).
		sim, err := ponsim.New(ponsim.Config{Name: "bench", PONPorts: 16, ONUsPerPON: 64})
		if err != nil {
			b.Fatal(err)
		}
		simDone := make(chan error, 1)
		ready := make(chan string, 1)
		go func() { simDone <- sim.Serve(ctx, "127.0.0.1:0", logging.Discard(), func(a string) { ready <- a }) }()
		addr = <-ready
		defer func() { cancel(); <-simDone }()
	}

	a, err := adapter.New(Defaults(adapter.Config{Brokers: brokers}))
	if err != nil {
		b.Fatal(err)
	}
	h := newHandler(a, slog.New(slog.DiscardHandler))
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	h.conns[addr] = cc
	info, err := ponsimv1.NewPonSimClient(cc).GetDeviceInfo(ctx, &emptypb.Empty{})
	if err != nil {
		b.Fatal(err)
	}
	// The ONUs' OLT's address is known (asked of the core once per OLT).
	h.parents["olt-bench"] = &parentAddr{addr: addr}
	devs := make([]*voltv1.Device, kpiONUs)
	for i := range devs {
		devs[i] = &voltv1.Device{Id: fmt.Sprintf("onu-%05d", i), ParentId: "olt-bench",
			SerialNumber: info.GetOnus()[i%len(info.GetOnus())].GetSerialNumber()}
	}

	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: brokers, Name: "bench-kpis"})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pub, err := msgbus.NewPublisher(msgbus.PublisherConfig{Topic: "bench.kpis", Buffer: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	runDone := make(chan struct{})
	runCtx, stopRun := context.WithCancel(ctx)
	go func() { defer close(runDone); pub.Run(runCtx, conn) }()
	defer func() { stopRun(); <-runDone }()

	interval := durationpb.New(15 * time.Second)
	interval1 := func() {
		for i, d := range devs {
			if i%refetchEvery == 0 {
				delete(h.stats, addr) // as many reads of all counters as an interval makes
			}
			id := d.GetId()
			ev, err := h.CollectKpis(ctx, d)
			if err != nil {
				b.Fatal(err)
			}
			ev.DeviceId, ev.Time, ev.Interval = id, timestamppb.Now(), interval
			if !pub.Publish(ev, id) {
				b.Fatal("publisher full")
			}
		}
		for pub.Len() > 0 { // queued events taken by Run
			time.Sleep(time.Millisecond)
		}
	}
	interval1() // warm up: connections, topic
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := pub.Stats().Published
	b.ResetTimer()
	for range b.N {
		interval1()
	}
	for pub.Stats().Published < start+uint64(b.N*len(devs)) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()+after.Stime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(cpu.Seconds(), "cpu-s/interval")
	b.ReportMetric(100*cpu.Seconds()/15, "cpu-%-of-core-at-15s")
	b.ReportMetric(float64(len(devs)), "onus")
}
