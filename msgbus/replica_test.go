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
	// who calls every key once and says which replica answered each.
	who := func(d time.Duration) (map[string]string, error) {
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

	// Once the group has balanced, both replicas serve.
	eventually(t, 30*time.Second, func() error {
		served, err := who(2 * time.Second)
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
	eventually(t, 30*time.Second, func() error {
		served, err := who(time.Second)
		if err != nil {
			return err
		}
		for k, r := range served {
			if r != "b" {
				return fmt.Errorf("%s served by %s", k, r)
			}
		}
		return nil
	})
	if st := replicas["a"].Stats(); st.Handled == 0 {
		t.Errorf("replica a served nothing before it stopped: %+v", st)
	}
}
