package msgbus

import (
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A broker that restarts without its data (kfake keeps topics in memory; a
// wiped or rebuilt cluster does the same) recreates topics under new ids
// on first use. kgo then fails them with UNKNOWN_TOPIC_ID, for producing
// and consuming, until they are purged from the client and used again. A
// repairer does that for one client as soon as kgo's metadata shows a new
// id (kgoLogger hears it), or a produce or fetch fails with
// UNKNOWN_TOPIC_ID: it purges the topic, consumes it again if the client
// consumed it, and then calls after, so that the owner sends again what
// the purge failed (calls, responses).

func recreated(err error) bool { return errors.Is(err, kerr.UnknownTopicID) }

// repairAtMost spaces the repairs of one topic: a purge fails the records
// buffered for it, and those failures must not cause another.
const repairAtMost = time.Second

type repairer struct {
	log      *slog.Logger
	consumes func(topic string) bool // whether the client consumes topic
	after    func(topic string)      // called once topic is repaired; may be nil

	cl   *kgo.Client // set by start
	ch   chan string
	stop chan struct{}
	done chan struct{}
}

// newRepairer returns a repairer; pass its topicRecreated to clientOpts,
// then start it with the client.
func newRepairer(log *slog.Logger, consumes func(string) bool, after func(string)) *repairer {
	return &repairer{
		log:      log,
		consumes: consumes,
		after:    after,
		ch:       make(chan string, 64),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

func (r *repairer) start(cl *kgo.Client) {
	r.cl = cl
	go r.loop()
}

// topicRecreated asks for a repair of topic; it never blocks (kgo calls it
// from its metadata loop, which a purge waits for).
func (r *repairer) topicRecreated(topic string) {
	select {
	case r.ch <- topic:
	case <-r.stop:
	default: // full: repairs are pending, and later failures ask again
	}
}

// failed asks for a repair if err says that topic was recreated.
func (r *repairer) failed(topic string, err error) {
	if recreated(err) && topic != "" {
		r.topicRecreated(topic)
	}
}

func (r *repairer) loop() {
	defer close(r.done)
	last := make(map[string]time.Time)
	for {
		select {
		case t := <-r.ch:
			if time.Since(last[t]) < repairAtMost {
				continue
			}
			last[t] = time.Now()
			r.repair(t)
		case <-r.stop:
			return
		}
	}
}

func (r *repairer) repair(t string) {
	consumed := r.consumes(t)
	r.log.Info("msgbus: the broker recreated a topic; using it again", "topic", t, "consumed", consumed)
	r.cl.PurgeTopicsFromClient(t)
	if consumed {
		r.cl.AddConsumeTopics(t)
	}
	if r.after != nil {
		r.after(t)
	}
}

// close stops the repairs; call it before closing the client.
func (r *repairer) close() {
	close(r.stop)
	if r.cl != nil {
		<-r.done
	}
}
