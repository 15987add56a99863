package device

import (
	"slices"
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

func portNos(ps []*voltv1.Port) []uint32 {
	var out []uint32
	for _, p := range ps {
		out = append(out, p.GetPortNo())
	}
	return out
}

// A port being removed is left out of the port list that logical-port
// rebuilds read, comes back when the removal fails, and is gone for good
// once dropped (TestReconcileRemovesStalePorts once saw a rebuild bring a
// removed UNI's logical port back).
func TestLeavingPortHidden(t *testing.T) {
	a := newAgent(&voltv1.Device{Id: "d"})
	for _, no := range []uint32{1, 16, 33} {
		a.setPort(&voltv1.Port{PortNo: no})
	}
	stay := a.leave(33)
	if got := portNos(a.portList()); !slices.Equal(got, []uint32{1, 16}) {
		t.Fatalf("ports while 33 leaves: %v, want [1 16]", got)
	}
	if a.port(33) == nil {
		t.Fatal("a leaving port must stay readable by number (the removal retries)")
	}
	stay()
	if got := portNos(a.portList()); !slices.Equal(got, []uint32{1, 16, 33}) {
		t.Fatalf("ports after a failed removal: %v, want [1 16 33]", got)
	}
	a.leave(33)
	a.dropPort(33)
	a.setPort(&voltv1.Port{PortNo: 33}) // created again later
	if got := portNos(a.portList()); !slices.Equal(got, []uint32{1, 16, 33}) {
		t.Fatalf("ports after removal and re-creation: %v, want [1 16 33]", got)
	}
}
