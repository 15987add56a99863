package kvstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/openvolt/openvolt/internal/kvstore/internal/zapbridge"
)

// DefaultDialTimeout bounds how long NewEtcd waits for etcd to answer.
const DefaultDialTimeout = 3 * time.Second

// Config configures the etcd-backed store.
type Config struct {
	// Endpoints are etcd client URLs, such as "http://127.0.0.1:2379".
	Endpoints []string
	// DialTimeout bounds connecting and the first request; zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Logger receives the etcd client's errors and failed watches; nil
	// discards them.
	Logger *slog.Logger
	// MaxTxnOps is the most operations the cluster takes in one
	// transaction (etcd's --max-txn-ops); Batch writes chunks of this
	// many. Zero means DefaultMaxTxnOps.
	MaxTxnOps int
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Endpoints) == 0 {
		return c, errors.New("kvstore: no etcd endpoints configured")
	}
	for _, ep := range c.Endpoints {
		if ep == "" {
			return c, errors.New("kvstore: empty etcd endpoint")
		}
	}
	if c.DialTimeout < 0 {
		return c, fmt.Errorf("kvstore: negative dial timeout %v", c.DialTimeout)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxTxnOps < 0 {
		return c, fmt.Errorf("kvstore: negative max txn ops %d", c.MaxTxnOps)
	}
	if c.MaxTxnOps == 0 {
		c.MaxTxnOps = DefaultMaxTxnOps
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Etcd is a Store backed by an etcd cluster.
type Etcd struct {
	cli       *clientv3.Client
	log       *slog.Logger
	maxTxnOps int
	// ctx ends when Close starts; watch goroutines derive from it.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards closed, and makes wg.Add happen only while open so that
	// Close's wg.Wait cannot race with it.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // one per watch goroutine
}

var _ Store = (*Etcd)(nil)

// NewEtcd connects to etcd and checks, within cfg.DialTimeout, that the
// cluster answers a linearizable read. The client dials lazily, so without
// this check a wrong address would only show up on first use.
func NewEtcd(ctx context.Context, cfg Config) (*Etcd, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		// The client logs every retry at warn; only errors are worth seeing.
		Logger: zapbridge.New(cfg.Logger, zapcore.ErrorLevel, nil),
		// An etcd that was down for a while is reached again within a
		// second of its return, not after gRPC's backoff grew to minutes.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("kvstore: etcd client for %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := cli.Get(checkCtx, "/", clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("kvstore: etcd at %s did not answer within %v: %w",
			strings.Join(cfg.Endpoints, ","), cfg.DialTimeout, err)
	}
	storeCtx, storeCancel := context.WithCancel(context.Background())
	return &Etcd{cli: cli, log: cfg.Logger, maxTxnOps: cfg.MaxTxnOps, ctx: storeCtx, cancel: storeCancel}, nil
}

func (s *Etcd) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// fail wraps err for op on subject (a quoted key or a lease), turning
// etcd's errors into this package's sentinels.
func (s *Etcd) fail(op, subject string, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		err = ErrLeaseNotFound
	case s.isClosed():
		err = ErrClosed
	}
	if subject == "" {
		return fmt.Errorf("kvstore: %s: %w", op, err)
	}
	return fmt.Errorf("kvstore: %s %s: %w", op, subject, err)
}

func (s *Etcd) putOps(opts []PutOption) []clientv3.OpOption {
	o := applyPutOptions(opts)
	if o.lease == 0 {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithLease(clientv3.LeaseID(o.lease))}
}

// Get implements Store.
func (s *Etcd) Get(ctx context.Context, key string) (KV, error) {
	if key == "" {
		return KV{}, fmt.Errorf("kvstore: get: %w", ErrEmptyKey)
	}
	if s.isClosed() {
		return KV{}, s.fail("get", strconv.Quote(key), ErrClosed)
	}
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return KV{}, s.fail("get", strconv.Quote(key), err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, fmt.Errorf("kvstore: get %q: %w", key, ErrNotFound)
	}
	kv := resp.Kvs[0]
	return KV{Key: string(kv.Key), Value: kv.Value, Revision: kv.ModRevision}, nil
}

// List implements Store.
func (s *Etcd) List(ctx context.Context, prefix string) ([]KV, error) {
	if s.isClosed() {
		return nil, s.fail("list", strconv.Quote(prefix), ErrClosed)
	}
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, s.fail("list", strconv.Quote(prefix), err)
	}
	var out []KV
	for _, kv := range resp.Kvs {
		out = append(out, KV{Key: string(kv.Key), Value: kv.Value, Revision: kv.ModRevision})
	}
	return out, nil
}

// Put implements Store.
func (s *Etcd) Put(ctx context.Context, key string, value []byte, opts ...PutOption) (int64, error) {
	if key == "" {
		return 0, fmt.Errorf("kvstore: put: %w", ErrEmptyKey)
	}
	if s.isClosed() {
		return 0, s.fail("put", strconv.Quote(key), ErrClosed)
	}
	resp, err := s.cli.Put(ctx, key, string(value), s.putOps(opts)...)
	if err != nil {
		return 0, s.fail("put", strconv.Quote(key), err)
	}
	s.log.Debug("put", "key", key, "bytes", len(value), "revision", resp.Header.Revision)
	return resp.Header.Revision, nil
}

// CompareAndSwap implements Store.
func (s *Etcd) CompareAndSwap(ctx context.Context, key string, expectRevision int64, value []byte, opts ...PutOption) (int64, error) {
	if key == "" {
		return 0, fmt.Errorf("kvstore: compare-and-swap: %w", ErrEmptyKey)
	}
	if s.isClosed() {
		return 0, s.fail("compare-and-swap", strconv.Quote(key), ErrClosed)
	}
	// A key that never existed, or was deleted, has create revision 0.
	cmp := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	if expectRevision != 0 {
		cmp = clientv3.Compare(clientv3.ModRevision(key), "=", expectRevision)
	}
	resp, err := s.cli.Txn(ctx).If(cmp).Then(clientv3.OpPut(key, string(value), s.putOps(opts)...)).Commit()
	if err != nil {
		return 0, s.fail("compare-and-swap", strconv.Quote(key), err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("kvstore: compare-and-swap %q at revision %d: %w", key, expectRevision, ErrConflict)
	}
	return resp.Header.Revision, nil
}

// Delete implements Store.
func (s *Etcd) Delete(ctx context.Context, key string) error {
	if key == "" {
		return fmt.Errorf("kvstore: delete: %w", ErrEmptyKey)
	}
	if s.isClosed() {
		return s.fail("delete", strconv.Quote(key), ErrClosed)
	}
	if _, err := s.cli.Delete(ctx, key); err != nil {
		return s.fail("delete", strconv.Quote(key), err)
	}
	s.log.Debug("delete", "key", key)
	return nil
}

// MaxBatch implements Store.
func (s *Etcd) MaxBatch() int { return s.maxTxnOps }

// Batch implements Store: one transaction per chunk of at most MaxBatch
// ops and MaxTxnBytes.
func (s *Etcd) Batch(ctx context.Context, ops []Op) error {
	if s.isClosed() {
		return s.fail("batch", fmt.Sprintf("of %d ops", len(ops)), ErrClosed)
	}
	for _, op := range ops {
		if op.Key == "" {
			return fmt.Errorf("kvstore: batch: %w", ErrEmptyKey)
		}
	}
	for len(ops) > 0 {
		n, bytes := 0, 0
		for n < len(ops) && n < s.maxTxnOps {
			b := len(ops[n].Key) + len(ops[n].Value)
			if n > 0 && bytes+b > MaxTxnBytes {
				break
			}
			bytes += b
			n++
		}
		txnOps := make([]clientv3.Op, n)
		var absent []clientv3.Cmp
		for i, op := range ops[:n] {
			if op.Delete {
				txnOps[i] = clientv3.OpDelete(op.Key)
			} else {
				txnOps[i] = clientv3.OpPut(op.Key, string(op.Value))
				if op.Create {
					absent = append(absent, clientv3.Compare(clientv3.CreateRevision(op.Key), "=", 0))
				}
			}
		}
		resp, err := s.cli.Txn(ctx).If(absent...).Then(txnOps...).Commit()
		if err != nil {
			return s.fail("batch", fmt.Sprintf("of %d ops", len(ops)), err)
		}
		if !resp.Succeeded {
			return fmt.Errorf("kvstore: batch of %d ops: a key to create exists: %w", len(ops), ErrConflict)
		}
		s.log.Debug("batch", "ops", n, "bytes", bytes, "first_key", ops[0].Key)
		ops = ops[n:]
	}
	return nil
}

// DeletePrefix implements Store.
func (s *Etcd) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("kvstore: delete prefix: %w", ErrEmptyKey)
	}
	if s.isClosed() {
		return s.fail("delete prefix", strconv.Quote(prefix), ErrClosed)
	}
	if _, err := s.cli.Delete(ctx, prefix, clientv3.WithPrefix()); err != nil {
		return s.fail("delete prefix", strconv.Quote(prefix), err)
	}
	return nil
}

// Watch implements Store. It reads the current revision first and watches
// from the one after it, because etcd registers a watch asynchronously and
// a change made just after Watch returned could otherwise be missed.
func (s *Etcd) Watch(ctx context.Context, prefix string) (<-chan Event, error) {
	subject := strconv.Quote(prefix)
	if s.isClosed() {
		return nil, s.fail("watch", subject, ErrClosed)
	}
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return nil, s.fail("watch", subject, err)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, s.fail("watch", subject, ErrClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()

	// The watch ends with the caller's ctx or with the store.
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	// Without a leader a member's watch would hang silently; with
	// WithRequireLeader it fails and the channel closes.
	wch := s.cli.Watch(clientv3.WithRequireLeader(wctx), prefix,
		clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	out := make(chan Event)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer stop()
		defer cancel()
		s.forward(wctx, prefix, wch, out)
	}()
	return out, nil
}

// forward converts etcd watch responses into Events until the watch ends.
func (s *Etcd) forward(ctx context.Context, prefix string, wch clientv3.WatchChan, out chan<- Event) {
	for {
		var wr clientv3.WatchResponse
		var ok bool
		select {
		case wr, ok = <-wch:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		if err := wr.Err(); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("kvstore: etcd watch ended", "prefix", prefix, "err", err)
			}
			return
		}
		for _, ev := range wr.Events {
			e := Event{
				Type:     EventPut,
				KV:       KV{Key: string(ev.Kv.Key), Value: ev.Kv.Value, Revision: ev.Kv.ModRevision},
				Revision: ev.Kv.ModRevision,
			}
			if ev.Type == clientv3.EventTypeDelete {
				e.Type = EventDelete
				e.KV.Value = nil
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}
}

// Grant implements Store. etcd counts TTLs in whole seconds, so ttl is
// rounded up; the server may raise it further to its minimum.
func (s *Etcd) Grant(ctx context.Context, ttl time.Duration) (LeaseID, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("kvstore: grant: TTL %v is not positive", ttl)
	}
	if s.isClosed() {
		return 0, s.fail("grant", "", ErrClosed)
	}
	resp, err := s.cli.Grant(ctx, int64(math.Ceil(ttl.Seconds())))
	if err != nil {
		return 0, s.fail("grant", "", err)
	}
	return LeaseID(resp.ID), nil
}

// KeepAlive implements Store.
func (s *Etcd) KeepAlive(ctx context.Context, id LeaseID) error {
	subject := fmt.Sprintf("lease %d", id)
	if s.isClosed() {
		return s.fail("keep alive", subject, ErrClosed)
	}
	if _, err := s.cli.KeepAliveOnce(ctx, clientv3.LeaseID(id)); err != nil {
		return s.fail("keep alive", subject, err)
	}
	return nil
}

// Revoke implements Store.
func (s *Etcd) Revoke(ctx context.Context, id LeaseID) error {
	subject := fmt.Sprintf("lease %d", id)
	if s.isClosed() {
		return s.fail("revoke", subject, ErrClosed)
	}
	if _, err := s.cli.Revoke(ctx, clientv3.LeaseID(id)); err != nil {
		return s.fail("revoke", subject, err)
	}
	return nil
}

// Close implements Store. It ends the watches before closing the client so
// none of them logs the client's shutdown as a failure.
func (s *Etcd) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if err := s.cli.Close(); err != nil {
		return fmt.Errorf("kvstore: close etcd client: %w", err)
	}
	return nil
}
