package omcisim

import (
	"encoding/binary"
	"sort"
	"sync"

	me "github.com/opencord/omci-lib-go/v2/generated"
)

// attrLayout is where one attribute of a class lives in an entity's packed value bytes.
type attrLayout struct {
	def   *me.AttributeDefinition
	index uint8  // attribute index 1..16
	mask  uint16 // its bit in attribute masks
	off   uint16 // offset in entity.vals (non-table attributes only)
	size  uint16 // octets (for a table: octets of one row)
	table bool
	read  bool
	write bool
	sbc   bool // set-by-create
}

// classLayout is the packed layout of one ME class, derived once from omci-lib-go's definition.
type classLayout struct {
	id       me.ClassID
	name     string
	def      me.ManagedEntityDefinition
	attrs    []attrLayout // by attribute index order (1..16)
	size     int          // octets of all non-table attributes
	allMask  uint16
	readMask uint16
	sbcMask  uint16
	create   bool // the OLT may create and delete instances
	msgTypes uint32
}

// catalog holds the layout of every class omci-lib-go knows. It is immutable after it is built
// (once per process, on first use), so ONUs share it without locking.
type catalog struct {
	classes map[me.ClassID]*classLayout
}

var sharedCatalog = sync.OnceValue(buildCatalog)

func buildCatalog() *catalog {
	c := &catalog{classes: make(map[me.ClassID]*classLayout)}
	for _, id := range me.GetSupportedClassIDs() {
		ent, err := me.LoadManagedEntityDefinition(id)
		if ent == nil || (err != nil && err.StatusCode() != me.Success) {
			continue
		}
		c.classes[id] = newClassLayout(id, ent.GetManagedEntityDefinition())
	}
	return c
}

func newClassLayout(id me.ClassID, def me.ManagedEntityDefinition) *classLayout {
	l := &classLayout{id: id, name: def.Name, def: def}
	keys := make([]int, 0, len(def.AttributeDefinitions))
	for k := range def.AttributeDefinitions {
		if k != 0 {
			keys = append(keys, int(k))
		}
	}
	sort.Ints(keys)
	off := 0
	for _, k := range keys {
		d := def.AttributeDefinitions[uint(k)]
		a := attrLayout{
			def:   &d,
			index: uint8(k),
			mask:  d.Mask,
			size:  uint16(d.Size),
			table: d.IsTableAttribute(),
			read:  d.Access.Contains(me.Read),
			write: d.Access.Contains(me.Write),
			sbc:   d.Access.Contains(me.SetByCreate),
		}
		if !a.table {
			a.off = uint16(off)
			off += d.Size
		}
		l.allMask |= a.mask
		if a.read {
			l.readMask |= a.mask
		}
		if a.sbc {
			l.sbcMask |= a.mask
		}
		l.attrs = append(l.attrs, a)
	}
	l.size = off
	l.create = def.Access == me.CreatedByOlt || def.Access == me.CreatedByBoth
	for _, mt := range def.MessageTypes.ToSlice() {
		if t, ok := mt.(me.MsgType); ok && t < 32 {
			l.msgTypes |= 1 << uint(t)
		}
	}
	return l
}

func (l *classLayout) supports(t me.MsgType) bool { return l.msgTypes&(1<<uint(t&0x1f)) != 0 }

// attr returns the layout of the attribute with the given mask bit, or nil.
func (l *classLayout) attr(mask uint16) *attrLayout {
	for i := range l.attrs {
		if l.attrs[i].mask == mask {
			return &l.attrs[i]
		}
	}
	return nil
}

// attrByName returns the layout of the named attribute, or nil.
func (l *classLayout) attrByName(name string) *attrLayout {
	for i := range l.attrs {
		if l.attrs[i].def.Name == name {
			return &l.attrs[i]
		}
	}
	return nil
}

// value turns an attribute's packed octets into the Go type omci-lib-go expects for it
// (the same types its own decoder produces), so serializing it can never hit a type panic.
func (a *attrLayout) value(b []byte) any {
	switch a.def.AttributeType {
	case me.StringAttributeType, me.OctetsAttributeType, me.UnknownAttributeType:
		return append([]byte(nil), b...)
	}
	switch len(b) {
	case 1:
		return b[0]
	case 2:
		return binary.BigEndian.Uint16(b)
	case 4:
		return binary.BigEndian.Uint32(b)
	case 8:
		return binary.BigEndian.Uint64(b)
	}
	return append([]byte(nil), b...)
}

// putValue packs a Go value into dst (len(dst) == attribute size). It accepts only the types
// omci-lib-go uses; anything else is an error, never a panic.
func putValue(dst []byte, v any) bool {
	switch x := v.(type) {
	case uint8:
		if len(dst) != 1 {
			return false
		}
		dst[0] = x
	case uint16:
		if len(dst) != 2 {
			return false
		}
		binary.BigEndian.PutUint16(dst, x)
	case uint32:
		if len(dst) != 4 {
			return false
		}
		binary.BigEndian.PutUint32(dst, x)
	case uint64:
		if len(dst) != 8 {
			return false
		}
		binary.BigEndian.PutUint64(dst, x)
	case int:
		switch len(dst) {
		case 1:
			dst[0] = byte(x)
		case 2:
			binary.BigEndian.PutUint16(dst, uint16(x))
		case 4:
			binary.BigEndian.PutUint32(dst, uint32(x))
		case 8:
			binary.BigEndian.PutUint64(dst, uint64(x))
		default:
			return false
		}
	case []byte:
		clear(dst)
		copy(dst, x)
	case string:
		clear(dst)
		copy(dst, x)
	default:
		return false
	}
	return true
}
