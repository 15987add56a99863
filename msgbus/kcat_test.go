package msgbus_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testpeer"
	"github.com/openvolt/openvolt/msgbus"
)

// Debian's kcat (librdkafka) lists the embedded broker's topics and reads
// the bus's records.
func TestKcatReadsTopics(t *testing.T) {
	kcat := testpeer.Program(t, "kcat", "apt-get install kcat")
	b := startBroker(t)
	addr := b.Addrs()[0]
	topic, events := newTopic("kcat.core"), newTopic("kcat.events")
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{})
	})
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adapterv1.NewCoreServiceClient(conn).GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "olt-kcat"}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Publish(ctx, events, &voltv1.Event{Id: "e1", DeviceId: "olt-kcat"}); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, kcat, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	list := run("-b", addr, "-L")
	for _, want := range []string{`topic "` + topic + `"`, `topic "` + conn.ReplyTopic() + `"`, `topic "` + events + `"`} {
		if !strings.Contains(list, want) {
			t.Errorf("kcat -L lacks %s:\n%s", want, list)
		}
	}
	for _, c := range []struct{ topic, text string }{
		{topic, "/adapter.v1.CoreService/GetDevice"}, // the request names its method
		{conn.ReplyTopic(), "served by "},            // its response carries the body (the caller knows the method)
		{events, "volt.v1.Event"},
	} {
		out := run("-b", addr, "-C", "-t", c.topic, "-o", "beginning", "-e", "-q", "-f", "key=%k value=%s\n")
		// The value is a protobuf envelope; its strings are readable
		// text. A reply topic starts with its owner's heartbeat.
		if !strings.Contains(out, "key=olt-kcat value=") || !strings.Contains(out, c.text) {
			t.Errorf("kcat -C -t %s: want key olt-kcat and %q, got\n%q", c.topic, c.text, out)
		}
		if c.topic == conn.ReplyTopic() && (strings.Contains(out, "GetDevice") || strings.Contains(out, topic)) {
			t.Errorf("the response repeats what its caller knows (method, server topic):\n%q", out)
		}
	}
}
