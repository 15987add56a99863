package openolt

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/kvstore"
)

// Pool names, as they appear in keys and errors.
const (
	PoolONU   = "onu_id"
	PoolAlloc = "alloc_id"
	PoolGEM   = "gemport_id"
	PoolFlow  = "flow_id"
)

// DefaultFlowIDEnd ends the flow id pool of an OLT whose GetDeviceInfo
// names none: ids 1..DefaultFlowIDEnd.
const DefaultFlowIDEnd = 1<<24 - 1

// oltWide is the "PON" of the flow id pool: flow ids are unique per OLT
// (an openolt agent keys its flows by flow_id alone).
const oltWide = -1

// Persistence: every id handed out is a key in etcd,
//
//	<prefix>/openolt/<olt id>/resources/<pon|olt>/<pool>/<id> = owner
//
// written with a compare-and-swap that expects no key, so two adapter
// replicas (or a restarted one) never hand out one id twice; the pools in
// memory are a cache rebuilt from these keys when an OLT is (re)attached.

// pool is one range of ids of one PON (or of the OLT). Its fields are
// guarded by pools.mu.
type pool struct {
	pon        int
	name       string
	start, end uint32
	used       map[uint32]string // id → owner
	next       uint32            // where the next search starts
}

// poolKV is what the pools ask of the store: a list at start, and
// compare-and-swap or batched writes to claim and free ids.
type poolKV interface {
	List(ctx context.Context, prefix string) ([]kvstore.KV, error)
	CompareAndSwap(ctx context.Context, key string, expectRevision int64, value []byte, opts ...kvstore.PutOption) (int64, error)
	Batch(ctx context.Context, ops []kvstore.Op) error
}

// pools are the resource pools of one OLT.
type pools struct {
	kv     poolKV
	prefix string // <prefix>/openolt/<olt id>/resources/

	mu    sync.Mutex // guards pools and their contents
	pools map[poolKey]*pool
}

type poolKey struct {
	pon  int
	name string
}

// errNoRanges and friends name what GetDeviceInfo lacked.
var errDeviceInfo = errors.New("GetDeviceInfo")

// poolsFromInfo checks the resource ranges of info and builds empty pools:
// onu, alloc and GEM port ids per PON, flow ids per OLT. A missing range
// is an error naming the field.
func poolsFromInfo(kv poolKV, prefix string, info *openolt.DeviceInfo) (*pools, error) {
	if info.GetPonPorts() == 0 {
		return nil, fmt.Errorf("%w: pon_ports is 0", errDeviceInfo)
	}
	if len(info.GetRanges()) == 0 {
		return nil, fmt.Errorf("%w: ranges is empty: the OLT reports no resource ranges (onu, alloc, gemport, flow ids)", errDeviceInfo)
	}
	p := &pools{kv: kv, prefix: prefix, pools: make(map[poolKey]*pool)}
	for ri, r := range info.GetRanges() {
		if len(r.GetIntfIds()) == 0 {
			return nil, fmt.Errorf("%w: ranges[%d].intf_ids is empty", errDeviceInfo, ri)
		}
		for _, pl := range r.GetPools() {
			name := poolName(pl.GetType())
			if name == "" {
				continue
			}
			if pl.GetEnd() < pl.GetStart() || (pl.GetStart() == 0 && name != PoolONU && name != PoolFlow) {
				return nil, fmt.Errorf("%w: ranges[%d] pool %s: start %d, end %d is no range", errDeviceInfo, ri, name, pl.GetStart(), pl.GetEnd())
			}
			start := pl.GetStart()
			if start == 0 {
				start = 1 // 0 means "none" for onu and flow ids
			}
			if name == PoolFlow {
				if _, ok := p.pools[poolKey{oltWide, name}]; !ok {
					p.pools[poolKey{oltWide, name}] = newPool(oltWide, name, start, pl.GetEnd())
				}
				continue
			}
			for _, intf := range r.GetIntfIds() {
				p.pools[poolKey{int(intf), name}] = newPool(int(intf), name, start, pl.GetEnd())
			}
		}
	}
	for pon := range info.GetPonPorts() {
		for _, name := range []string{PoolONU, PoolAlloc, PoolGEM} {
			if _, ok := p.pools[poolKey{int(pon), name}]; !ok {
				return nil, fmt.Errorf("%w: ranges has no %s pool for pon %d", errDeviceInfo, name, pon)
			}
		}
	}
	if _, ok := p.pools[poolKey{oltWide, PoolFlow}]; !ok {
		// Agents that leave flow ids to the adapter (BBSim, openolt agents
		// since flow_id became 64 bits) report no flow pool.
		p.pools[poolKey{oltWide, PoolFlow}] = newPool(oltWide, PoolFlow, 1, DefaultFlowIDEnd)
	}
	return p, nil
}

func newPool(pon int, name string, start, end uint32) *pool {
	return &pool{pon: pon, name: name, start: start, end: end, used: make(map[uint32]string), next: start}
}

func poolName(t openolt.DeviceInfo_DeviceResourceRanges_Pool_PoolType) string {
	switch t {
	case openolt.DeviceInfo_DeviceResourceRanges_Pool_ONU_ID:
		return PoolONU
	case openolt.DeviceInfo_DeviceResourceRanges_Pool_ALLOC_ID:
		return PoolAlloc
	case openolt.DeviceInfo_DeviceResourceRanges_Pool_GEMPORT_ID:
		return PoolGEM
	case openolt.DeviceInfo_DeviceResourceRanges_Pool_FLOW_ID:
		return PoolFlow
	}
	return ""
}

func ponSegment(pon int) string {
	if pon == oltWide {
		return "olt"
	}
	return strconv.Itoa(pon)
}

func (p *pools) key(pon int, name string, id uint32) string {
	return fmt.Sprintf("%s%s/%s/%d", p.prefix, ponSegment(pon), name, id)
}

// load fills the pools from the store: what was handed out before.
func (p *pools) load(ctx context.Context) error {
	kvs, err := p.kv.List(ctx, p.prefix)
	if err != nil {
		return fmt.Errorf("loading resources: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, kv := range kvs {
		parts := strings.Split(strings.TrimPrefix(kv.Key, p.prefix), "/")
		if len(parts) != 3 {
			continue
		}
		pon := oltWide
		if parts[0] != "olt" {
			n, err := strconv.Atoi(parts[0])
			if err != nil {
				continue
			}
			pon = n
		}
		id, err := strconv.ParseUint(parts[2], 10, 32)
		if err != nil {
			continue
		}
		if pl := p.pools[poolKey{pon, parts[1]}]; pl != nil {
			pl.used[uint32(id)] = string(kv.Value)
		}
	}
	return nil
}

func exhausted(pl *pool) error {
	where := "the OLT"
	if pl.pon != oltWide {
		where = fmt.Sprintf("pon %d", pl.pon)
	}
	return status.Errorf(codes.ResourceExhausted, "%s: %s pool exhausted (%d ids, %d..%d, all in use)",
		where, pl.name, pl.end-pl.start+1, pl.start, pl.end)
}

// Get allocates n ids of pool name on pon for owner and persists them
// before returning; either all are allocated or none.
func (p *pools) Get(ctx context.Context, pon int, name, owner string, n int) ([]uint32, error) {
	var ids []uint32
	for len(ids) < n {
		id, err := p.get(ctx, pon, name, owner)
		if err != nil {
			if ferr := p.Free(ctx, pon, name, ids...); ferr != nil {
				err = errors.Join(err, ferr)
			}
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (p *pools) get(ctx context.Context, pon int, name, owner string) (uint32, error) {
	for {
		p.mu.Lock()
		pl := p.pools[poolKey{pon, name}]
		if pl == nil {
			p.mu.Unlock()
			return 0, status.Errorf(codes.NotFound, "no %s pool on pon %s", name, ponSegment(pon))
		}
		id, ok := pl.freeLocked()
		if !ok {
			p.mu.Unlock()
			return 0, exhausted(pl)
		}
		pl.used[id] = owner // reserved while it is written
		p.mu.Unlock()

		_, err := p.kv.CompareAndSwap(ctx, p.key(pon, name, id), 0, []byte(owner))
		if err == nil {
			return id, nil
		}
		if errors.Is(err, kvstore.ErrConflict) {
			// Another replica took it: keep it marked used and look on.
			continue
		}
		p.mu.Lock()
		delete(pl.used, id)
		p.mu.Unlock()
		return 0, fmt.Errorf("persisting %s %d of pon %s: %w", name, id, ponSegment(pon), err)
	}
}

// reserve takes n ids of pool name on pon for owner in memory only: the
// caller claims them in the store (create-only keys, see flowadd.go) or
// releases them. Either all are reserved or none.
func (p *pools) reserve(pon int, name, owner string, n int) ([]uint32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl := p.pools[poolKey{pon, name}]
	if pl == nil {
		return nil, status.Errorf(codes.NotFound, "no %s pool on pon %s", name, ponSegment(pon))
	}
	ids := make([]uint32, 0, n)
	for range n {
		id, ok := pl.freeLocked()
		if !ok {
			for _, id := range ids {
				delete(pl.used, id)
			}
			return nil, exhausted(pl)
		}
		pl.used[id] = owner
		ids = append(ids, id)
	}
	return ids, nil
}

// release returns a reserved id that was never claimed in the store,
// unless it is no longer owner's (a reload found another replica's claim).
func (p *pools) release(pon int, name, owner string, id uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl := p.pools[poolKey{pon, name}]; pl != nil && pl.used[id] == owner {
		delete(pl.used, id)
	}
}

// forget drops ids from the pool in memory (their keys are gone).
func (p *pools) forget(pon int, name string, ids ...uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl := p.pools[poolKey{pon, name}]; pl != nil {
		for _, id := range ids {
			delete(pl.used, id)
		}
	}
}

// ownedBy lists the ids in the pools of pon (and the OLT's) whose owner
// starts with ownerPrefix.
func (p *pools) ownedBy(pon int, ownerPrefix string) []reserved {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []reserved
	for k, pl := range p.pools {
		if k.pon != pon && k.pon != oltWide {
			continue
		}
		for id, o := range pl.used {
			if strings.HasPrefix(o, ownerPrefix) {
				out = append(out, reserved{pon: k.pon, name: k.name, owner: o, id: id})
			}
		}
	}
	return out
}

// freeLocked finds an unused id, searching round from next.
func (pl *pool) freeLocked() (uint32, bool) {
	size := uint64(pl.end) - uint64(pl.start) + 1
	if uint64(len(pl.used)) >= size {
		return 0, false
	}
	id := pl.next
	for range size {
		if id < pl.start || id > pl.end {
			id = pl.start
		}
		if _, taken := pl.used[id]; !taken {
			pl.next = id + 1
			return id, true
		}
		id++
	}
	return 0, false
}

// Take marks id of pool name on pon as owner's (an id known from
// elsewhere, such as an ONU id read back); it persists it when new.
func (p *pools) Take(ctx context.Context, pon int, name, owner string, id uint32) error {
	p.mu.Lock()
	pl := p.pools[poolKey{pon, name}]
	if pl == nil || id < pl.start || id > pl.end {
		p.mu.Unlock()
		return status.Errorf(codes.InvalidArgument, "%s %d is outside the pool of pon %s", name, id, ponSegment(pon))
	}
	if cur, ok := pl.used[id]; ok {
		p.mu.Unlock()
		if cur != owner {
			return status.Errorf(codes.AlreadyExists, "%s %d of pon %s is in use by %s", name, id, ponSegment(pon), cur)
		}
		return nil
	}
	pl.used[id] = owner
	p.mu.Unlock()
	if _, err := p.kv.CompareAndSwap(ctx, p.key(pon, name, id), 0, []byte(owner)); err != nil && !errors.Is(err, kvstore.ErrConflict) {
		p.mu.Lock()
		delete(pl.used, id)
		p.mu.Unlock()
		return err
	}
	return nil
}

// Free returns ids of pool name on pon.
func (p *pools) Free(ctx context.Context, pon int, name string, ids ...uint32) error {
	if len(ids) == 0 {
		return nil
	}
	ops := make([]kvstore.Op, 0, len(ids))
	for _, id := range ids {
		ops = append(ops, kvstore.Op{Key: p.key(pon, name, id), Delete: true})
	}
	if err := p.kv.Batch(ctx, ops); err != nil {
		return fmt.Errorf("freeing %s of pon %s: %w", name, ponSegment(pon), err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl := p.pools[poolKey{pon, name}]; pl != nil {
		for _, id := range ids {
			delete(pl.used, id)
		}
	}
	return nil
}

// Owned returns the ids of pool name on pon that owner holds, sorted.
func (p *pools) Owned(pon int, name, owner string) []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []uint32
	if pl := p.pools[poolKey{pon, name}]; pl != nil {
		for id, o := range pl.used {
			if o == owner {
				ids = append(ids, id)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Used returns a copy of the ids in use of pool name on pon, with owners.
func (p *pools) Used(pon int, name string) map[uint32]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[uint32]string)
	if pl := p.pools[poolKey{pon, name}]; pl != nil {
		for id, o := range pl.used {
			out[id] = o
		}
	}
	return out
}
