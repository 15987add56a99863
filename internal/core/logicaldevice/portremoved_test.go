package logicaldevice_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

func TestPortRemoved(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	o1 := onu("onu1", "olt")
	activate(t, e, o1, onuPON("onu1"), uni("onu1", 0, 1, 0), uni("onu1", 0, 1, 1))
	e.rec.take(t)

	// An NNI and a UNI go; the PON ports never had logical ports.
	for _, rm := range []struct {
		dev  *voltv1.Device
		port *voltv1.Port
	}{
		{olt("olt", ""), nni("olt", 1)},
		{o1, uni("onu1", 0, 1, 1)},
		{olt("olt", ""), oltPON("olt", 0)},
	} {
		if err := e.m.PortRemoved(ctx, rm.dev, rm.port); err != nil {
			t.Fatalf("remove port %d of %s: %v", rm.port.GetPortNo(), rm.dev.GetId(), err)
		}
	}
	want := []string{"nni-1 olt LIVE", "uni-16 onu1 LIVE"}
	if diff := cmp.Diff(want, e.ports(t, ldID)); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.storedPorts(t, ldID)); diff != "" {
		t.Errorf("stored ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{
		"REMOVED port nni-2 olt LIVE",
		"REMOVED port uni-17 onu1 LIVE",
	}, e.rec.take(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Removed again, or of a device without a logical device: nothing.
	if err := e.m.PortRemoved(ctx, olt("olt", ""), nni("olt", 1)); err != nil {
		t.Error(err)
	}
	if err := e.m.PortRemoved(ctx, olt("other", ""), nni("other", 0)); err != nil {
		t.Error(err)
	}
	if evs := e.rec.take(t); len(evs) != 0 {
		t.Errorf("no-op PortRemoved published %q", evs)
	}

	// The number is free again.
	if err := e.m.PortChanged(ctx, olt("olt", ""), nni("olt", 1)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ADDED port nni-2 olt LIVE"}, e.rec.take(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// A logical port an older build stored under another name and a number
// the layout no longer allows is found by its device port number.
func TestPortRemovedOldBuild(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	cur, err := e.m.Port(ldID, "nni-1")
	if err != nil {
		t.Fatal(err)
	}
	old := proto.Clone(cur).(*voltv1.LogicalPort)
	old.Id, old.DevicePortNo, old.OfpPort.PortNo, old.OfpPort.Name = "nni-1048576", 1048576, 1048576, "nni-1048576"
	if err := e.st.LogicalPorts.Put(ctx, ldID+"/"+old.GetId(), old); err != nil {
		t.Fatal(err)
	}
	e.m = e.manager(t, nil)
	if err := e.m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.m.PortRemoved(ctx, olt("olt", ""), port("olt", 1048576, voltv1.PortType_PORT_TYPE_ETHERNET_NNI)); err != nil {
		t.Fatal(err)
	}
	want := []string{"nni-1 olt LIVE", "nni-2 olt LIVE"}
	if diff := cmp.Diff(want, e.ports(t, ldID)); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.storedPorts(t, ldID)); diff != "" {
		t.Errorf("stored ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"REMOVED port nni-1048576 olt LIVE"}, e.rec.take(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
