package msgbus

import (
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// Reply topics outlive a process that dies without closing its Conn (kill
// -9, a lost host). Every Conn therefore marks its reply topic alive, and
// cleans up the reply topics of others that are not:
//
//   - it produces a heartbeat record (an event envelope whose method is
//     heartbeatMethod, skipped by the reply loop) to its own reply topic
//     every StaleReplyTopics/4, so that an idle Conn's topic moves too;
//   - every StaleReplyTopics/2 (jittered), it lists the topics named like
//     reply topics and their end offsets; a topic whose end offsets have
//     not moved for StaleReplyTopics has no live owner, and is deleted.
//
// The state is per process and needs StaleReplyTopics of watching before
// it deletes anything, so a Conn that just started never deletes a live
// topic; several Conns deleting the same topic is harmless.

// heartbeatMethod is the method of a reply topic's heartbeat records.
const heartbeatMethod = "msgbus.heartbeat"

// replyTopicPattern matches the names Dial gives reply topics.
var replyTopicPattern = regexp.MustCompile(`\.reply\.[0-9a-f]{16}$`)

// janitor heartbeats a Conn's reply topic and deletes stale ones.
type janitor struct {
	c     *Conn
	stale time.Duration
	seen  map[string]sighting // by topic
}

type sighting struct {
	ends  int64     // sum of the topic's end offsets
	since time.Time // when ends was first seen
}

func (c *Conn) runJanitor(stale time.Duration) {
	defer c.wg.Done()
	j := &janitor{c: c, stale: stale, seen: make(map[string]sighting)}
	beat := time.NewTicker(stale / 4)
	defer beat.Stop()
	sweep := time.NewTimer(j.sweepDelay())
	defer sweep.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-beat.C:
			j.heartbeat()
		case <-sweep.C:
			j.sweep()
			sweep.Reset(j.sweepDelay())
		}
	}
}

// sweepDelay is StaleReplyTopics/2 ±25%, so that many Conns spread out.
func (j *janitor) sweepDelay() time.Duration {
	half := j.stale / 2
	return half*3/4 + rand.N(half/2+1)
}

func (j *janitor) heartbeat() {
	c := j.c
	ctx, cancel := context.WithTimeout(c.ctx, j.stale/4)
	defer cancel()
	if err := c.produceHeartbeat(ctx); err != nil {
		c.log.Debug("msgbus: reply topic heartbeat", "topic", c.reply, "err", err)
	}
}

// produceHeartbeat marks the reply topic alive and waits for the broker.
func (c *Conn) produceHeartbeat(ctx context.Context) error {
	v, err := proto.Marshal(&msgbusv1.Envelope{
		Id:              c.nextID(),
		Kind:            msgbusv1.Kind_KIND_EVENT,
		Method:          heartbeatMethod,
		From:            c.reply,
		TimestampUnixMs: time.Now().UnixMilli(),
	})
	if err != nil {
		return err
	}
	return c.cl.ProduceSync(ctx, &kgo.Record{Topic: c.reply, Value: v}).FirstErr()
}

func (v *envView) isHeartbeat() bool {
	return v.kind == msgbusv1.Kind_KIND_EVENT && string(v.method()) == heartbeatMethod
}

// sweep deletes the reply topics that have not moved for stale.
func (j *janitor) sweep() {
	c := j.c
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(c.cl)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		c.log.Debug("msgbus: list topics", "err", err)
		return
	}
	var names []string
	for _, t := range topics.Names() {
		if t != c.reply && replyTopicPattern.MatchString(t) {
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		clear(j.seen)
		return
	}
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		c.log.Debug("msgbus: list end offsets", "err", err)
		return
	}
	now := time.Now()
	sums := make(map[string]int64, len(names))
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			sums[o.Topic] += o.Offset
		}
	})
	var stale []string
	for t, sum := range sums {
		s, ok := j.seen[t]
		if !ok || s.ends != sum {
			j.seen[t] = sighting{ends: sum, since: now}
			continue
		}
		if now.Sub(s.since) >= j.stale {
			stale = append(stale, t)
		}
	}
	for t := range j.seen {
		if _, ok := sums[t]; !ok {
			delete(j.seen, t) // gone
		}
	}
	if len(stale) == 0 {
		return
	}
	resps, err := adm.DeleteTopics(ctx, stale...)
	if err != nil {
		c.log.Debug("msgbus: delete stale reply topics", "topics", stale, "err", err)
		return
	}
	for _, r := range resps.Sorted() {
		delete(j.seen, r.Topic)
		if r.Err == nil {
			c.log.Info("msgbus: deleted a stale reply topic (its owner is gone)", "topic", r.Topic, "idle_for", j.stale)
		}
	}
}

// Ping reports whether the broker answers, within ctx: nil if it does,
// Unavailable if not. It is cheap (one request to one broker) and meant
// for health checks.
func (c *Conn) Ping(ctx context.Context) error {
	select {
	case <-c.closing:
		return status.Error(codes.Canceled, "msgbus: the connection is closing")
	default:
	}
	if err := c.cl.Ping(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return status.Error(codes.Canceled, "msgbus: ping canceled")
		}
		return status.Errorf(codes.Unavailable, "msgbus: the broker does not answer: %v", err)
	}
	return nil
}
