package msgbus

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
)

// Defaults of Config and ServerConfig.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConcurrency = 64
	DefaultInlineBelow    = 20 * time.Microsecond
	DefaultName           = "msgbus"
)

// Config configures a Conn: the client side of the bus, and the publisher
// and subscriber of events.
type Config struct {
	// Brokers are the seed brokers (host:port). Required.
	Brokers []string
	// Topic is where calls go unless Conn.To or WithTopic says otherwise.
	// It may be empty if every call names its topic.
	Topic string
	// Name names the process: the reply topic is "<Name>.reply.<random>"
	// and Name is the Kafka client id. Default "msgbus".
	Name string
	// DefaultTimeout bounds a call whose context has no deadline, and a
	// Publish likewise. Default 10s.
	DefaultTimeout time.Duration
	// Key derives the record key of a call or an event the caller gave no
	// key (WithKey); nil leaves them without one (no order between them).
	Key KeyFunc
	// Interceptors wrap every call, the first outermost, as
	// grpc.WithChainUnaryInterceptor does. They get a nil *grpc.ClientConn.
	Interceptors []grpc.UnaryClientInterceptor
	// StaleReplyTopics is how long a reply topic may show no sign of life
	// (responses or its owner's heartbeats) before a Conn deletes it: the
	// reply topics of processes gone without closing their Conn. Default
	// 10 minutes; negative turns both the heartbeat and the clean-up off.
	StaleReplyTopics time.Duration
	// Logger receives the bus's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultStaleReplyTopics is Config.StaleReplyTopics's default.
const DefaultStaleReplyTopics = 10 * time.Minute

func (c *Config) setDefaults() error {
	if err := checkBrokers(c.Brokers); err != nil {
		return err
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if err := checkTopicName("Name", c.Name); err != nil {
		return err
	}
	if c.Topic != "" {
		if err := checkTopicName("Topic", c.Topic); err != nil {
			return err
		}
	}
	if c.DefaultTimeout < 0 {
		return fmt.Errorf("msgbus: DefaultTimeout %v is negative", c.DefaultTimeout)
	}
	if c.DefaultTimeout == 0 {
		c.DefaultTimeout = DefaultTimeout
	}
	if c.StaleReplyTopics == 0 {
		c.StaleReplyTopics = DefaultStaleReplyTopics
	}
	if c.StaleReplyTopics > 0 && c.StaleReplyTopics < 100*time.Millisecond {
		return fmt.Errorf("msgbus: StaleReplyTopics %v is too short (at least 100ms)", c.StaleReplyTopics)
	}
	c.Logger = orDiscard(c.Logger)
	return nil
}

// ServerConfig configures a Server.
type ServerConfig struct {
	// Brokers are the seed brokers (host:port). Required.
	Brokers []string
	// Topic is the request topic the server consumes. Required.
	Topic string
	// Group is the consumer group the replicas of this server share.
	// Default: Topic.
	Group string
	// Name is the Kafka client id. Default: Topic.
	Name string
	// InstanceID makes the server a static member of Group (KIP-345): a
	// replica that restarts with the same InstanceID takes its partitions
	// back at once, instead of waiting for the group to time the dead
	// member out (SessionTimeout), and a replica killed while the group
	// was still rebalancing cannot stall it. It must be unique among the
	// live replicas and the same across restarts of one (a pod name, a
	// host and port). Empty: a dynamic member.
	InstanceID string
	// Partitions is the partition count Start creates Topic with when it
	// does not exist; 0 takes the broker's default.
	Partitions int
	// MaxConcurrency bounds how many calls run at once (calls with one key
	// always run one at a time). Default 64.
	MaxConcurrency int
	// InlineBelow: the calls of a method whose handler takes less than
	// this on average run on the goroutine that reads the records, not on
	// one of the MaxConcurrency workers (see the package doc). Default
	// DefaultInlineBelow; negative: never.
	InlineBelow time.Duration
	// Interceptors wrap every handler, the first outermost, as
	// grpc.ChainUnaryInterceptor does.
	Interceptors []grpc.UnaryServerInterceptor
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

func (c *ServerConfig) setDefaults() error {
	if err := checkBrokers(c.Brokers); err != nil {
		return err
	}
	if err := checkTopicName("Topic", c.Topic); err != nil {
		return err
	}
	if c.Group == "" {
		c.Group = c.Topic
	}
	if c.Name == "" {
		c.Name = c.Topic
	}
	if len(c.InstanceID) > maxInstanceID {
		return fmt.Errorf("msgbus: InstanceID is %d bytes, over %d", len(c.InstanceID), maxInstanceID)
	}
	if c.Partitions < 0 {
		return fmt.Errorf("msgbus: Partitions %d is negative", c.Partitions)
	}
	if c.MaxConcurrency < 0 {
		return fmt.Errorf("msgbus: MaxConcurrency %d is negative", c.MaxConcurrency)
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.InlineBelow == 0 {
		c.InlineBelow = DefaultInlineBelow
	}
	c.Logger = orDiscard(c.Logger)
	return nil
}

func checkBrokers(bs []string) error {
	if len(bs) == 0 {
		return errors.New("msgbus: no Brokers")
	}
	for _, b := range bs {
		if b == "" || strings.ContainsAny(b, " ,") {
			return fmt.Errorf("msgbus: broker %q is not host:port", b)
		}
	}
	return nil
}

// checkTopicName applies Kafka's rule for topic names: 1 to 249 of
// [a-zA-Z0-9._-].
func checkTopicName(field, t string) error {
	if t == "" {
		return fmt.Errorf("msgbus: %s is empty", field)
	}
	if len(t) > 200 { // leaves room for ".reply.<id>"
		return fmt.Errorf("msgbus: %s %q is longer than 200 characters", field, t)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("msgbus: %s %q: a Kafka topic name has only letters, digits, '.', '_' and '-'", field, t)
		}
	}
	if t == "." || t == ".." {
		return fmt.Errorf("msgbus: %s %q is not a valid topic name", field, t)
	}
	return nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
