package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/openvolt/openvolt/internal/core/nbi"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// omciRecords reads the records the omci_onu adapter keeps in the core's
// store (<prefix>/omci_onu/<device id>/{mib,sync,omci}) for the NBI.
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

// MIB is the stored MIB with the MIB data sync counter of the ONU's last
// change (kept apart, at <device id>/sync, so a change does not rewrite
// the whole MIB).
func (r omciRecords) MIB(ctx context.Context, dev string) ([]byte, error) {
	mib, err := r.read(ctx, dev, "mib")
	if err != nil {
		return nil, err
	}
	sync, err := r.read(ctx, dev, "sync")
	if errors.Is(err, nbi.ErrNoRecord) {
		return mib, nil // stored before the counter had its own record
	}
	if err != nil {
		return nil, err
	}
	var counter struct {
		MibDataSync json.RawMessage `json:"mib_data_sync"`
	}
	var rec map[string]json.RawMessage
	if json.Unmarshal(sync, &counter) != nil || counter.MibDataSync == nil || json.Unmarshal(mib, &rec) != nil {
		return mib, nil // the NBI reports what it cannot read
	}
	rec["mib_data_sync"] = counter.MibDataSync
	return json.Marshal(rec)
}

func (r omciRecords) Stats(ctx context.Context, dev string) ([]byte, error) {
	return r.read(ctx, dev, "omci")
}
