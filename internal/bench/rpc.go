// Package bench measures the running system for `volt bench`: each
// benchmark takes a Config, runs against real transports and returns a
// result that marshals to the JSON the command prints.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/msgbus"
)

// RPCConfig configures RPC.
type RPCConfig struct {
	// Brokers to go through; empty starts an embedded broker on loopback.
	Brokers []string
	// Calls is the number of measured round trips. Default 10,000.
	Calls int
	// Concurrency is the number of calls in flight. Default 1.
	Concurrency int
	// Keys is the number of distinct record keys (devices) the calls
	// spread over. Default 1,000.
	Keys int
	// Warmup is the number of unmeasured calls made first. Default
	// min(Calls, 1,000).
	Warmup int
	// Logger receives the logs of the broker and the bus; nil discards.
	Logger *slog.Logger
	// CPUProfile, if set, is a file to write a CPU profile of msgbus's
	// calls to (pprof): after the measured rounds, as many calls again
	// are made through msgbus alone, profiled, and not measured.
	CPUProfile string
}

func (c *RPCConfig) setDefaults() error {
	if c.Calls == 0 {
		c.Calls = 10000
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Keys == 0 {
		c.Keys = 1000
	}
	if c.Warmup == 0 {
		c.Warmup = min(c.Calls, 1000)
	}
	if c.Calls < 1 || c.Concurrency < 1 || c.Keys < 1 || c.Warmup < 0 {
		return fmt.Errorf("bench: calls, concurrency and keys must be positive (got %d, %d, %d)", c.Calls, c.Concurrency, c.Keys)
	}
	return nil
}

// RPCResult is what `volt bench rpc -o json` prints. The floor is a raw
// franz-go request/response loop over the same broker (see floorLoop), so
// that Ratio and P50Ratio read the same on any machine.
type RPCResult struct {
	Calls          int     `json:"calls"`
	Concurrency    int     `json:"concurrency"`
	P50us          float64 `json:"p50_us"`
	P99us          float64 `json:"p99_us"`
	CallsPerS      float64 `json:"calls_per_s"`
	FloorCallsPerS float64 `json:"floor_calls_per_s"`
	FloorP50us     float64 `json:"floor_p50_us"`
	// Ratio is CallsPerS / FloorCallsPerS: the share of the raw loop's
	// throughput msgbus keeps (the figure to watch with many in flight).
	Ratio float64 `json:"ratio"`
	// P50Ratio is P50us / FloorP50us: how much slower a call is (the
	// figure to watch with one in flight).
	P50Ratio float64 `json:"p50_ratio"`
	// CPUusPerCall and FloorCPUusPerCall are the CPU time (user and
	// system) this process spent per call on each side, the embedded
	// broker included (an external one is not); CPURatio is their ratio.
	// With many in flight both sides keep about the same share of the
	// cores busy, so throughput follows CPU per call, which varies less
	// from run to run than calls/s.
	CPUusPerCall      float64 `json:"cpu_us_per_call"`
	FloorCPUusPerCall float64 `json:"floor_cpu_us_per_call"`
	CPURatio          float64 `json:"cpu_ratio"`
}

// RPC measures unary round trips through the broker: a msgbus.Conn calls
// a msgbus.Server (serving the gRPC health service) on a topic of its own,
// with Concurrency calls in flight over Keys keys. Client and server share
// the process but every call and every response goes through the broker.
// The raw franz-go floor loop makes as many calls the same way on the same
// broker, in rounds that alternate with msgbus's.
func RPC(ctx context.Context, cfg RPCConfig) (RPCResult, error) {
	if err := cfg.setDefaults(); err != nil {
		return RPCResult{}, err
	}
	brokers := cfg.Brokers
	if len(brokers) == 0 {
		b, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", Logger: cfg.Logger})
		if err != nil {
			return RPCResult{}, err
		}
		defer b.Close()
		brokers = b.Addrs()
	}
	topic := "volt.bench.rpc." + randomID()
	srv, err := msgbus.NewServer(msgbus.ServerConfig{
		Brokers:        brokers,
		Topic:          topic,
		Name:           "volt.bench.server",
		MaxConcurrency: max(msgbus.DefaultMaxConcurrency, cfg.Concurrency),
		Logger:         cfg.Logger,
	})
	if err != nil {
		return RPCResult{}, err
	}
	healthpb.RegisterHealthServer(srv, health.NewServer())
	if err := srv.Start(ctx); err != nil {
		return RPCResult{}, err
	}
	defer deleteTopic(brokers, topic)
	defer srv.Close()
	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: brokers, Topic: topic, Name: "volt.bench", Logger: cfg.Logger,
		DefaultTimeout: 10 * time.Second})
	if err != nil {
		return RPCResult{}, err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	keys := make([]msgbus.KeyOption, cfg.Keys)
	for i := range keys {
		keys[i] = msgbus.WithKey(fmt.Sprintf("dev-%d", i))
	}
	req := &healthpb.HealthCheckRequest{}
	// A call is bounded as the floor's are: by a timer of 10 s (the
	// Conn's DefaultTimeout), not by a context derived per call.
	call := func(i int) error {
		_, err := client.Check(ctx, req, keys[i%len(keys)])
		return err
	}
	f, err := startFloor(ctx, brokers, cfg.Keys)
	if err != nil {
		return RPCResult{}, err
	}
	defer f.close()
	floorCall := func(i int) error { return f.call(ctx, i) }
	for _, c := range []func(int) error{floorCall, call} {
		if err := waitReady(ctx, c); err != nil {
			return RPCResult{}, err
		}
		if _, err := run(cfg.Warmup, cfg.Concurrency, c); err != nil {
			return RPCResult{}, fmt.Errorf("bench: warm-up: %w", err)
		}
	}
	// Rounds alternate between the floor and msgbus, so that a change of
	// the machine's load meanwhile weighs on both alike.
	var mine, floor measured
	for r := range rpcRounds {
		n := cfg.Calls/rpcRounds + btoi(r < cfg.Calls%rpcRounds)
		first, second := &floor, &mine
		fc, sc := floorCall, call
		if r%2 == 1 {
			first, second, fc, sc = second, first, sc, fc
		}
		if err := first.add(n, cfg.Concurrency, fc); err != nil {
			return RPCResult{}, err
		}
		if err := second.add(n, cfg.Concurrency, sc); err != nil {
			return RPCResult{}, err
		}
	}
	if cfg.CPUProfile != "" {
		stop, err := cpuProfile(cfg.CPUProfile)
		if err != nil {
			return RPCResult{}, err
		}
		_, err = run(cfg.Calls, cfg.Concurrency, call)
		stop()
		if err != nil {
			return RPCResult{}, err
		}
	}
	res := RPCResult{
		Calls:          cfg.Calls,
		Concurrency:    cfg.Concurrency,
		P50us:          micros(mine.percentile(0.50)),
		P99us:          micros(mine.percentile(0.99)),
		CallsPerS:      mine.rate(),
		FloorCallsPerS: floor.rate(),
		FloorP50us:     micros(floor.percentile(0.50)),
	}
	res.Ratio = round2(res.CallsPerS / res.FloorCallsPerS)
	res.P50Ratio = round2(res.P50us / res.FloorP50us)
	res.CPUusPerCall, res.FloorCPUusPerCall = mine.cpuPerCall(), floor.cpuPerCall()
	res.CPURatio = round2(res.CPUusPerCall / res.FloorCPUusPerCall)
	return res, nil
}

// rpcRounds is how many rounds RPC splits the calls into.
const rpcRounds = 6

// measured accumulates the rounds of one side.
type measured struct {
	lat     []time.Duration
	elapsed time.Duration
	cpu     time.Duration // the process's, during the rounds
	sorted  bool
}

func (m *measured) add(n, c int, call func(int) error) error {
	if n == 0 {
		return nil
	}
	start, cpu := time.Now(), processCPU()
	lat, err := run(n, c, call)
	m.elapsed += time.Since(start)
	m.cpu += processCPU() - cpu
	if err != nil {
		return err
	}
	m.lat = append(m.lat, lat...)
	m.sorted = false
	return nil
}

func (m *measured) percentile(p float64) time.Duration {
	if !m.sorted {
		slices.Sort(m.lat)
		m.sorted = true
	}
	return percentile(m.lat, p)
}

// cpuPerCall is the process's CPU time per call, in µs.
func (m *measured) cpuPerCall() float64 {
	if len(m.lat) == 0 {
		return 0
	}
	return math.Round(float64(m.cpu)/float64(len(m.lat))/float64(time.Microsecond)*10) / 10
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (m *measured) rate() float64 {
	if m.elapsed <= 0 {
		return 0
	}
	return math.Round(float64(len(m.lat)) / m.elapsed.Seconds())
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func round2(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return 0
	}
	return math.Round(x*100) / 100
}

// waitReady calls until the server answers: it has joined its group.
func waitReady(ctx context.Context, call func(int) error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := call(0)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("bench: the server does not answer: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run makes n calls with c in flight and returns each call's latency; it
// stops at the first error.
func run(n, c int, call func(int) error) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var (
		next     atomic.Int64
		failed   atomic.Bool
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for range min(c, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() {
					return
				}
				t := time.Now()
				if err := call(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("bench: call failed: %w", firstErr)
	}
	return lat, nil
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)*10) / 10
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deleteTopic removes the benchmark's request topic, best effort, so that
// runs against a real cluster leave nothing behind.
func deleteTopic(brokers []string, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = kadm.NewClient(cl).DeleteTopic(ctx, topic)
}
