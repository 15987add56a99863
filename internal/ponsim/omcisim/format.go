package omcisim

import (
	"fmt"
	"sort"
	"strings"

	me "github.com/opencord/omci-lib-go/v2/generated"
)

// FormatME renders one ME (as omci-lib-go decoded it, e.g. from a MIB upload next response) on one
// line: class id and name, instance, then its attributes in index order.
//
//	256 OnuG 0x0000: VendorId="PSMO" Version="ponsim-1.0" SerialNumber=50534d4f00000001
func FormatME(m *me.ManagedEntity) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %#04x:", uint16(m.GetClassID()), m.GetName(), m.GetEntityID())
	writeAttrs(&b, m.GetAttributeDefinitions(), m.GetAttributeValueMap())
	return b.String()
}

// FormatUpload renders a MIB upload (the reported MEs of its upload next responses, in order) one
// instance per line, the pieces of an instance merged, in the order the instances first appear.
func FormatUpload(mes []me.ManagedEntity) string {
	type inst struct {
		class me.ClassID
		id    uint16
	}
	var order []inst
	merged := map[inst]*me.ManagedEntity{}
	for i := range mes {
		m := &mes[i]
		k := inst{m.GetClassID(), m.GetEntityID()}
		if prev, ok := merged[k]; ok {
			for name, v := range m.GetAttributeValueMap() {
				prev.GetAttributeValueMap()[name] = v
			}
			continue
		}
		cp := *m
		av := me.AttributeValueMap{}
		for name, v := range m.GetAttributeValueMap() {
			av[name] = v
		}
		c, err := me.NewManagedEntity(cp.GetManagedEntityDefinition(), me.ParamData{EntityID: k.id})
		if err != nil && err.StatusCode() != me.Success || c == nil {
			continue
		}
		for name, v := range av {
			c.GetAttributeValueMap()[name] = v
		}
		merged[k] = c
		order = append(order, k)
	}
	var b strings.Builder
	for _, k := range order {
		b.WriteString(FormatME(merged[k]))
		b.WriteByte('\n')
	}
	return b.String()
}

func writeAttrs(b *strings.Builder, defs me.AttributeDefinitionMap, av me.AttributeValueMap) {
	idx := make([]int, 0, len(defs))
	for i := range defs {
		if i != 0 {
			idx = append(idx, int(i))
		}
	}
	sort.Ints(idx)
	for _, i := range idx {
		d := defs[uint(i)]
		v, ok := av[d.Name]
		if !ok {
			continue
		}
		fmt.Fprintf(b, " %s=%s", d.Name, formatAttr(&d, v))
	}
}

// formatAttr shows pointers and bit fields in hex, everything else as formatValue does.
func formatAttr(d *me.AttributeDefinition, v any) string {
	switch {
	case d.AttributeType == me.PointerAttributeType, d.AttributeType == me.BitFieldAttributeType,
		d.Name == me.PriorityQueue_RelatedPort:
		switch x := v.(type) {
		case uint8, uint16, uint32, uint64:
			return fmt.Sprintf("%#x", x)
		}
	}
	return formatValue(v)
}

func formatValue(v any) string {
	switch x := v.(type) {
	case []byte:
		s := strings.TrimRight(string(x), "\x00")
		printable := s != ""
		for _, r := range s {
			if r < 0x20 || r > 0x7e {
				printable = false
			}
		}
		if printable {
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprintf("%x", x)
	}
	return fmt.Sprint(v)
}

// DumpMIB renders the ONU's MIB, every instance with every attribute (table attributes as their
// rows in hex), one instance per line in (class, instance) order.
func (o *ONU) DumpMIB() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for i := range o.mib.ents {
		e := &o.mib.ents[i]
		fmt.Fprintf(&b, "%d %s %#04x:", uint16(e.lay.id), e.lay.name, e.inst)
		for j := range e.lay.attrs {
			a := &e.lay.attrs[j]
			if a.table {
				fmt.Fprintf(&b, " %s=[%x]", a.def.Name, e.tables[a.mask])
				continue
			}
			fmt.Fprintf(&b, " %s=%s", a.def.Name, formatAttr(a.def, a.value(e.get(a))))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
