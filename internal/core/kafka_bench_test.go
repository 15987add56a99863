package core

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// BenchmarkEventsToKafka measures the change-event path from the event fan-out
// to the topic volt.events on an embedded broker: events.FanOut.Publish, the
// fan-out's sink and its publisher, msgbus and kgo. One op is one FlowChange
// event, counted when the broker has it. The broker is on loopback
// (rtt=0) or behind a link that delays each way by half a millisecond
// (rtt=1ms; with timer slack a produce there takes about 2 ms), about
// what a produce to a Kafka cluster on a LAN takes. cpu-ns/op is the CPU
// time of the whole process per event, the in-process broker included.
//
//   - max: the publisher is never let fall behind (the benchmark waits while
//     the queue is half full), so ns/op is the publisher's time per event;
//   - 20k/s: events come at 20,000 a second, the core's target rate of
//     flow-mods (so ns/op is 50µs, and B/op and allocs/op count the
//     publishing side only); dropped/op is the share the publisher could
//     not keep up with, which grows with -benchtime while it cannot.
//
// Run:
//
//	go test -run '^$' -bench EventsToKafka -benchmem -count 6 ./internal/core/
func BenchmarkEventsToKafka(b *testing.B) {
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) {
			benchEvents(b, rtt)
		})
	}
}

func benchEvents(b *testing.B, rtt time.Duration) {
	bcfg := broker.Config{Listen: "127.0.0.1:0"}
	if rtt > 0 {
		// Clients reach the broker at the address it advertises, on
		// another loopback address, where the slow link listens.
		bcfg.Advertise = "127.0.0.2"
	}
	br, err := broker.Start(context.Background(), bcfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	if rtt > 0 {
		addr := br.Addrs()[0]
		_, port, _ := net.SplitHostPort(addr)
		stop, err := slowLink(addr, net.JoinHostPort("127.0.0.1", port), rtt/2)
		if err != nil {
			b.Skipf("no slow link on %s: %v", addr, err)
		}
		b.Cleanup(stop)
	}
	p := runBus(b, br.Addrs())

	flow, err := flowtext.ParseFlow("table=0,priority=1000,in_port=16,vlan_vid=untagged," +
		"actions=push_vlan:0x8100,set_field:116->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:1048576")
	if err != nil {
		b.Fatal(err)
	}
	event := func(i int) *voltv1.Event {
		return &voltv1.Event{
			LogicalDeviceId: fmt.Sprintf("ld-%d", i%64),
			Payload: &voltv1.Event_Flow{Flow: &voltv1.FlowChange{
				Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED,
				Flow: flow,
			}},
		}
	}
	published := func() uint64 {
		p.kafka.mu.RLock()
		defer p.kafka.mu.RUnlock()
		if p.kafka.conn == nil {
			return 0
		}
		return p.kafka.conn.Stats().Published
	}
	// drain waits until the broker has want events, or until the queue is
	// empty and nothing more arrives (the rest were dropped); it returns
	// how many the broker has.
	drain := func(want uint64) uint64 {
		deadline := time.Now().Add(time.Minute)
		last, stable := published(), 0
		for last < want && stable < 20 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			n := published()
			if n == last && p.kafka.events.Len() == 0 {
				stable++
			} else {
				stable = 0
			}
			last = n
		}
		return last
	}
	// Kafka is up and the topic exists.
	p.events.Publish(event(0))
	if n := drain(1); n != 1 {
		b.Fatalf("warm-up: %d events published, want 1", n)
	}

	// run publishes b.N events, each after pace(i), and waits for them;
	// the wait is timed if timeDrain.
	run := func(b *testing.B, pace func(i int), timeDrain bool) {
		start, cpu := published(), cpuTime()
		b.ResetTimer()
		for i := range b.N {
			pace(i)
			p.events.Publish(event(i))
		}
		if !timeDrain {
			b.StopTimer()
		}
		n := drain(start+uint64(b.N)) - start
		b.StopTimer()
		cpu = cpuTime() - cpu
		if timeDrain {
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		}
		b.ReportMetric(float64(uint64(b.N)-n)/float64(b.N), "dropped/op")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	b.Run("max", func(b *testing.B) {
		run(b, func(int) {
			for p.kafka.events.Len() > eventBuffer/2 {
				time.Sleep(100 * time.Microsecond)
			}
		}, true)
	})
	b.Run("20k/s", func(b *testing.B) {
		const rate = 20000
		var t0 time.Time
		run(b, func(i int) {
			if i == 0 {
				t0 = time.Now()
			}
			// Sleep in steps of about a millisecond: finer sleeps overshoot.
			if due := t0.Add(time.Duration(i) * time.Second / rate); time.Until(due) > time.Millisecond {
				time.Sleep(time.Until(due))
			}
		}, false)
	})
}

// runBus builds a core on an in-memory store and runs its Kafka side on brokers
// until the test ends; it returns once Kafka is connected.
func runBus(t testing.TB, brokers []string) *parts {
	t.Helper()
	cfg := Config{KV: kvstore.NewMemory(), Brokers: brokers}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := build(context.Background(), cfg, cfg.KV, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	go func() {
		defer close(running)
		p.kafka.run(ctx, p.sbi, "", nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-running
		p.close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.kafka.mu.RLock()
		up := p.kafka.conn != nil
		p.kafka.mu.RUnlock()
		if up {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatal("Kafka did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cpuTime is the CPU time the process has used, in user and system mode.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// slowLink listens on addr and forwards every connection to target,
// delaying the bytes by delay each way. stop closes it and waits for its
// goroutines.
func slowLink(addr, target string, delay time.Duration) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards conns
		conns []net.Conn
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			track(down)
			track(up)
			wg.Go(func() { delayCopy(up, down, delay) })
			wg.Go(func() { delayCopy(down, up, delay) })
		}
	})
	return func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}, nil
}

// delayCopy copies src to dst, each chunk delay after it was read.
func delayCopy(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		due  time.Time
		data []byte
	}
	ch := make(chan chunk, 4096)
	var wg sync.WaitGroup
	wg.Go(func() {
		for c := range ch {
			time.Sleep(time.Until(c.due))
			if _, err := dst.Write(c.data); err != nil {
				break
			}
		}
		dst.Close()
		for range ch {
		}
	})
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			ch <- chunk{due: time.Now().Add(delay), data: append([]byte(nil), buf[:n]...)}
		}
		if err != nil { // the link goes down as a network would
			break
		}
	}
	close(ch)
	wg.Wait()
}
