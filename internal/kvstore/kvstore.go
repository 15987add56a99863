// Package kvstore is the small key-value interface the core keeps its state
// in, with an etcd implementation for production and an in-memory one for
// tests and single-process runs. Both pass the same conformance suite in
// kvstoretest, so a caller cannot tell them apart except by durability.
//
// Keys are strings and are usually slash-separated paths. Prefixes are plain
// byte prefixes: List("/a/b/") does not return "/a/bc", but List("/a/b")
// does. Revisions are global to the store and strictly increasing, as in
// etcd: every change gets a revision higher than all before it.
package kvstore

import (
	"context"
	"time"
)

// Store is a key-value store with revisions, prefix watches and leases.
// All methods are safe for concurrent use.
type Store interface {
	// Get returns the value at key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns every key that starts with prefix, sorted by key.
	// An empty prefix lists the whole store.
	List(ctx context.Context, prefix string) ([]KV, error)
	// Put writes value at key and returns the revision of the write.
	Put(ctx context.Context, key string, value []byte, opts ...PutOption) (int64, error)
	// CompareAndSwap writes value at key only if the key's current
	// revision is expectRevision; 0 means the key must not exist. It
	// returns the new revision, or an error wrapping ErrConflict.
	CompareAndSwap(ctx context.Context, key string, expectRevision int64, value []byte, opts ...PutOption) (int64, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every key that starts with prefix, atomically.
	// The prefix must not be empty.
	DeletePrefix(ctx context.Context, prefix string) error
	// Batch applies puts and deletes in order. A chunk holding an op with
	// Create set applies only if none of its Create keys exists, else
	// nothing of it is applied and Batch fails with ErrConflict. Each chunk of up to
	// MaxBatch() ops and MaxTxnBytes (or one op, if larger) is atomic (one etcd transaction); a longer batch is
	// applied chunk by chunk, so a failure can leave earlier chunks
	// applied. A key may appear once per chunk.
	Batch(ctx context.Context, ops []Op) error
	// MaxBatch is the most ops one atomic chunk of Batch holds.
	MaxBatch() int
	// Watch reports every change to keys under prefix made after Watch
	// returns, in revision order. The channel closes when ctx ends, when
	// the store closes, or when the watch fails (for example, etcd lost its
	// leader or compacted the history); if ctx is still live when the
	// channel closes, the caller should List and Watch again.
	Watch(ctx context.Context, prefix string) (<-chan Event, error)
	// Grant creates a lease that expires ttl after its last KeepAlive.
	// Implementations may round ttl up (etcd uses whole seconds and a
	// minimum of about two seconds).
	Grant(ctx context.Context, ttl time.Duration) (LeaseID, error)
	// KeepAlive renews a lease once, restarting its TTL. Callers holding a
	// lease call it a few times per TTL. An expired or revoked lease gives
	// an error wrapping ErrLeaseNotFound.
	KeepAlive(ctx context.Context, id LeaseID) error
	// Revoke ends a lease now and deletes every key attached to it.
	Revoke(ctx context.Context, id LeaseID) error
	// Close releases the store and ends its watches. Later calls fail with
	// ErrClosed; closing twice is harmless.
	Close() error
}

// MaxTxnBytes bounds the keys and values of one chunk of Batch, under
// etcd's default limit of a request's size (--max-request-bytes, 1.5 MiB).
const MaxTxnBytes = 1 << 20

// OpsBytes is the size of ops' keys and values.
func OpsBytes(ops []Op) int {
	n := 0
	for _, op := range ops {
		n += len(op.Key) + len(op.Value)
	}
	return n
}

// DefaultMaxTxnOps is etcd's default limit of operations per transaction
// (its --max-txn-ops), and so the default MaxBatch.
const DefaultMaxTxnOps = 128

// Op is one write of a Batch: a put of Value at Key, or a delete of Key.
// Create makes a put a claim: the key must not exist (as CompareAndSwap
// with revision 0), for the whole chunk it is in.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
	Create bool
}

// KV is one key with its value and the revision that last modified it.
type KV struct {
	Key   string
	Value []byte
	// Revision is the mod revision: the store revision of the last write.
	Revision int64
}

// EventType says what happened to a key.
type EventType int

// Event types. The zero value is invalid so a forgotten field shows up.
const (
	EventPut EventType = iota + 1
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	default:
		return "INVALID"
	}
}

// Event is one change seen by Watch. For a delete, KV holds only the key and
// the revision of the delete.
type Event struct {
	Type     EventType
	KV       KV
	Revision int64
}

// LeaseID names a lease. Zero means no lease.
type LeaseID int64

// PutOption changes how Put and CompareAndSwap write.
type PutOption func(*putOptions)

type putOptions struct {
	lease LeaseID
}

// WithLease attaches the key to a lease, so it is deleted when the lease is
// revoked or expires. A later Put without WithLease detaches it.
func WithLease(id LeaseID) PutOption {
	return func(o *putOptions) { o.lease = id }
}

func applyPutOptions(opts []PutOption) putOptions {
	var o putOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
