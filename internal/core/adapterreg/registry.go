// Package adapterreg keeps the registered adapters and the device types they
// serve. A device type names its adapter, and the adapter's endpoint is the
// topic the core sends that type's calls to. Registrations persist; an
// adapter re-registers as its heartbeat.
package adapterreg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
)

var (
	// idPattern is what adapter and device type ids look like: short,
	// lower case, safe in a KV key, a log line and a CLI argument.
	idPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	// endpointPattern is a legal Kafka topic name.
	endpointPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
)

// DefaultPersistEvery is how long heartbeats of an unchanged registration
// update last_seen only in memory before it is written again.
const DefaultPersistEvery = 5 * time.Second

// Config wires a Registry. Store is required.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
	// PersistEvery spares the store a write per heartbeat (default
	// DefaultPersistEvery). A change is always written at once.
	PersistEvery time.Duration
}

// Registry holds the adapters and device types.
type Registry struct {
	store        *store.Store
	log          *slog.Logger
	now          func() time.Time
	persistEvery time.Duration

	// regMu serialises registrations, so the owner check and the writes of
	// one are not interleaved with another's. Held across the store;
	// registrations are rare and quick. Lock order: regMu, then mu.
	regMu sync.Mutex

	mu        sync.RWMutex                  // guards the maps below
	adapters  map[string]*voltv1.Adapter    // adapter id → snapshot, never modified
	types     map[string]*voltv1.DeviceType // type id → snapshot, never modified
	persisted map[string]time.Time          // adapter id → last_seen last written
	// instances holds, per adapter id, the start times (Adapter.registered
	// as the adapter sends it) of the instances seen since this registry
	// was made: a new one is a restarted adapter (or a new replica), with
	// devices to reconcile.
	instances map[string]map[int64]bool
}

// New returns an empty registry; call Load to restore the stored one.
func New(cfg Config) (*Registry, error) {
	if cfg.Store == nil {
		return nil, errors.New("adapterreg: Config.Store is required")
	}
	if cfg.PersistEvery < 0 {
		return nil, fmt.Errorf("adapterreg: Config.PersistEvery %v is negative", cfg.PersistEvery)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PersistEvery == 0 {
		cfg.PersistEvery = DefaultPersistEvery
	}
	return &Registry{
		store:        cfg.Store,
		log:          cfg.Logger,
		now:          cfg.Now,
		persistEvery: cfg.PersistEvery,
		adapters:     make(map[string]*voltv1.Adapter),
		types:        make(map[string]*voltv1.DeviceType),
		persisted:    make(map[string]time.Time),
		instances:    make(map[string]map[int64]bool),
	}, nil
}

// Load replaces the in-memory registry with the stored one. Adapters loaded
// here still count as not seen since start.
func (r *Registry) Load(ctx context.Context) error {
	as, err := r.store.Adapters.List(ctx)
	if err != nil {
		return fmt.Errorf("load adapters: %w", err)
	}
	ts, err := r.store.DeviceTypes.List(ctx)
	if err != nil {
		return fmt.Errorf("load device types: %w", err)
	}
	adapters := make(map[string]*voltv1.Adapter, len(as))
	for _, a := range as {
		adapters[a.GetId()] = a
	}
	types := make(map[string]*voltv1.DeviceType, len(ts))
	for _, t := range ts {
		types[t.GetId()] = t
		if adapters[t.GetAdapter()] == nil {
			// A registration cut short: the types are written before
			// their adapter. It resolves when the adapter registers.
			r.log.Warn("device type without its adapter", "type", t.GetId(), "adapter", t.GetAdapter())
		}
	}
	r.regMu.Lock()
	defer r.regMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.adapters, r.types = adapters, types
	r.persisted = make(map[string]time.Time)
	return nil
}

// Register records an adapter and the device types it serves, replacing the
// types it served before. firstSinceStart is true on the adapter's first
// registration since this registry was made, which is when the core asks it
// to reconcile its devices. A type served by another adapter is refused
// with an error wrapping coreerr.ErrAlreadyExists; a malformed request with
// coreerr.ErrInvalidArgument.
func (r *Registry) Register(ctx context.Context, a *voltv1.Adapter, types []*voltv1.DeviceType) (firstSinceStart bool, err error) {
	if err := validate(a, types); err != nil {
		return false, err
	}
	r.regMu.Lock()
	defer r.regMu.Unlock()

	now := r.now()
	r.mu.RLock()
	prev := r.adapters[a.GetId()]
	lastWrite, seen := r.persisted[a.GetId()]
	inst := a.GetRegistered().AsTime().UnixNano()
	newInstance := a.GetRegistered() != nil && !r.instances[a.GetId()][inst]
	var conflicts []string
	oldTypes := make(map[string]*voltv1.DeviceType)
	for _, t := range r.types {
		if t.GetAdapter() == a.GetId() {
			oldTypes[t.GetId()] = t
		}
	}
	for _, t := range types {
		if cur := r.types[t.GetId()]; cur != nil && cur.GetAdapter() != a.GetId() {
			conflicts = append(conflicts, fmt.Sprintf("%q (served by %q)", t.GetId(), cur.GetAdapter()))
		}
	}
	r.mu.RUnlock()
	if len(conflicts) > 0 {
		return false, coreerr.New(coreerr.ErrAlreadyExists, fmt.Sprintf(
			"adapter %q: device type %s already registered by another adapter", a.GetId(), strings.Join(conflicts, ", ")))
	}

	nextA, nextTypes := normalize(a, types, prev, now)
	if seen && !newInstance && unchanged(prev, nextA, oldTypes, nextTypes) && now.Sub(lastWrite) < r.persistEvery {
		// A heartbeat: last_seen moves in memory only.
		r.mu.Lock()
		r.adapters[a.GetId()] = nextA
		r.mu.Unlock()
		return false, nil
	}

	// Types first and the adapter last: the adapter record completes a
	// registration, and an adapter is never stored naming a type that is
	// not there.
	for _, t := range nextTypes {
		if err := r.store.DeviceTypes.Put(ctx, t.GetId(), t); err != nil {
			return false, err
		}
	}
	for id := range oldTypes {
		if !slices.ContainsFunc(nextTypes, func(t *voltv1.DeviceType) bool { return t.GetId() == id }) {
			if err := r.store.DeviceTypes.Delete(ctx, id); err != nil {
				return false, err
			}
		}
	}
	if err := r.store.Adapters.Put(ctx, nextA.GetId(), nextA); err != nil {
		return false, err
	}

	r.mu.Lock()
	for id := range oldTypes {
		delete(r.types, id)
	}
	for _, t := range nextTypes {
		r.types[t.GetId()] = t
	}
	r.adapters[nextA.GetId()] = nextA
	r.persisted[nextA.GetId()] = now
	if a.GetRegistered() != nil {
		if r.instances[a.GetId()] == nil {
			r.instances[a.GetId()] = make(map[int64]bool)
		}
		r.instances[a.GetId()][inst] = true
	}
	r.mu.Unlock()

	r.log.Debug("adapter registration", "adapter", nextA.GetId(), "new", !seen, "new_instance", newInstance)
	if !seen {
		r.log.Info("adapter registered", "adapter", nextA.GetId(), "endpoint", nextA.GetEndpoint(),
			"version", nextA.GetVersion(), "types", nextA.GetDeviceTypes())
	}
	return !seen || newInstance, nil
}

// validate checks a registration before anything is written.
func validate(a *voltv1.Adapter, types []*voltv1.DeviceType) error {
	invalid := func(format string, args ...any) error {
		return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf(format, args...))
	}
	if a == nil {
		return invalid("register: no adapter given")
	}
	if !idPattern.MatchString(a.GetId()) {
		return invalid("adapter id %q: want a lower-case name matching %s", a.GetId(), idPattern)
	}
	if !endpointPattern.MatchString(a.GetEndpoint()) || a.GetEndpoint() == "." || a.GetEndpoint() == ".." {
		return invalid("adapter %q: endpoint %q is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)",
			a.GetId(), a.GetEndpoint())
	}
	if len(types) == 0 {
		return invalid("adapter %q registers no device types", a.GetId())
	}
	seen := make(map[string]bool, len(types))
	for _, t := range types {
		if t == nil {
			return invalid("adapter %q: empty device type", a.GetId())
		}
		if !idPattern.MatchString(t.GetId()) {
			return invalid("adapter %q: device type id %q: want a lower-case name matching %s", a.GetId(), t.GetId(), idPattern)
		}
		if seen[t.GetId()] {
			return invalid("adapter %q: device type %q listed twice", a.GetId(), t.GetId())
		}
		seen[t.GetId()] = true
		if t.GetAdapter() != "" && t.GetAdapter() != a.GetId() {
			return invalid("adapter %q: device type %q names adapter %q", a.GetId(), t.GetId(), t.GetAdapter())
		}
	}
	return nil
}

// normalize returns the records to store: copies, so the caller's messages
// are never kept or changed. The adapter keeps its first registration time
// and lists its types sorted; each type names the adapter.
func normalize(a *voltv1.Adapter, types []*voltv1.DeviceType, prev *voltv1.Adapter, now time.Time) (*voltv1.Adapter, []*voltv1.DeviceType) {
	nextA := proto.Clone(a).(*voltv1.Adapter)
	nextA.Registered = prev.GetRegistered()
	if nextA.Registered == nil {
		nextA.Registered = timestamppb.New(now)
	}
	nextA.LastSeen = timestamppb.New(now)
	nextTypes := make([]*voltv1.DeviceType, 0, len(types))
	ids := make([]string, 0, len(types))
	for _, t := range types {
		nt := proto.Clone(t).(*voltv1.DeviceType)
		nt.Adapter = a.GetId()
		nextTypes = append(nextTypes, nt)
		ids = append(ids, nt.GetId())
	}
	slices.SortFunc(nextTypes, func(x, y *voltv1.DeviceType) int { return strings.Compare(x.GetId(), y.GetId()) })
	slices.Sort(ids)
	nextA.DeviceTypes = ids
	return nextA, nextTypes
}

// unchanged reports whether a registration says the same as the stored one,
// apart from last_seen.
func unchanged(prev, next *voltv1.Adapter, oldTypes map[string]*voltv1.DeviceType, nextTypes []*voltv1.DeviceType) bool {
	if prev == nil || len(oldTypes) != len(nextTypes) {
		return false
	}
	p := proto.Clone(prev).(*voltv1.Adapter)
	p.LastSeen = next.GetLastSeen()
	if !proto.Equal(p, next) {
		return false
	}
	for _, t := range nextTypes {
		if !proto.Equal(oldTypes[t.GetId()], t) {
			return false
		}
	}
	return true
}

// Adapters returns every adapter sorted by id.
func (r *Registry) Adapters() []*voltv1.Adapter {
	r.mu.RLock()
	out := slices.Collect(maps.Values(r.adapters))
	r.mu.RUnlock()
	slices.SortFunc(out, func(x, y *voltv1.Adapter) int { return strings.Compare(x.GetId(), y.GetId()) })
	return out
}

// DeviceTypes returns every device type sorted by id.
func (r *Registry) DeviceTypes() []*voltv1.DeviceType {
	r.mu.RLock()
	out := slices.Collect(maps.Values(r.types))
	r.mu.RUnlock()
	slices.SortFunc(out, func(x, y *voltv1.DeviceType) int { return strings.Compare(x.GetId(), y.GetId()) })
	return out
}

// ForType returns a device type and the adapter serving it.
func (r *Registry) ForType(typ string) (*voltv1.DeviceType, *voltv1.Adapter, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.types[typ]
	if t == nil {
		return nil, nil, false
	}
	a := r.adapters[t.GetAdapter()]
	if a == nil {
		return nil, nil, false
	}
	return t, a, true
}
