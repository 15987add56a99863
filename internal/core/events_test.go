package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/msgbus"
)

// Change events also go to the Kafka topic volt.events, for consumers
// outside the NBI.
func TestEventsOnKafka(t *testing.T) {
	s := newStack(t)
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(c, msgbus.Config{Brokers: s.brokers, Name: "events-reader"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var (
		mu   sync.Mutex // guards seen
		seen = map[string]voltv1.ChangeKind{}
	)
	sub, err := conn.Subscribe(c, core.DefaultEventsTopic, "events-test", func(_ context.Context, ev *msgbus.Event) {
		if e, ok := ev.Message.(*voltv1.Event); ok && e.GetDevice() != nil {
			mu.Lock()
			seen[e.GetDeviceId()] = e.GetDevice().GetKind()
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	registerType(t, s.brokers, "test_olt")
	id := s.createOLT("10.7.0.1:50060")
	if _, err := s.nbi.DeleteDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the device's events on volt.events", func() error {
		mu.Lock()
		defer mu.Unlock()
		if seen[id] != voltv1.ChangeKind_CHANGE_KIND_REMOVED {
			return fmt.Errorf("last kind seen for %s: %v", id, seen[id])
		}
		return nil
	})
}
