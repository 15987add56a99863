// Package broker runs an embedded Kafka-protocol broker: kfake from
// franz-go, speaking the real wire protocol over TCP, with topic
// auto-creation. `volt broker`, `volt up` and the tests use it; production
// points msgbus at a Kafka cluster instead.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

// Defaults of Config.
const (
	DefaultListen     = "127.0.0.1:9092"
	DefaultPartitions = 3
	// DefaultRetainBytes is Config.RetainBytes's default: 8 MiB of
	// records per partition, some 200,000 records (20 s of the busiest
	// partition while 1,024 ONUs synchronise their MIBs over OMCI), well
	// beyond the deadline of the requests in them.
	DefaultRetainBytes = 8 << 20
	// segmentBytes is the size of a partition's log segments, the unit
	// retention drops (kfake's default, 100 MiB, kept everything; a
	// segment's memory grows by doubling, so small ones waste less).
	segmentBytes = 256 << 10
	// retainEvery is how often retention is applied.
	retainEvery = time.Second
)

// Config configures an embedded broker.
type Config struct {
	// Listen is the host:port to listen on; port 0 picks a free port.
	// Default 127.0.0.1:9092.
	Listen string
	// Advertise is the host clients are told to connect to. Default: the
	// host of Listen, or 127.0.0.1 when Listen names no host (":9092",
	// "0.0.0.0:9092").
	Advertise string
	// Partitions is the partition count of auto-created topics. Default 3.
	Partitions int
	// Logger receives the broker's warnings and errors; nil discards them.
	Logger *slog.Logger
	// RetainBytes bounds the records kept per partition (the broker keeps
	// them in memory): beyond it the oldest segments (256 KiB) are dropped,
	// as Kafka's retention.bytes does; a consumer behind them starts at
	// the oldest record kept. Default DefaultRetainBytes; negative keeps
	// everything.
	RetainBytes int64
}

func (c *Config) setDefaults() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("broker: listen address %q: %w", c.Listen, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("broker: listen address %q: bad port", c.Listen)
	}
	if c.Advertise == "" {
		c.Advertise = host
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			c.Advertise = "127.0.0.1"
		}
	}
	if c.Partitions < 0 {
		return fmt.Errorf("broker: Partitions %d is negative", c.Partitions)
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RetainBytes == 0 {
		c.RetainBytes = DefaultRetainBytes
	}
	return nil
}

// Broker is a running embedded broker.
type Broker struct {
	c     *kfake.Cluster
	addrs []string
	once  sync.Once
	stop  chan struct{} // closed by Close: ends the retention loop
	done  chan struct{} // closed when the retention loop has ended
}

// Start listens on cfg.Listen and serves the Kafka protocol there until
// Close. It fails with a clear error if the address is in use.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("broker: %s is in use (is another broker running?): %w", cfg.Listen, err)
		}
		return nil, fmt.Errorf("broker: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	adv := advertised{Listener: ln, addr: hostPort(net.JoinHostPort(cfg.Advertise, port))}

	used := false
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1 itself; hand it our listener instead,
		// which reports the advertised address.
		kfake.ListenFn(func(string, string) (net.Listener, error) {
			if used {
				return nil, errors.New("broker: one listener only")
			}
			used = true
			return adv, nil
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.MaxVersions(maxVersions()),
		kfake.WithLogger(kfakeLogger{cfg.Logger}),
		kfake.BrokerConfigs(brokerConfigs(cfg.RetainBytes)),
	)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	b := &Broker{c: c, addrs: c.ListenAddrs(), stop: make(chan struct{}), done: make(chan struct{})}
	if cfg.RetainBytes > 0 {
		go b.retain()
	} else {
		close(b.done)
	}
	return b, nil
}

func brokerConfigs(retain int64) map[string]string {
	if retain <= 0 {
		return nil
	}
	return map[string]string{
		"log.segment.bytes":   strconv.Itoa(segmentBytes),
		"log.retention.bytes": strconv.FormatInt(retain, 10),
	}
}

// retain applies retention every retainEvery until Close (kfake applies
// it on its own only to topics with their own retention settings).
func (b *Broker) retain() {
	defer close(b.done)
	t := time.NewTicker(retainEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.c.ApplyRetention()
		}
	}
}

// maxVersions caps Produce at v12 (topics by name). kfake's v13 handler
// (topics by id) panics, taking the broker down, on a request that names
// two topic ids it does not know with a common partition number (index out
// of range in handleProduce, kfake 2026-09-18): a client whose topics were
// recreated by a broker restart sends exactly that. By name, a produce to
// a recreated topic simply works.
func maxVersions() *kversion.Versions {
	v := kversion.Tip()
	v.SetMaxKeyVersion(0, 12) // Produce
	return v
}

// Addrs returns the advertised host:port of the broker, for clients'
// seed broker lists.
func (b *Broker) Addrs() []string { return append([]string(nil), b.addrs...) }

// Close stops the broker and closes its connections; its topics are gone
// (they live in memory). Close is idempotent.
func (b *Broker) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.c.Close()
	})
	return nil
}

// advertised is the broker's listener, reporting the address clients are
// told to use.
type advertised struct {
	net.Listener
	addr net.Addr
}

func (a advertised) Addr() net.Addr { return a.addr }

type hostPort string

func (hostPort) Network() string  { return "tcp" }
func (h hostPort) String() string { return string(h) }

// kfakeLogger passes kfake's warnings and errors to slog; its info level
// (every request) goes to debug.
type kfakeLogger struct{ l *slog.Logger }

func (k kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	var l slog.Level
	switch level {
	case kfake.LogLevelError:
		l = slog.LevelError
	case kfake.LogLevelWarn:
		l = slog.LevelWarn
	case kfake.LogLevelInfo:
		l = slog.LevelDebug
	default:
		return
	}
	if !k.l.Enabled(context.Background(), l) {
		return
	}
	k.l.Log(context.Background(), l, "kfake: "+fmt.Sprintf(format, args...))
}
