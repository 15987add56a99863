package broker

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/openvolt/openvolt/internal/testpeer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The broker speaks Kafka on a free port, creates topics on first use with
// the configured partition count, and frees its port on Close.
func TestStartProduceConsume(t *testing.T) {
	ctx := context.Background()
	b, err := Start(ctx, Config{Listen: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addrs := b.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "127.0.0.1:") || strings.HasSuffix(addrs[0], ":0") {
		t.Fatalf("Addrs = %v", addrs)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0),
		kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(cctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(cctx)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	if rs := fs.Records(); len(rs) != 1 || string(rs[0].Value) != "v" {
		t.Errorf("consumed %v", rs)
	}
	cl.Close()
	b.Close()
	b.Close() // idempotent

	// The port is free again: a broker restarts on the same address.
	b2, err := Start(ctx, Config{Listen: addrs[0]})
	if err != nil {
		t.Fatalf("restart on %s: %v", addrs[0], err)
	}
	b2.Close()
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(context.Background(), Config{Listen: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Start on a used port: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		cfg       Config
		advertise string
		ok        bool
	}{
		{Config{}, "127.0.0.1", true},
		{Config{Listen: ":0"}, "127.0.0.1", true},
		{Config{Listen: "0.0.0.0:0"}, "127.0.0.1", true},
		{Config{Listen: "0.0.0.0:0", Advertise: "broker"}, "broker", true},
		{Config{Listen: "localhost:1"}, "localhost", true},
		{Config{Listen: "nonsense"}, "", false},
		{Config{Listen: "127.0.0.1:99999"}, "", false},
		{Config{Partitions: -1}, "", false},
	} {
		err := c.cfg.setDefaults()
		if (err == nil) != c.ok || c.ok && c.cfg.Advertise != c.advertise {
			t.Errorf("%+v: err %v, advertise %q", c.cfg, err, c.cfg.Advertise)
		}
	}
}

// An address on every interface is advertised as the loopback address.
func TestAdvertise(t *testing.T) {
	b, err := Start(context.Background(), Config{Listen: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a := b.Addrs()[0]; !strings.HasPrefix(a, "127.0.0.1:") {
		t.Errorf("advertised %s", a)
	}
}

// kcat (librdkafka) sees the broker.
func TestKcatList(t *testing.T) {
	kcat := testpeer.Program(t, "kcat", "apt-get install kcat")
	b, err := Start(context.Background(), Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-b", b.Addrs()[0], "-L").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -L: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "1 brokers:") || !strings.Contains(string(out), b.Addrs()[0]) {
		t.Errorf("kcat -L:\n%s", out)
	}
}

// A produce request naming two topic ids the broker does not know (what a
// client sends after a restart recreated its topics) gets an answer, and
// the broker stays up: kfake's by-id produce handler would panic on it.
func TestProduceUnknownTopicIDs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Start(ctx, Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrProduceRequest()
	req.Acks = 1
	req.TimeoutMillis = 1000
	for i, name := range []string{"gone-a", "gone-b"} {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = name
		rt.TopicID = [16]byte{byte(i + 1), 0xee}
		p := kmsg.NewProduceRequestTopicPartition()
		rt.Partitions = append(rt.Partitions, p) // partition 0, no records
		req.Topics = append(req.Topics, rt)
	}
	if _, err := req.RequestWith(ctx, cl); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("the broker is down after the request: %v", err)
	}
}
