package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openvolt/openvolt/internal/core/nbi"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// omciRecords reads the records the omci_onu adapter keeps in the core's
// store (<prefix>/omci_onu/<device id>/{mib,omci}) for the NBI.
type omciRecords struct {
	kv interface {
		Get(ctx context.Context, key string) (kvstore.KV, error)
	}
	prefix string
}

func (r omciRecords) read(ctx context.Context, dev, name string) ([]byte, error) {
	kv, err := r.kv.Get(ctx, fmt.Sprintf("/%s/omci_onu/%s/%s", strings.Trim(r.prefix, "/"), dev, name))
	if errors.Is(err, kvstore.ErrNotFound) {
		return nil, nbi.ErrNoRecord
	}
	if err != nil {
		return nil, err
	}
	return kv.Value, nil
}

func (r omciRecords) MIB(ctx context.Context, dev string) ([]byte, error) {
	return r.read(ctx, dev, "mib")
}

func (r omciRecords) Stats(ctx context.Context, dev string) ([]byte, error) {
	return r.read(ctx, dev, "omci")
}
