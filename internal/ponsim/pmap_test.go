package ponsim

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// TestPmap: a pmap changed at random, in edits of one or many changes,
// holds what a Go map changed the same way holds, ranks its best entry as
// a scan does, and every version it was before stays as it was.
func TestPmap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const keys = 2000 // few enough that the best often goes
	made := 0
	newEntry := func() *entry {
		made++
		return &entry{index: made, key: uint64(rng.IntN(50))}
	}
	type version struct {
		m    pmap[[]*entry]
		want map[uint64]*entry
	}
	check := func(step int, v version) {
		t.Helper()
		if v.m.len() != len(v.want) {
			t.Fatalf("step %d: len %d, want %d", step, v.m.len(), len(v.want))
		}
		var best *entry
		for k, e := range v.want {
			got, ok := v.m.get(k)
			if !ok || len(got) != 1 || got[0] != e {
				t.Fatalf("step %d: key %d holds %v, want %v", step, k, got, e)
			}
			if best == nil || e.before(best) {
				best = e
			}
		}
		n := 0
		for k, l := range v.m.all() {
			if v.want[k] != l[0] {
				t.Fatalf("step %d: all yields key %d, which holds %v", step, k, v.want[k])
			}
			n++
		}
		if n != len(v.want) {
			t.Fatalf("step %d: all yields %d keys, want %d", step, n, len(v.want))
		}
		if v.m.best() != best {
			t.Fatalf("step %d: best %v, want %v", step, v.m.best(), best)
		}
	}
	cur := version{m: pmap[[]*entry]{rank: firstOf}, want: map[uint64]*entry{}}
	var history []version
	for step := range 600 {
		next := version{m: cur.m, want: maps.Clone(cur.want)}
		ed := newEdit()
		// Small edits, then big ones that grow the map, then ones that
		// empty it again.
		n := 1 + rng.IntN(8)
		if step%100 == 99 {
			n = 1000
		}
		for range n {
			k := rng.Uint64N(keys)
			if step < 400 && rng.IntN(3) > 0 || step >= 400 && rng.IntN(4) == 0 {
				e := newEntry()
				next.m.set(ed, k, []*entry{e})
				next.want[k] = e
			} else {
				next.m.delete(ed, k)
				delete(next.want, k)
			}
		}
		check(step, next)
		history = append(history, cur)
		cur = next
	}
	for i, v := range history {
		check(i, v)
	}
	// Deletes leave the shape that the keys left alone: a map made
	// afresh with them has as many nodes.
	fresh, ed := pmap[[]*entry]{rank: firstOf}, newEdit()
	for k, e := range cur.want {
		fresh.set(ed, k, []*entry{e})
	}
	if got, want := len(nodes(cur.m.root)), len(nodes(fresh.root)); got != want {
		t.Errorf("map after deletes has %d nodes, made afresh %d", got, want)
	}
	ed = newEdit()
	for k := range cur.want {
		cur.m.delete(ed, k)
	}
	if cur.m.root != nil || cur.m.len() != 0 {
		t.Fatalf("emptied map: root %v, len %d", cur.m.root, cur.m.len())
	}
}

// TestPmapSharesNodes: a change copies only the path to its key.
func TestPmapSharesNodes(t *testing.T) {
	var m pmap[int]
	ed := newEdit()
	for k := range uint64(10_000) {
		m.set(ed, k, int(k))
	}
	before := nodes(m.root)
	next := m
	next.set(newEdit(), 5, -5)
	shared := 0
	for n := range nodes(next.root) {
		if before[n] {
			shared++
		}
	}
	if copied := len(nodes(next.root)) - shared; copied > 4 {
		t.Errorf("one change copied %d nodes", copied)
	}
	if v, _ := m.get(5); v != 5 {
		t.Errorf("old map holds %d at 5", v)
	}
	if v, _ := next.get(5); v != -5 {
		t.Errorf("new map holds %d at 5", v)
	}
}

func nodes[V any](n *pnode[V]) map[*pnode[V]]bool {
	out := map[*pnode[V]]bool{}
	var walk func(*pnode[V])
	walk = func(n *pnode[V]) {
		if n == nil {
			return
		}
		out[n] = true
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	return out
}
