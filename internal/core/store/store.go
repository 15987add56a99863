// Package store keeps the core's objects in a key-value store (KV) as protobuf,
// one key per object under /<prefix>/<kind>/<id>.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// Repo stores one kind of message under a key prefix. Ids may contain "/"
// to group objects under a parent (ports under their device).
type Repo[T proto.Message] struct {
	kv     KV
	prefix string // "/volt/devices/"
	newT   func() T
}

func newRepo[T proto.Message](kv KV, prefix, kind string, newT func() T) Repo[T] {
	return Repo[T]{kv: kv, prefix: prefix + "/" + kind + "/", newT: newT}
}

// Key is the KV key of id.
func (r Repo[T]) Key(id string) string { return r.prefix + id }

// Get returns the object at id or an error wrapping coreerr.ErrNotFound.
func (r Repo[T]) Get(ctx context.Context, id string) (T, error) {
	var zero T
	kv, err := r.kv.Get(ctx, r.Key(id))
	if errors.Is(err, kvstore.ErrNotFound) {
		return zero, fmt.Errorf("%s: %w", r.Key(id), coreerr.ErrNotFound)
	}
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", r.Key(id), err)
	}
	v := r.newT()
	if err := proto.Unmarshal(kv.Value, v); err != nil {
		return zero, fmt.Errorf("decode %s: %w", r.Key(id), err)
	}
	return v, nil
}

var marshal = proto.MarshalOptions{Deterministic: true}

// Put writes v at id.
func (r Repo[T]) Put(ctx context.Context, id string, v T) error {
	b, err := marshal.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", r.Key(id), err)
	}
	if _, err := r.kv.Put(ctx, r.Key(id), b); err != nil {
		return fmt.Errorf("write %s: %w", r.Key(id), err)
	}
	return nil
}

// Delete removes id; a missing id is not an error.
func (r Repo[T]) Delete(ctx context.Context, id string) error {
	if err := r.kv.Delete(ctx, r.Key(id)); err != nil {
		return fmt.Errorf("delete %s: %w", r.Key(id), err)
	}
	return nil
}

// DeleteGroup removes every object whose id starts with group + "/".
func (r Repo[T]) DeleteGroup(ctx context.Context, group string) error {
	if err := r.kv.DeletePrefix(ctx, r.Key(group+"/")); err != nil {
		return fmt.Errorf("delete %s: %w", r.Key(group+"/"), err)
	}
	return nil
}

// List returns every object, sorted by id.
func (r Repo[T]) List(ctx context.Context) ([]T, error) { return r.list(ctx, r.prefix) }

// ListGroup returns the objects whose id starts with group + "/".
func (r Repo[T]) ListGroup(ctx context.Context, group string) ([]T, error) {
	return r.list(ctx, r.Key(group+"/"))
}

func (r Repo[T]) list(ctx context.Context, prefix string) ([]T, error) {
	kvs, err := r.kv.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		v := r.newT()
		if err := proto.Unmarshal(kv.Value, v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// KV is what the core asks of a key-value store (kvstore.Etcd,
// kvstore.Memory): reads, writes of one key or a prefix, and batched
// writes. Leases and watches it does not use.
type KV interface {
	Get(ctx context.Context, key string) (kvstore.KV, error)
	List(ctx context.Context, prefix string) ([]kvstore.KV, error)
	Put(ctx context.Context, key string, value []byte, opts ...kvstore.PutOption) (int64, error)
	Delete(ctx context.Context, key string) error
	DeletePrefix(ctx context.Context, prefix string) error
	Batch(ctx context.Context, ops []kvstore.Op) error
	MaxBatch() int
}

// Store holds a repository per kind.
type Store struct {
	KV             KV
	Prefix         string
	Devices        Repo[*voltv1.Device]        // <id>
	Ports          Repo[*voltv1.Port]          // <device id>/<port no>
	LogicalDevices Repo[*voltv1.LogicalDevice] // <id>
	LogicalPorts   Repo[*voltv1.LogicalPort]   // <logical device id>/<port id>
	Adapters       Repo[*voltv1.Adapter]       // <id>
	DeviceTypes    Repo[*voltv1.DeviceType]    // <id>
	Flows          Repo[*openflowv1.Flow]      // <logical device id>/<flow id>
	Groups         Repo[*openflowv1.GroupDesc] // <logical device id>/<group id>
	Meters         Repo[*openflowv1.MeterConfig]
	PmConfigs      Repo[*voltv1.PmConfig] // <device id>
	Alarms         Repo[*voltv1.Alarm]    // <device id>/<type>[/<resource>]
}

// New returns the repositories under /<prefix>/ (prefix "volt" when empty).
func New(kv KV, prefix string) *Store {
	prefix = "/" + strings.Trim(prefix, "/")
	if prefix == "/" {
		prefix = "/volt"
	}
	return &Store{
		KV:             kv,
		Prefix:         prefix,
		Devices:        newRepo(kv, prefix, "devices", func() *voltv1.Device { return new(voltv1.Device) }),
		Ports:          newRepo(kv, prefix, "ports", func() *voltv1.Port { return new(voltv1.Port) }),
		LogicalDevices: newRepo(kv, prefix, "logical_devices", func() *voltv1.LogicalDevice { return new(voltv1.LogicalDevice) }),
		LogicalPorts:   newRepo(kv, prefix, "logical_ports", func() *voltv1.LogicalPort { return new(voltv1.LogicalPort) }),
		Adapters:       newRepo(kv, prefix, "adapters", func() *voltv1.Adapter { return new(voltv1.Adapter) }),
		DeviceTypes:    newRepo(kv, prefix, "device_types", func() *voltv1.DeviceType { return new(voltv1.DeviceType) }),
		Flows:          newRepo(kv, prefix, "flows", func() *openflowv1.Flow { return new(openflowv1.Flow) }),
		Groups:         newRepo(kv, prefix, "groups", func() *openflowv1.GroupDesc { return new(openflowv1.GroupDesc) }),
		Meters:         newRepo(kv, prefix, "meters", func() *openflowv1.MeterConfig { return new(openflowv1.MeterConfig) }),
		PmConfigs:      newRepo(kv, prefix, "pm_configs", func() *voltv1.PmConfig { return new(voltv1.PmConfig) }),
		Alarms:         newRepo(kv, prefix, "alarms", func() *voltv1.Alarm { return new(voltv1.Alarm) }),
	}
}

// PortID is the id of a device port in Ports: the number zero-padded so the
// store lists ports in number order.
func PortID(deviceID string, portNo uint32) string {
	return fmt.Sprintf("%s/%010d", deviceID, portNo)
}

// PutOp is the batch op that writes v at id.
func (r Repo[T]) PutOp(id string, v T) (kvstore.Op, error) {
	b, err := marshal.Marshal(v)
	if err != nil {
		return kvstore.Op{}, fmt.Errorf("encode %s: %w", r.Key(id), err)
	}
	return kvstore.Op{Key: r.Key(id), Value: b}, nil
}

// DeleteOp is the batch op that removes id.
func (r Repo[T]) DeleteOp(id string) kvstore.Op {
	return kvstore.Op{Key: r.Key(id), Delete: true}
}
