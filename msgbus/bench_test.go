package msgbus_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"

	"github.com/openvolt/openvolt/msgbus"
)

// BenchmarkInvoke measures round trips through an embedded broker on
// loopback: one call at a time, and 64 in flight over 1,000 keys.
// `volt bench rpc` measures the same with percentiles.
func BenchmarkInvoke(b *testing.B) {
	br := startBroker(b)
	topic := newTopic("bench")
	serve(b, br.Addrs(), msgbus.ServerConfig{Topic: topic, Partitions: 1}, func(s *msgbus.Server) {
		healthpb.RegisterHealthServer(s, health.NewServer())
	})
	client := healthpb.NewHealthClient(dial(b, br.Addrs(), msgbus.Config{Topic: topic}))
	req := &healthpb.HealthCheckRequest{}
	// Wait for the server to join its group.
	eventually(b, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := client.Check(ctx, req)
		return err
	})
	keys := make([]msgbus.KeyOption, 1000)
	for i := range keys {
		keys[i] = msgbus.WithKey(fmt.Sprintf("dev-%d", i))
	}

	b.Run("c=1", func(b *testing.B) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if _, err := client.Check(ctx, req, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("c=64", func(b *testing.B) {
		var n atomic.Int64
		// RunParallel runs GOMAXPROCS×p goroutines: 64 in flight.
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				i := n.Add(1)
				if _, err := client.Check(ctx, req, keys[i%int64(len(keys))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkPublish measures events published to an embedded broker on
// loopback: one Publish at a time, each waiting for the broker, and
// PublishBatch with n events a batch. One op is one event.
func BenchmarkPublish(b *testing.B) {
	br := startBroker(b)
	topic := newTopic("bench.events")
	conn := dial(b, br.Addrs(), msgbus.Config{})
	ctx := context.Background()
	ev := &voltv1.Event{Id: "0123456789abcdef", DeviceId: "olt-1", LogicalDeviceId: "ld-1"}
	if err := conn.Publish(ctx, topic, ev); err != nil { // creates the topic
		b.Fatal(err)
	}
	b.Run("one", func(b *testing.B) {
		for b.Loop() {
			if err := conn.Publish(ctx, topic, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{64, 1024} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			batch := make([]msgbus.Outgoing, n)
			for i := range batch {
				batch[i] = msgbus.Outgoing{Message: ev, Key: fmt.Sprintf("olt-%d", i%16)}
			}
			for i := 0; i < b.N; i += n {
				if err := conn.PublishBatch(ctx, topic, batch[:min(n, b.N-i)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
