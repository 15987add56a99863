package flowtable

// Sizes returns how many flows, groups and meters the tables hold.
func (t *Table) Sizes() (flows, groups, meters int) {
	return len(t.flows), len(t.groups), len(t.meters)
}
