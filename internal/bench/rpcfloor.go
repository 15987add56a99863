package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// floorRecordBytes is the size of the floor's records: about what a
// msgbus envelope of a health check weighs.
const floorRecordBytes = 180

// floorLoop is the floor `volt bench rpc` compares msgbus with: the
// fastest request/response a raw franz-go client does over the same
// broker, tuned as msgbus is (producer linger 0, no idempotent writes, one
// produce request in flight per broker), with the replies produced
// asynchronously, and records of about the same size and keys. There is no
// envelope, no dispatch and no executor: what msgbus costs beyond it is
// msgbus's own.
type floorLoop struct {
	caller, server *kgo.Client
	reqTopic       string
	replyTopic     string
	keys           [][]byte

	mu      sync.Mutex // guards waiting, seq
	waiting map[uint64]chan struct{}
	seq     uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup // the server loop and the reply loop
}

func floorOpts(brokers []string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ProducerLinger(0),
		kgo.DisableIdempotentWrite(),
		kgo.MaxProduceRequestsInflightPerBroker(1),
		kgo.DisableFetchSessions(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
}

// startFloor creates the floor's topics (the request topic with the
// broker's default partition count, as msgbus's bench server does; the
// reply topic with one) and starts its server and reply loops.
func startFloor(ctx context.Context, brokers []string, keys int) (*floorLoop, error) {
	id := randomID()
	f := &floorLoop{
		reqTopic:   "volt.bench.floor." + id,
		replyTopic: "volt.bench.floor." + id + ".reply",
		waiting:    make(map[uint64]chan struct{}),
	}
	for i := range keys {
		f.keys = append(f.keys, fmt.Appendf(nil, "dev-%d", i))
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	for topic, parts := range map[string]int32{f.reqTopic: -1, f.replyTopic: 1} {
		if _, err := adm.CreateTopic(ctx, parts, -1, nil, topic); err != nil && !isExists(err) {
			return nil, fmt.Errorf("bench: create %s: %w", topic, err)
		}
	}
	if f.server, err = kgo.NewClient(append(floorOpts(brokers), kgo.ConsumeTopics(f.reqTopic))...); err != nil {
		return nil, err
	}
	if f.caller, err = kgo.NewClient(append(floorOpts(brokers), kgo.ConsumeTopics(f.replyTopic))...); err != nil {
		f.server.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(2)
	go f.serve(lctx)
	go f.replies(lctx)
	return f, nil
}

func isExists(err error) bool { return errors.Is(err, kerr.TopicAlreadyExists) }

// serve answers every request with a record of the same value on the
// reply topic, produced asynchronously.
func (f *floorLoop) serve(ctx context.Context) {
	defer f.wg.Done()
	for {
		fs := f.server.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			f.server.Produce(ctx, &kgo.Record{Topic: f.replyTopic, Key: r.Key, Value: r.Value}, nil)
		})
	}
}

// replies hands each reply to the call waiting for its id.
func (f *floorLoop) replies(ctx context.Context) {
	defer f.wg.Done()
	for {
		fs := f.caller.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Value) < 8 {
				return
			}
			id := binary.BigEndian.Uint64(r.Value)
			f.mu.Lock()
			ch := f.waiting[id]
			delete(f.waiting, id)
			f.mu.Unlock()
			if ch != nil {
				ch <- struct{}{}
			}
		})
	}
}

// call makes round trip i: one request record out, its reply back.
func (f *floorLoop) call(ctx context.Context, i int) error {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	f.seq++
	id := f.seq
	f.waiting[id] = ch
	f.mu.Unlock()
	v := make([]byte, floorRecordBytes)
	binary.BigEndian.PutUint64(v, id)
	f.caller.Produce(ctx, &kgo.Record{Topic: f.reqTopic, Key: f.keys[i%len(f.keys)], Value: v}, nil)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		f.mu.Lock()
		delete(f.waiting, id)
		f.mu.Unlock()
		return fmt.Errorf("bench: the floor loop's call %d got no reply", id)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the loops and deletes the topics, best effort.
func (f *floorLoop) close() {
	f.cancel()
	f.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, _ = kadm.NewClient(f.caller).DeleteTopics(ctx, f.reqTopic, f.replyTopic)
	cancel()
	f.server.Close()
	f.caller.Close()
}
