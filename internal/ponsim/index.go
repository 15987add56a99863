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
// shares the table ids and shapes the change leaves alone, and within a
// shape, all but the paths of the keys changed (pmap.go).

// tableIndex indexes the flows of one table id.
type tableIndex struct {
	groups []*shapeGroup          // by first
	shapes map[string]*shapeGroup // by shape key
}

// shapeGroup holds the flows that match the same fields with the same
// masks.
type shapeGroup struct {
	key   string // its shape's name (appendShapeKey), its key in shapes
	types []openflowv1.MatchFieldType
	masks []uint64
	first *entry         // the best of its flows
	n     int            // flows
	byKey pmap[[]*entry] // hash of the masked values → flows, best first; ranked by firstOf
}

// firstOf ranks a list of byKey by its best flow, so that byKey.best() is
// the best of the group's flows, kept as flows come and go.
func firstOf(l []*entry) *entry {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

// appendShapeKey appends the name of the shape of e to key.
func appendShapeKey(key []byte, e *entry) []byte {
	for _, c := range e.conds {
		key = binary.BigEndian.AppendUint32(key, uint32(c.typ))
		key = binary.BigEndian.AppendUint64(key, c.mask)
	}
	return key
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
// the entries added, as part of ed; old does not change. Unmatchable
// entries are not indexed. It copies the index of each table id touched
// and its shape groups (a few per table), and the paths of the keys
// changed in their maps.
func updateIndex(ed *edit, old map[uint32]*tableIndex, gone, added []*entry) map[uint32]*tableIndex {
	fresh := old == nil // every list is made here
	out := maps.Clone(old)
	if out == nil {
		out = make(map[uint32]*tableIndex)
	}
	ownIx := make(map[*tableIndex]bool) // copied or made here
	ownG := make(map[*shapeGroup]bool)  // copied or made here
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
	var keyBuf [16 * 12]byte // room for the shape keys of most flows
	group := func(ix *tableIndex, e *entry) *shapeGroup {
		kb := appendShapeKey(keyBuf[:0], e)
		g := ix.shapes[string(kb)]
		switch {
		case g == nil:
			g = &shapeGroup{key: string(kb), byKey: pmap[[]*entry]{rank: firstOf}}
			for _, c := range e.conds {
				g.types = append(g.types, c.typ)
				g.masks = append(g.masks, c.mask)
			}
			ix.groups = append(ix.groups, g)
		case !ownG[g]:
			ng := *g // shares byKey's nodes, which ed copies as it changes them
			ix.groups[slices.Index(ix.groups, g)] = &ng
			g = &ng
		}
		ownG[g] = true
		ix.shapes[g.key] = g
		return g
	}
	for _, e := range gone {
		if !e.matchable {
			continue
		}
		g := group(index(e.tableID), e)
		h := valueHash(e)
		// The lists are shared with old: make new ones.
		l, _ := g.byKey.get(h)
		if l = slices.DeleteFunc(slices.Clone(l), func(x *entry) bool { return x == e }); len(l) > 0 {
			g.byKey.set(ed, h, l)
		} else {
			g.byKey.delete(ed, h)
		}
		g.n--
	}
	for _, e := range added {
		if !e.matchable {
			continue
		}
		g := group(index(e.tableID), e)
		h := valueHash(e)
		l, _ := g.byKey.get(h)
		i, _ := slices.BinarySearchFunc(l, e, func(x, e *entry) int {
			if x.before(e) {
				return -1
			}
			return 1
		})
		if fresh {
			l = slices.Insert(l, i, e)
		} else {
			l = slices.Insert(slices.Clip(l), i, e) // never into old's array
		}
		g.byKey.set(ed, h, l)
		g.n++
	}
	for id, ix := range touched {
		ix.groups = slices.DeleteFunc(ix.groups, func(g *shapeGroup) bool { return g.n == 0 })
		for key, g := range ix.shapes {
			if g.n == 0 {
				delete(ix.shapes, key)
			}
		}
		for _, g := range ix.groups {
			if ownG[g] {
				g.first = g.byKey.best()
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
		l, _ := g.byKey.get(h)
		for _, e := range l {
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
