package omcisim

import (
	"sort"

	me "github.com/opencord/omci-lib-go/v2/generated"
)

// entity is one ME instance, packed: its non-table attributes in one byte slice laid out by its
// classLayout, its table attributes (rare) beside it. vals is replaced, never written in place, once
// the entity is in the MIB, so a MIB upload snapshot can keep references to it.
type entity struct {
	lay    *classLayout
	inst   uint16
	vals   []byte
	tables map[uint16][]byte // table attribute mask -> rows, concatenated
}

func (e *entity) key() uint32 { return uint32(e.lay.id)<<16 | uint32(e.inst) }

// get returns the packed octets of one non-table attribute.
func (e *entity) get(a *attrLayout) []byte { return e.vals[a.off : a.off+a.size] }

func (e *entity) u8(name string) uint8 {
	if a := e.lay.attrByName(name); a != nil && !a.table && a.size >= 1 {
		return e.get(a)[0]
	}
	return 0
}

func (e *entity) u16(name string) uint16 {
	if a := e.lay.attrByName(name); a != nil && !a.table && a.size >= 2 {
		b := e.get(a)
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return 0
}

func (e *entity) table(name string) []byte {
	if a := e.lay.attrByName(name); a != nil && a.table {
		return e.tables[a.mask]
	}
	return nil
}

// mib is the ONU's managed-entity store, sorted by (class, instance).
type mib struct {
	ents []entity
}

func mkey(c me.ClassID, inst uint16) uint32 { return uint32(c)<<16 | uint32(inst) }

func (m *mib) index(c me.ClassID, inst uint16) (int, bool) {
	k := mkey(c, inst)
	i := sort.Search(len(m.ents), func(i int) bool { return m.ents[i].key() >= k })
	return i, i < len(m.ents) && m.ents[i].key() == k
}

func (m *mib) find(c me.ClassID, inst uint16) *entity {
	if i, ok := m.index(c, inst); ok {
		return &m.ents[i]
	}
	return nil
}

// insert adds e; it reports false when the instance already exists.
func (m *mib) insert(e entity) bool {
	i, ok := m.index(e.lay.id, e.inst)
	if ok {
		return false
	}
	m.ents = append(m.ents, entity{})
	copy(m.ents[i+1:], m.ents[i:])
	m.ents[i] = e
	return true
}

func (m *mib) remove(c me.ClassID, inst uint16) bool {
	i, ok := m.index(c, inst)
	if !ok {
		return false
	}
	m.ents = append(m.ents[:i], m.ents[i+1:]...)
	return true
}

// each calls f for every instance of class c, in instance order.
func (m *mib) each(c me.ClassID, f func(e *entity)) {
	i, _ := m.index(c, 0)
	for ; i < len(m.ents) && m.ents[i].lay.id == c; i++ {
		f(&m.ents[i])
	}
}

// newEntity builds an instance of class l with omci-lib-go's default values.
func newEntity(l *classLayout, inst uint16) entity {
	e := entity{lay: l, inst: inst, vals: make([]byte, l.size)}
	for i := range l.attrs {
		a := &l.attrs[i]
		if a.table {
			continue
		}
		putValue(e.get(a), a.def.DefValue)
	}
	return e
}
