package kvstore

import "errors"

// Sentinel errors. Implementations wrap them with %w and context (the key,
// the operation); callers test with errors.Is.
var (
	// ErrNotFound reports that a key does not exist.
	ErrNotFound = errors.New("kvstore: key not found")
	// ErrConflict reports that CompareAndSwap found a different revision than
	// the caller expected (or a key where none was expected).
	ErrConflict = errors.New("kvstore: revision conflict")
	// ErrLeaseNotFound reports a lease that was never granted, was revoked,
	// or has expired.
	ErrLeaseNotFound = errors.New("kvstore: lease not found")
	// ErrEmptyKey reports an empty key, or an empty prefix where deleting
	// the whole keyspace would be the result.
	ErrEmptyKey = errors.New("kvstore: empty key")
	// ErrClosed reports use of a store after Close.
	ErrClosed = errors.New("kvstore: store closed")
)
