package ponsim

import (
	"iter"
	"math/bits"
	"slices"
)

// Why a persistent map. The dataplane reads a device's table with no lock
// (device.table is an atomic pointer), so a table must never change once
// published; a change makes a new table. Copying the table's maps for
// each change cost O(table) per change, which with tens of thousands of
// flows made each incremental UpdateFlows slow. A pmap is a hash array
// mapped trie: a change copies only the path to the key it changes, a
// few small nodes whatever the size, and shares every other node with the
// map it was made from. Lookups walk that path (about three nodes for
// 50,000 keys, bitmaps and popcounts, no locks, no atomics), so readers
// keep their lock-free snapshot at the cost of a Go map lookup.
//
// Within one change (an edit), nodes the edit made are its own, and it
// changes them in place: a change of k keys copies each shared node at most
// once. Nodes that another edit made, and so every node reachable from a
// published table, are never written.

// edit is one change of one or more pmaps: the nodes it makes are its own
// until it ends (the table it builds is published or dropped). Each must
// be new (newEdit), never shared by two changes.
type edit struct{ _ byte } // not zero-sized: each new edit has its own address

func newEdit() *edit { return new(edit) }

// pmap is a persistent map from uint64 keys to V (see above). The zero
// pmap is empty and ready to use; copied by value, it shares its nodes.
//
// A ranked pmap (rank set) also keeps, for each subtree, its best entry by
// entry.before among rank of each value (nil ranks last): best() is the
// best of the whole map.
type pmap[V any] struct {
	root *pnode[V]
	n    int
	rank rankFunc[V] // nil: not ranked
}

// rankFunc gives the entry a value ranks by (see pmap).
type rankFunc[V any] func(V) *entry

// pnode is a trie node. Level l looks at bits 6l…6l+5 of the key's hash:
// each of the 64 slots holds nothing, one key and its value (leafMap), or
// a subtree (kidMap); leaves and kids are in slot order.
type pnode[V any] struct {
	leafMap, kidMap uint64
	leaves          []pleaf[V]
	kids            []*pnode[V]
	best            *entry // of a ranked pmap
	edit            *edit  // that made the node, which may change it
}

type pleaf[V any] struct {
	key uint64
	val V
}

const pmapBits = 6 // 64 slots a node: short paths, small nodes to copy

// keyHash is where key goes in the trie: a bijection, so two keys never
// share a path to the end (64 bits).
func keyHash(key uint64) uint64 { return mix(hashSeed, key) }

func (m *pmap[V]) len() int { return m.n }

// best is the best entry of a ranked map (nil: none).
func (m *pmap[V]) best() *entry {
	if m.root == nil {
		return nil
	}
	return m.root.best
}

// get returns the value of key and whether m has it.
func (m *pmap[V]) get(key uint64) (V, bool) {
	n, h := m.root, keyHash(key)
	for n != nil {
		bit := uint64(1) << (h & (1<<pmapBits - 1))
		if n.leafMap&bit != 0 {
			l := &n.leaves[bits.OnesCount64(n.leafMap&(bit-1))]
			if l.key == key {
				return l.val, true
			}
			break
		}
		if n.kidMap&bit == 0 {
			break
		}
		n = n.kids[bits.OnesCount64(n.kidMap&(bit-1))]
		h >>= pmapBits
	}
	var zero V
	return zero, false
}

// set makes the value of key val, as part of ed.
func (m *pmap[V]) set(ed *edit, key uint64, val V) {
	added := false
	m.root = m.root.set(ed, m.rank, key, keyHash(key), 0, val, &added)
	if added {
		m.n++
	}
}

// delete removes key (if m has it), as part of ed.
func (m *pmap[V]) delete(ed *edit, key uint64) {
	removed := false
	m.root = m.root.delete(ed, m.rank, key, keyHash(key), 0, &removed)
	if removed {
		m.n--
	}
}

// all yields every key and value, in no set order.
func (m *pmap[V]) all() iter.Seq2[uint64, V] {
	return func(yield func(uint64, V) bool) { m.root.walk(yield) }
}

func (n *pnode[V]) walk(yield func(uint64, V) bool) bool {
	if n == nil {
		return true
	}
	for _, l := range n.leaves {
		if !yield(l.key, l.val) {
			return false
		}
	}
	for _, k := range n.kids {
		if !k.walk(yield) {
			return false
		}
	}
	return true
}

// own returns n if ed made it, else a copy that ed owns (a new node for
// nil), with room for moreLeaves leaves and moreKids kids more.
func (n *pnode[V]) own(ed *edit, moreLeaves, moreKids int) *pnode[V] {
	switch {
	case ed == nil:
		panic("ponsim: pmap change without an edit")
	case n == nil:
		return &pnode[V]{edit: ed}
	case n.edit == ed:
		return n
	}
	c := &pnode[V]{leafMap: n.leafMap, kidMap: n.kidMap, best: n.best, edit: ed}
	if l := len(n.leaves) + moreLeaves; l > 0 {
		c.leaves = append(make([]pleaf[V], 0, l), n.leaves...)
	}
	if k := len(n.kids) + moreKids; k > 0 {
		c.kids = append(make([]*pnode[V], 0, k), n.kids...)
	}
	return c
}

// slot returns key's slot bit at shift and the indexes it has, or would
// have, among n's leaves and kids (n may be nil).
func (n *pnode[V]) slot(h uint64, shift uint) (bit uint64, li, ki int) {
	bit = uint64(1) << (h >> shift & (1<<pmapBits - 1))
	if n == nil {
		return bit, 0, 0
	}
	return bit, bits.OnesCount64(n.leafMap & (bit - 1)), bits.OnesCount64(n.kidMap & (bit - 1))
}

func (n *pnode[V]) set(ed *edit, rank rankFunc[V], key, h uint64, shift uint, val V, added *bool) *pnode[V] {
	bit, li, ki := n.slot(h, shift)
	switch {
	case n.has(bit, li, key):
		n = n.own(ed, 0, 0)
		old := rank.of(n.leaves[li].val)
		n.leaves[li].val = val
		n.reranked(rank, old, rank.of(val))
	case n != nil && n.leafMap&bit != 0:
		// Another key has the slot: both go one level down.
		n = n.own(ed, 0, 1)
		o := n.leaves[li]
		var kid *pnode[V]
		kid = kid.set(ed, rank, o.key, keyHash(o.key), shift+pmapBits, o.val, new(bool))
		kid = kid.set(ed, rank, key, h, shift+pmapBits, val, added)
		n.leaves = slices.Delete(n.leaves, li, li+1)
		n.leafMap &^= bit
		n.kids = slices.Insert(n.kids, ki, kid)
		n.kidMap |= bit
		n.reranked(rank, rank.of(o.val), kid.best)
	case n != nil && n.kidMap&bit != 0:
		n = n.own(ed, 0, 0)
		old := n.kids[ki].best
		n.kids[ki] = n.kids[ki].set(ed, rank, key, h, shift+pmapBits, val, added)
		n.reranked(rank, old, n.kids[ki].best)
	default:
		n = n.own(ed, 1, 0)
		n.leaves = slices.Insert(n.leaves, li, pleaf[V]{key, val})
		n.leafMap |= bit
		*added = true
		n.reranked(rank, nil, rank.of(val))
	}
	return n
}

// has reports whether slot bit holds key as a leaf (li its index).
func (n *pnode[V]) has(bit uint64, li int, key uint64) bool {
	return n != nil && n.leafMap&bit != 0 && n.leaves[li].key == key
}

// delete returns n without key (nil: empty). Nothing is copied when n
// does not have it.
func (n *pnode[V]) delete(ed *edit, rank rankFunc[V], key, h uint64, shift uint, removed *bool) *pnode[V] {
	if n == nil {
		return nil
	}
	bit, li, ki := n.slot(h, shift)
	var old, now *entry // the best of the slot, before and after
	switch {
	case n.has(bit, li, key):
		n = n.own(ed, 0, 0)
		old = rank.of(n.leaves[li].val)
		n.leaves = slices.Delete(n.leaves, li, li+1)
		n.leafMap &^= bit
		*removed = true
	case n.kidMap&bit != 0:
		old = n.kids[ki].best // before the kid changes: ed may own it
		kid := n.kids[ki].delete(ed, rank, key, h, shift+pmapBits, removed)
		if !*removed {
			return n
		}
		n = n.own(ed, 1, 0)
		switch {
		case kid == nil:
			n.kids = slices.Delete(n.kids, ki, ki+1)
			n.kidMap &^= bit
		case kid.kidMap == 0 && len(kid.leaves) == 1:
			// A lone key comes back up, so that a map's shape depends
			// only on its keys and paths stay short.
			n.kids = slices.Delete(n.kids, ki, ki+1)
			n.kidMap &^= bit
			n.leaves = slices.Insert(n.leaves, li, kid.leaves[0])
			n.leafMap |= bit
			now = kid.best
		default:
			n.kids[ki] = kid
			now = kid.best
		}
	default:
		return n
	}
	if n.leafMap == 0 && n.kidMap == 0 {
		return nil
	}
	n.reranked(rank, old, now)
	return n
}

// of is the rank of v (nil: rank is nil, or v ranks last).
func (rank rankFunc[V]) of(v V) *entry {
	if rank == nil {
		return nil
	}
	return rank(v)
}

// reranked keeps n.best right after one of its slots changed: its best
// was old and is now now (nil: none). Only losing n's best makes it look
// at every slot (at most 64, whatever the map's size).
func (n *pnode[V]) reranked(rank rankFunc[V], old, now *entry) {
	switch {
	case rank == nil:
	case now != nil && (n.best == nil || now.before(n.best)):
		n.best = now
	case old != nil && old == n.best && now != old:
		n.best = nil
		for _, l := range n.leaves {
			if e := rank(l.val); e != nil && (n.best == nil || e.before(n.best)) {
				n.best = e
			}
		}
		for _, k := range n.kids {
			if e := k.best; e != nil && (n.best == nil || e.before(n.best)) {
				n.best = e
			}
		}
	}
}
