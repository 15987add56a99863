package msgbus_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// whoServes calls GetDevice for keys devices through client and returns
// which replica answered each (testCore puts its name in the reason).
func whoServes(client adapterv1.CoreServiceClient, keys int, d time.Duration) (map[string]string, error) {
	served := map[string]string{}
	for i := range keys {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		dev, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: fmt.Sprintf("dev-%d", i)})
		cancel()
		if err != nil {
			return nil, err
		}
		served[dev.GetId()] = strings.TrimPrefix(dev.GetReason(), "served by ")
	}
	return served, nil
}

// allServedBy is whoServes's check that one replica answered every key.
func allServedBy(client adapterv1.CoreServiceClient, keys int, name string) error {
	served, err := whoServes(client, keys, time.Second)
	if err != nil {
		return err
	}
	for k, r := range served {
		if r != name {
			return fmt.Errorf("%s served by %s", k, r)
		}
	}
	return nil
}

// A static member killed (kill -9: no leave, no commit) and started again
// with the same InstanceID serves every partition at once: the group does
// not wait out the dead member's session. Before static membership, a core
// killed again soon after a restart stalled its topic for 35 s. A static
// member that closes cleanly leaves, so a replica with another id takes
// over without waiting either.
func TestStaticMemberRestart(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("static")
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))
	const keys = 12
	kill := serveProcess(t, b.Addrs()[0], topic, "replica-1", "first")
	eventually(t, 30*time.Second, func() error { return allServedBy(client, keys, "first") })

	for i, next := range []string{"second", "third", "fourth"} {
		kill()
		killed := time.Now()
		kill = serveProcess(t, b.Addrs()[0], topic, "replica-1", next)
		eventually(t, 30*time.Second, func() error { return allServedBy(client, keys, next) })
		if took := time.Since(killed); took >= msgbus.SessionLimit {
			t.Errorf("restart %d: served again %v after the kill, not before the session limit %v", i+1, took, msgbus.SessionLimit)
		}
	}
	kill()

	s := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, Partitions: 3, InstanceID: "replica-1"}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{name: "in-process"})
	})
	eventually(t, 30*time.Second, func() error { return allServedBy(client, keys, "in-process") })
	s.Close()
	closed := time.Now()
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, Partitions: 3, InstanceID: "replica-2"}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{name: "other"})
	})
	eventually(t, 30*time.Second, func() error { return allServedBy(client, keys, "other") })
	if took := time.Since(closed); took >= msgbus.SessionLimit {
		t.Errorf("a replica with another id served %v after a clean close, not before the session limit %v: the closed one did not leave", took, msgbus.SessionLimit)
	}
}

// Two replicas share a topic through their consumer group; when one stops,
// the other takes its partitions over and every call succeeds again.
func TestReplicaTakeover(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("replica")
	replicas := map[string]*msgbus.Server{}
	for _, name := range []string{"a", "b"} {
		replicas[name] = serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, Partitions: 3}, func(s *msgbus.Server) {
			adapterv1.RegisterCoreServiceServer(s, &testCore{name: name})
		})
	}
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))
	const keys = 12 // over 3 partitions: every partition gets some

	// Once the group has balanced, both replicas serve.
	eventually(t, 30*time.Second, func() error {
		served, err := whoServes(client, keys, 2*time.Second)
		if err != nil {
			return err
		}
		n := map[string]int{}
		for _, r := range served {
			n[r]++
		}
		if n["a"] == 0 || n["b"] == 0 {
			return fmt.Errorf("replicas served %v", n)
		}
		return nil
	})

	replicas["a"].Close()
	eventually(t, 30*time.Second, func() error { return allServedBy(client, keys, "b") })
	if st := replicas["a"].Stats(); st.Handled == 0 {
		t.Errorf("replica a served nothing before it stopped: %+v", st)
	}
}
