package msgbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// recordDeliveryTimeout bounds how long a record without a context deadline
// (a server's response) may sit in the producer while the broker is away.
const recordDeliveryTimeout = 30 * time.Second

// clientOpts are the kgo options every msgbus client shares, tuned for
// request/response (see DESIGN.md section 3 and the measurements in
// reference/real-peers.md section 7):
//
//   - linger 0: kgo's 10 ms default costs ~21 ms a round trip;
//   - no idempotent producer and one produce request in flight per broker:
//     the idempotent producer sends many tiny requests (+50-65% calls/s at
//     64 in flight without it). A retry can then duplicate a record, so
//     servers drop requests they have seen (by transaction id) and callers
//     count a second response as late;
//   - topic auto-creation, so a reply topic lost with a broker comes back.
//
// recreated, if not nil, hears of every topic the broker recreated under a
// new id (see repairer).
func clientOpts(brokers []string, name string, log *slog.Logger, recreated func(topic string)) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(name),
		kgo.ProducerLinger(0),
		kgo.DisableIdempotentWrite(),
		kgo.MaxProduceRequestsInflightPerBroker(1),
		kgo.RecordDeliveryTimeout(recordDeliveryTimeout),
		kgo.AllowAutoTopicCreation(),
		// Errors refresh metadata at most this often (default 5 s): a
		// broker that restarted is found sooner.
		kgo.MetadataMinAge(time.Second),
		// Notice a broker that comes back within about a second.
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			d := time.Duration(tries) * 50 * time.Millisecond
			return min(d, time.Second)
		}),
		kgo.WithLogger(kgoLogger{l: log, recreated: recreated}),
	}
}

// consumerOpts are the kgo options every msgbus consumer adds. Fetch
// sessions (KIP-227) save bytes when a consumer has many partitions; ours
// have a few, and kgo v1.22.3 races when it closes a direct consumer's
// fetch session (source.createReq against fetchSession.kill, seen with
// -race), so they are off.
func consumerOpts() []kgo.Opt {
	return []kgo.Opt{kgo.DisableFetchSessions()}
}

// ensureTopic creates topic unless it exists. partitions <= 0 takes the
// broker's default.
func ensureTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int) error {
	p := int32(-1)
	if partitions > 0 {
		p = int32(partitions)
	}
	_, err := kadm.NewClient(cl).CreateTopic(ctx, p, -1, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("msgbus: create topic %s: %w", topic, err)
	}
	return nil
}

// produceError turns a failed produce into the status a caller sees: the
// broker could not take the request, so the service is Unavailable, unless
// the record itself is at fault.
func produceError(topic string, err error) error {
	switch {
	case tooLarge(err):
		return status.Errorf(codes.ResourceExhausted, "msgbus: request to %s too large: %v", topic, err)
	case errors.Is(err, context.Canceled):
		return status.Errorf(codes.Canceled, "msgbus: request to %s canceled before the broker took it", topic)
	}
	return status.Errorf(codes.Unavailable, "msgbus: request to %s not delivered: %v", topic, err)
}

// tooLarge reports whether a produce failed because the record is over
// the client's or the broker's size limit.
func tooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// randomID returns n random bytes in hex.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// kgoLogger passes kgo's warnings and errors to slog; its info and debug
// messages (every connection, every metadata refresh) stay out. It also
// listens for the one warning that says a topic came back under a new id
// (kgo v1.22 has no hook for it): it hands the topic to recreated, which
// repairs it at once, and logs it at info, since the bus recovers.
type kgoLogger struct {
	l         *slog.Logger
	recreated func(topic string) // nil: just log
}

// newTopicIDMsg starts kgo's warning about a recreated topic.
const newTopicIDMsg = "metadata has a new ID for a topic we already hold"

func (k kgoLogger) Level() kgo.LogLevel {
	if k.recreated != nil || k.l.Enabled(context.Background(), slog.LevelWarn) {
		return kgo.LogLevelWarn
	}
	if k.l.Enabled(context.Background(), slog.LevelError) {
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	if strings.HasPrefix(msg, newTopicIDMsg) {
		for i := 0; i+1 < len(keyvals); i += 2 {
			if keyvals[i] == "topic" {
				if t, ok := keyvals[i+1].(string); ok && k.recreated != nil {
					k.recreated(t)
				}
			}
		}
		k.l.Debug("kafka: "+msg, keyvals...)
		return
	}
	l := slog.LevelWarn
	if level == kgo.LogLevelError {
		l = slog.LevelError
	}
	k.l.Log(context.Background(), l, "kafka: "+msg, keyvals...)
}

// logLimiter lets through one message per key and interval, so that a
// broker outage or a flood of bad records does not flood the log.
type logLimiter struct {
	every time.Duration
	mu    sync.Mutex // guards last
	last  map[string]time.Time
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, last: make(map[string]time.Time)}
}

func (l *logLimiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) > 1000 { // keys come from errors; keep the map small
		clear(l.last)
	}
	l.last[key] = now
	return true
}
