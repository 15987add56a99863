package flowtable

import openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"

// The table finds flows three ways, so that no flow-mod but a non-strict
// modify or delete without an exact in_port looks at every flow:
//
//   - by id (Table.flows): an add replaces the flow with its id;
//   - by priority and canonical match (Table.byKey, see match.key): the
//     strict commands;
//   - by table, priority and exact in_port (Table.buckets): CHECK_OVERLAP
//     compares a new flow only with the flows of its table and priority
//     that have its in_port or no exact one, and a non-strict command
//     with an exact in_port looks only at the flows with that in_port.
//     Subscriber flows match their UNI, so these lists are short; the NNI
//     flows of a table and priority all have one in_port, so a long list
//     is indexed further by the other fields its flows match exactly
//     (entryList.bySig), and CHECK_OVERLAP looks up the flows that agree
//     with the new one on those.

// entry is one flow in the table and its place in the indexes.
type entry struct {
	flow    *openflowv1.Flow // never changed: see Table
	key     uint64           // match.key of its priority and match
	sameKey *entry           // the next entry with key in Table.byKey

	l          *entryList // the list of Table.buckets it is in
	prev, next *entry     // in l
	shape, sig uint64     // match.shape and match.sig of its match
	sameSig    *entry     // the next entry with sig in l.bySig
}

// tablePrio names a bucket.
type tablePrio struct{ table, priority uint32 }

// bucket holds the flows of one table and priority, listed by in_port.
type bucket struct {
	at    tablePrio
	ports map[uint64]*entryList // flows with an exact in_port (match.exactPort), by it
	wild  entryList             // the others
	n     int
}

// entryList is a list of entries in a bucket.
type entryList struct {
	b    *bucket
	port uint64 // the key in b.ports; none for b.wild
	head *entry
	n    int

	// Once the list is long (bigList), its entries are also found by
	// sig, chained through sameSig, and shapes counts them by shape.
	bySig  map[uint64]*entry
	shapes []shapeCount
}

type shapeCount struct {
	shape uint64
	n     int
}

// bigList is the length from which a list is indexed by sig: shorter
// ones are quicker to walk.
const bigList = 16

func (l *entryList) push(e *entry) {
	e.l, e.prev, e.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	l.n++
	l.b.n++
	switch {
	case l.bySig != nil:
		l.addSig(e)
	case l.n >= bigList:
		l.bySig = make(map[uint64]*entry, l.n)
		for x := l.head; x != nil; x = x.next {
			l.addSig(x)
		}
	}
}

func (l *entryList) addSig(e *entry) {
	e.sameSig = l.bySig[e.sig]
	l.bySig[e.sig] = e
	for i := range l.shapes {
		if l.shapes[i].shape == e.shape {
			l.shapes[i].n++
			return
		}
	}
	l.shapes = append(l.shapes, shapeCount{e.shape, 1})
}

func (l *entryList) remove(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	l.n--
	l.b.n--
	if l.bySig != nil {
		if p := l.bySig[e.sig]; p == e {
			if e.sameSig == nil {
				delete(l.bySig, e.sig)
			} else {
				l.bySig[e.sig] = e.sameSig
			}
		} else {
			for ; p != nil; p = p.sameSig {
				if p.sameSig == e {
					p.sameSig = e.sameSig
					break
				}
			}
		}
		for i := range l.shapes {
			if l.shapes[i].shape == e.shape {
				if l.shapes[i].n--; l.shapes[i].n == 0 {
					l.shapes = append(l.shapes[:i], l.shapes[i+1:]...)
				}
				break
			}
		}
	}
	e.l, e.prev, e.next, e.sameSig = nil, nil, nil, nil
}

// insert puts f in the table, in place of a flow with its id.
func (t *Table) insert(f *openflowv1.Flow) {
	if old := t.flows[f.GetId()]; old != nil {
		t.unindex(old)
	}
	var buf [maxInline]field
	m := canonInto(buf[:0], f.GetMatch())
	e := &entry{flow: f, key: m.key(f.GetPriority()), shape: m.shape()}
	e.sig = m.sig(e.shape)
	t.flows[f.GetId()] = e

	e.sameKey = t.byKey[e.key]
	t.byKey[e.key] = e

	at := tablePrio{f.GetTableId(), f.GetPriority()}
	b := t.buckets[at]
	if b == nil {
		b = &bucket{at: at, ports: make(map[uint64]*entryList)}
		b.wild.b = b
		t.buckets[at] = b
	}
	port, exact := m.exactPort()
	if !exact {
		b.wild.push(e)
		return
	}
	g := b.ports[port]
	if g == nil {
		g = &entryList{b: b, port: port}
		b.ports[port] = g
	}
	g.push(e)
}

// remove takes the flow with id out of the table, if there is one.
func (t *Table) remove(id uint64) {
	if e := t.flows[id]; e != nil {
		t.unindex(e)
		delete(t.flows, id)
	}
}

// unindex takes e out of byKey and buckets (not out of flows).
func (t *Table) unindex(e *entry) {
	if p := t.byKey[e.key]; p == e {
		if e.sameKey == nil {
			delete(t.byKey, e.key)
		} else {
			t.byKey[e.key] = e.sameKey
		}
	} else {
		for ; p != nil; p = p.sameKey {
			if p.sameKey == e {
				p.sameKey = e.sameKey
				break
			}
		}
	}
	e.sameKey = nil

	l := e.l
	b := l.b
	l.remove(e)
	if l.n == 0 && l != &b.wild {
		delete(b.ports, l.port)
	}
	if b.n == 0 {
		delete(t.buckets, b.at)
	}
}

// candidates calls yield with the entries of bucket b that may overlap
// (cover false) or be covered by (cover true) a flow with canonical match
// m, until yield returns false.
func (b *bucket) candidates(m match, cover bool, yield func(*entry) bool) bool {
	lists := func(l *entryList) bool {
		if cover {
			return l.each(yield)
		}
		return l.overlapCandidates(m, yield)
	}
	if port, ok := m.exactPort(); ok {
		if l := b.ports[port]; l != nil && !lists(l) {
			return false
		}
		// A flow without this exact in_port cannot be covered by m, but
		// it may overlap it.
		return cover || lists(&b.wild)
	}
	for _, l := range b.ports {
		if !lists(l) {
			return false
		}
	}
	return lists(&b.wild)
}

func (l *entryList) each(yield func(*entry) bool) bool {
	for e := l.head; e != nil; e = e.next {
		if !yield(e) {
			return false
		}
	}
	return true
}

// overlapCandidates calls yield with the entries of l that may overlap a
// flow with canonical match m. An entry that matches exactly only fields
// that m matches exactly too (its shape is in m's) overlaps m only if it
// has m's values on them: it is looked up by them. The others are walked.
func (l *entryList) overlapCandidates(m match, yield func(*entry) bool) bool {
	if l.bySig == nil {
		return l.each(yield)
	}
	ms, walk := m.shape(), false
	for _, sc := range l.shapes {
		if sc.shape&^ms != 0 {
			walk = true
			continue
		}
		for e := l.bySig[m.sig(sc.shape)]; e != nil; e = e.sameSig {
			if e.shape == sc.shape && !yield(e) {
				return false
			}
		}
	}
	if walk {
		for e := l.head; e != nil; e = e.next {
			if e.shape&^ms != 0 && !yield(e) {
				return false
			}
		}
	}
	return true
}
