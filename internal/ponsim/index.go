package ponsim

import (
	"encoding/binary"
	"maps"
	"slices"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// The lookup index: an OLT serving a thousand subscribers holds thousands
// of flows, and a frame must not be compared with each. Flows are grouped
// by their shape, the fields they match with their masks (tuple space
// search); a group is a hash of the masked values. A lookup hashes the
// packet's values once per group, so it costs a few map lookups whatever
// the number of subscribers. Groups are visited in the order of their best
// flow and the visit stops once no group can beat what was found, so the
// answer is the one a linear scan in priority-then-specificity order gives.
//
// An index is immutable once built; updateIndex makes a changed one that
// shares the table ids and shapes the change leaves alone.

// tableIndex indexes the flows of one table id.
type tableIndex struct {
	groups []*shapeGroup          // by first
	shapes map[string]*shapeGroup // by shape key
}

// shapeGroup holds the flows that match the same fields with the same
// masks.
type shapeGroup struct {
	types []openflowv1.MatchFieldType
	masks []uint64
	first *entry  // the best of its flows
	n     int     // flows
	byKey hashMap // hash of the masked values → flows, best first
}

// hashMap is a flowMap whose keys are hashes already: sharded by their low
// bits.
type hashMap flowMap

func (m *hashMap) get(h uint64) []*entry { return m[h%flowShards][h] }

func (m *hashMap) own(h uint64, owned *[flowShards]bool) map[uint64][]*entry {
	return (*flowMap)(m).ownShard(int(h%flowShards), owned)
}

// shapeKey names the shape of e.
func shapeKey(e *entry) string {
	key := make([]byte, 0, 12*len(e.conds))
	for _, c := range e.conds {
		key = binary.BigEndian.AppendUint32(key, uint32(c.typ))
		key = binary.BigEndian.AppendUint64(key, c.mask)
	}
	return string(key)
}

// valueHash is the hash of e's masked values.
func valueHash(e *entry) uint64 {
	h := hashSeed
	for _, c := range e.conds {
		h = mix(h, c.want)
	}
	return h
}

// updateIndex returns old (nil: empty) without the entries gone and with
// the entries added; old does not change. Unmatchable entries are not
// indexed.
func updateIndex(old map[uint32]*tableIndex, gone, added []*entry) map[uint32]*tableIndex {
	fresh := old == nil // every list is made here
	out := maps.Clone(old)
	if out == nil {
		out = make(map[uint32]*tableIndex)
	}
	ownIx := make(map[*tableIndex]bool)             // copied or made here
	ownG := make(map[*shapeGroup]bool)              // copied or made here
	refirst := make(map[*shapeGroup]bool)           // lost its first
	ownK := make(map[*shapeGroup]*[flowShards]bool) // byKey shards copied here
	shard := func(g *shapeGroup, h uint64) map[uint64][]*entry {
		if fresh {
			return g.byKey.own(h, nil)
		}
		if ownK[g] == nil {
			ownK[g] = new([flowShards]bool)
		}
		return g.byKey.own(h, ownK[g])
	}
	touched := make(map[uint32]*tableIndex)
	index := func(id uint32) *tableIndex {
		ix := out[id]
		switch {
		case ix == nil:
			ix = &tableIndex{shapes: make(map[string]*shapeGroup)}
		case !ownIx[ix]:
			ix = &tableIndex{groups: slices.Clone(ix.groups), shapes: maps.Clone(ix.shapes)}
		}
		ownIx[ix] = true
		out[id], touched[id] = ix, ix
		return ix
	}
	group := func(ix *tableIndex, e *entry) *shapeGroup {
		key := shapeKey(e)
		g := ix.shapes[key]
		switch {
		case g == nil:
			g = &shapeGroup{}
			for _, c := range e.conds {
				g.types = append(g.types, c.typ)
				g.masks = append(g.masks, c.mask)
			}
			ix.groups = append(ix.groups, g)
		case !ownG[g]:
			ng := &shapeGroup{types: g.types, masks: g.masks, first: g.first, n: g.n, byKey: g.byKey}
			ix.groups[slices.Index(ix.groups, g)] = ng
			if refirst[g] {
				refirst[ng] = true
			}
			g = ng
		}
		ownG[g] = true
		ix.shapes[key] = g
		return g
	}
	for _, e := range gone {
		if !e.matchable {
			continue
		}
		g := group(index(e.tableID), e)
		h := valueHash(e)
		// The lists are shared with old: make new ones.
		if l := slices.DeleteFunc(slices.Clone(g.byKey.get(h)), func(x *entry) bool { return x == e }); len(l) > 0 {
			shard(g, h)[h] = l
		} else {
			delete(shard(g, h), h)
		}
		g.n--
		if g.first == e {
			g.first = nil
			refirst[g] = true
		}
	}
	for _, e := range added {
		if !e.matchable {
			continue
		}
		g := group(index(e.tableID), e)
		h := valueHash(e)
		l := g.byKey.get(h)
		i, _ := slices.BinarySearchFunc(l, e, func(x, e *entry) int {
			if x.before(e) {
				return -1
			}
			return 1
		})
		switch {
		case fresh:
			shard(g, h)[h] = slices.Insert(l, i, e)
		case i == len(l):
			shard(g, h)[h] = append(l[:len(l):len(l)], e) // never into old's array
		default:
			shard(g, h)[h] = slices.Insert(slices.Clone(l), i, e)
		}
		g.n++
		if g.first != nil && e.before(g.first) || g.first == nil && !refirst[g] {
			g.first = e
		}
	}
	for id, ix := range touched {
		ix.groups = slices.DeleteFunc(ix.groups, func(g *shapeGroup) bool { return g.n == 0 })
		for key, g := range ix.shapes {
			if g.n == 0 {
				delete(ix.shapes, key)
			}
		}
		for _, g := range ix.groups {
			if refirst[g] {
				g.first = nil
				for _, sh := range g.byKey {
					for _, l := range sh {
						if g.first == nil || l[0].before(g.first) {
							g.first = l[0]
						}
					}
				}
			}
		}
		if len(ix.groups) == 0 {
			delete(out, id)
			continue
		}
		slices.SortFunc(ix.groups, func(a, b *shapeGroup) int {
			if a.first.before(b.first) {
				return -1
			}
			return 1
		})
	}
	return out
}

const hashSeed uint64 = 0x9e3779b97f4a7c15

// mix folds v into h (splitmix64's finaliser over h^v).
func mix(h, v uint64) uint64 {
	h ^= v
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// lookup returns the flow of table tableID that the packet v hits, or nil:
// the highest priority, then the most specific, then the first given.
func (t *table) lookup(tableID uint32, v *view) *entry {
	ix := t.index[tableID]
	if ix == nil {
		return nil
	}
	var best *entry
groups:
	for _, g := range ix.groups {
		if best != nil && best.before(g.first) {
			break
		}
		h := hashSeed
		for i, typ := range g.types {
			have, ok := v.value(typ, tableID)
			if !ok {
				continue groups
			}
			h = mix(h, have&g.masks[i])
		}
		for _, e := range g.byKey.get(h) {
			if best != nil && best.before(e) {
				break
			}
			if e.matches(v) { // guards against hash collisions
				best = e
				break
			}
		}
	}
	return best
}
