package ponsim

import (
	"cmp"
	"encoding/binary"
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

// tableIndex indexes the flows of one table id.
type tableIndex struct {
	groups []*shapeGroup // by minRank
}

// shapeGroup holds the flows that match the same fields with the same
// masks.
type shapeGroup struct {
	types   []openflowv1.MatchFieldType
	masks   []uint64
	minRank int
	byKey   map[uint64][]*entry // hash of the masked values → flows by rank
}

// buildIndex indexes the matchable entries, which are sorted by rank.
func buildIndex(entries []*entry) map[uint32]*tableIndex {
	out := make(map[uint32]*tableIndex)
	shapes := make(map[uint32]map[string]*shapeGroup)
	var key []byte
	for _, e := range entries {
		if !e.matchable {
			continue
		}
		ix := out[e.tableID]
		if ix == nil {
			ix = &tableIndex{}
			out[e.tableID] = ix
			shapes[e.tableID] = make(map[string]*shapeGroup)
		}
		key = key[:0]
		for _, c := range e.conds {
			key = binary.BigEndian.AppendUint32(key, uint32(c.typ))
			key = binary.BigEndian.AppendUint64(key, c.mask)
		}
		g := shapes[e.tableID][string(key)]
		if g == nil {
			g = &shapeGroup{minRank: e.rank, byKey: make(map[uint64][]*entry)}
			for _, c := range e.conds {
				g.types = append(g.types, c.typ)
				g.masks = append(g.masks, c.mask)
			}
			shapes[e.tableID][string(key)] = g
			ix.groups = append(ix.groups, g)
		}
		h := hashSeed
		for _, c := range e.conds {
			h = mix(h, c.want)
		}
		// Entries come by rank, so each list stays sorted.
		g.byKey[h] = append(g.byKey[h], e)
	}
	for _, ix := range out {
		slices.SortFunc(ix.groups, func(a, b *shapeGroup) int { return cmp.Compare(a.minRank, b.minRank) })
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
		if best != nil && g.minRank > best.rank {
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
		for _, e := range g.byKey[h] {
			if best != nil && e.rank > best.rank {
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
