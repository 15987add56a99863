package logicaldevice_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
)

// onuN is the i-th ONU of a big OLT and its UNI, spread over PONs the way
// the numbering layout allows (onu 1..200 per PON).
func onuN(i int) (*voltv1.Device, *voltv1.Port) {
	id := fmt.Sprintf("onu-%04d", i)
	return onu(id, "olt"), uni(id, uint32(i/200), uint32(i%200+1), 0)
}

func TestConcurrentChildren(t *testing.T) {
	testConcurrentChildren(t, memEnv(t), 1000)
}

// testConcurrentChildren activates n ONUs on one OLT at once, while some of
// them go down and up, have their UNI disabled or leave again, and readers
// list the ports throughout. Run it with -race.
func testConcurrentChildren(t *testing.T, e *env, n int) {
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")

	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ps, err := e.m.Ports(ldID)
			if err != nil {
				t.Error(err)
				return
			}
			for _, p := range ps {
				_ = p.GetOfpPort().GetState() // a racing writer would show up here
			}
			e.m.List()
		}
	})

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		wg.Go(func() {
			d, p := onuN(i)
			e.devs.set(d, p)
			if _, err := e.m.DeviceActive(ctx, d, []*voltv1.Port{p}); err != nil {
				errs <- err
				return
			}
			if i%3 == 0 {
				off := with(d, disabled, voltv1.OperStatus_OPER_STATUS_ACTIVE)
				errs <- e.m.SetPortsUp(ctx, off, false)
				errs <- e.m.SetPortsUp(ctx, d, true)
			}
			if i%5 == 0 {
				errs <- e.m.DisablePort(ctx, ldID, portno.Name(p.GetPortNo()))
			}
			if i%7 == 0 {
				gone := with(d, enabled, inactive)
				e.devs.set(gone)
				errs <- e.m.DeviceGone(ctx, gone)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d ONUs activated on one OLT in %v", n, took)

	want := []string{"nni-1 olt LIVE", "nni-2 olt LIVE"}
	for i := range n {
		d, p := onuN(i)
		state := "LIVE"
		switch {
		case i%7 == 0:
			continue
		case i%5 == 0:
			state = "DISABLED"
		}
		want = append(want, fmt.Sprintf("%s %s %s", portno.Name(p.GetPortNo()), d.GetId(), state))
	}
	got := e.ports(t, ldID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got, e.storedPorts(t, ldID)); diff != "" {
		t.Errorf("store differs from memory (-memory +store):\n%s", diff)
	}
	added := make(map[string]int)
	for _, ev := range e.rec.take(t) {
		if strings.HasPrefix(ev, "ADDED port") {
			added[strings.Fields(ev)[2]]++
		}
	}
	for id, c := range added {
		if c != 1 {
			t.Errorf("port %s announced ADDED %d times", id, c)
		}
	}
	if len(added) != n {
		t.Errorf("%d ports announced ADDED, want %d", len(added), n)
	}
}

// The OLT turns ACTIVE while its ONUs, already ACTIVE, announce themselves:
// every UNI ends up there once, whoever adds it.
func TestConcurrentRootAndChildren(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	const n = 300
	for i := range n {
		d, p := onuN(i)
		e.devs.set(d, p)
	}
	root := olt("olt", "")
	rootPorts := []*voltv1.Port{nni("olt", 0)}
	e.devs.set(root, rootPorts...)

	var wg sync.WaitGroup
	var ldID string
	wg.Go(func() {
		var err error
		if ldID, err = e.m.DeviceActive(ctx, root, rootPorts); err != nil {
			t.Error(err)
		}
	})
	for i := range n {
		wg.Go(func() {
			d, p := onuN(i)
			if _, err := e.m.DeviceActive(ctx, d, []*voltv1.Port{p}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	ps, err := e.m.Ports(ldID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != n+1 {
		t.Errorf("%d ports, want %d UNIs and an NNI", len(ps), n)
	}
	evs := e.rec.take(t)
	if len(evs) != n+2 || evs[0] != "ADDED logical device of olt" {
		t.Errorf("%d events starting with %q; want the logical device's, then one ADDED per port (%d)", len(evs), evs[0], n+1)
	}
}

// The OLT is removed while its ONUs are still coming up: nothing written
// for them may outlive the removal, in the store or the event stream.
func TestRootGoneDuringChildActivation(t *testing.T) {
	e := memEnv(t)
	ctx := t.Context()
	ldID := activeOLT(t, e, "olt")
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, p := onuN(i)
			e.devs.set(d, p)
			if _, err := e.m.DeviceActive(ctx, d, []*voltv1.Port{p}); err != nil {
				t.Error(err)
			}
			if err := e.m.SetPortsUp(ctx, d, false); err != nil {
				t.Error(err)
			}
		})
	}
	// Remove it once some ONUs are in, with the others still on their way.
	wg.Go(func() {
		for {
			ps, err := e.m.Ports(ldID)
			if err != nil {
				t.Error(err)
				return
			}
			if len(ps) >= n/4 {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
		if err := e.m.DeviceGone(ctx, olt("olt", "")); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for _, k := range keys(t, e) {
		if strings.Contains(k, ldID) {
			t.Errorf("outlived its logical device: %s", k)
		}
	}
	if got := e.m.List(); len(got) != 0 {
		t.Errorf("List = %v", got)
	}
	evs := e.rec.take(t)
	last := evs[len(evs)-1]
	if last != "REMOVED logical device of olt" {
		t.Errorf("last event %q, want the removal", last)
	}
	t.Logf("%d port events before the removal", len(evs)-1)
}

// TestEtcd runs the scenarios that depend most on the store against a real
// (embedded) etcd, each under its own prefix.
func TestEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded etcd")
	}
	eps := kvstoretest.StartEtcd(t)
	kv, err := kvstore.NewEtcd(t.Context(), kvstore.Config{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })

	t.Run("load", func(t *testing.T) { testLoad(t, newEnv(t, kv, "load")) })
	t.Run("root gone", func(t *testing.T) { testRootGone(t, newEnv(t, kv, "gone")) })
	t.Run("concurrent children", func(t *testing.T) { testConcurrentChildren(t, newEnv(t, kv, "many"), 500) })
}
