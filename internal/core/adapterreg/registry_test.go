package adapterreg_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/adapterreg"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newRegistry(t *testing.T, st *store.Store, c *clock) *adapterreg.Registry {
	t.Helper()
	r, err := adapterreg.New(adapterreg.Config{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

func memStore(t *testing.T) *store.Store {
	kv := kvstore.NewMemory()
	t.Cleanup(func() { kv.Close() })
	return store.New(kv, "volt")
}

func oltAdapter() *voltv1.Adapter {
	return &voltv1.Adapter{Id: "ponsim_olt", Vendor: "OpenVOLT", Version: "0.1.0", Endpoint: "ponsim_olt"}
}

func typ(id string) *voltv1.DeviceType {
	return &voltv1.DeviceType{Id: id, AcceptsBulkFlowUpdate: true}
}

func TestNewValidatesConfig(t *testing.T) {
	if _, err := adapterreg.New(adapterreg.Config{}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := adapterreg.New(adapterreg.Config{Store: memStore(t), PersistEvery: -time.Second}); err == nil {
		t.Error("New with a negative PersistEvery succeeded")
	}
}

func TestRegisterPersistsAndReloads(t *testing.T) {
	testRegisterPersistsAndReloads(t, memStore(t))
}

func testRegisterPersistsAndReloads(t *testing.T, st *store.Store) {
	ctx := t.Context()
	c := &clock{now: t0}
	r := newRegistry(t, st, c)

	first, err := r.Register(ctx, oltAdapter(), []*voltv1.DeviceType{typ("ponsim_olt_b"), typ("ponsim_olt")})
	if err != nil {
		t.Fatal(err)
	}
	if !first {
		t.Error("first registration: firstSinceStart false")
	}
	wantA := &voltv1.Adapter{
		Id: "ponsim_olt", Vendor: "OpenVOLT", Version: "0.1.0", Endpoint: "ponsim_olt",
		DeviceTypes: []string{"ponsim_olt", "ponsim_olt_b"},
		Registered:  timestamppb.New(t0), LastSeen: timestamppb.New(t0),
	}
	wantTypes := []*voltv1.DeviceType{
		{Id: "ponsim_olt", Adapter: "ponsim_olt", AcceptsBulkFlowUpdate: true},
		{Id: "ponsim_olt_b", Adapter: "ponsim_olt", AcceptsBulkFlowUpdate: true},
	}
	check := func(what string, r *adapterreg.Registry, wantA *voltv1.Adapter, wantTypes []*voltv1.DeviceType) {
		t.Helper()
		if diff := cmp.Diff([]*voltv1.Adapter{wantA}, r.Adapters(), protocmp.Transform()); diff != "" {
			t.Errorf("%s: adapters (-want +got):\n%s", what, diff)
		}
		if diff := cmp.Diff(wantTypes, r.DeviceTypes(), protocmp.Transform()); diff != "" {
			t.Errorf("%s: device types (-want +got):\n%s", what, diff)
		}
		storedA, err := st.Adapters.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]*voltv1.Adapter{wantA}, storedA, protocmp.Transform()); diff != "" {
			t.Errorf("%s: stored adapters (-want +got):\n%s", what, diff)
		}
		storedT, err := st.DeviceTypes.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantTypes, storedT, protocmp.Transform()); diff != "" {
			t.Errorf("%s: stored device types (-want +got):\n%s", what, diff)
		}
	}
	check("registered", r, wantA, wantTypes)

	dt, a, ok := r.ForType("ponsim_olt_b")
	if !ok || dt.GetAdapter() != "ponsim_olt" || a.GetEndpoint() != "ponsim_olt" {
		t.Errorf("ForType = %v, %v, %v", dt, a, ok)
	}
	if _, _, ok := r.ForType("nope"); ok {
		t.Error("ForType(unknown) found something")
	}

	// A restart: the registry comes back from the store; the adapter's next
	// registration is its first since this start, keeps the original
	// registration time and replaces the type list.
	c.advance(time.Hour)
	r2 := newRegistry(t, st, c)
	check("reloaded", r2, wantA, wantTypes)
	first, err = r2.Register(ctx, oltAdapter(), []*voltv1.DeviceType{typ("ponsim_olt"), typ("ponsim_olt_c")})
	if err != nil {
		t.Fatal(err)
	}
	if !first {
		t.Error("first registration after a restart: firstSinceStart false")
	}
	wantA.DeviceTypes = []string{"ponsim_olt", "ponsim_olt_c"}
	wantA.LastSeen = timestamppb.New(t0.Add(time.Hour))
	wantTypes = []*voltv1.DeviceType{
		{Id: "ponsim_olt", Adapter: "ponsim_olt", AcceptsBulkFlowUpdate: true},
		{Id: "ponsim_olt_c", Adapter: "ponsim_olt", AcceptsBulkFlowUpdate: true},
	}
	check("re-registered with other types", r2, wantA, wantTypes)
	if _, _, ok := r2.ForType("ponsim_olt_b"); ok {
		t.Error("a dropped type is still served")
	}
}

func TestRegisterRejects(t *testing.T) {
	ctx := t.Context()
	st := memStore(t)
	r := newRegistry(t, st, &clock{now: t0})
	if _, err := r.Register(ctx, oltAdapter(), []*voltv1.DeviceType{typ("ponsim_olt")}); err != nil {
		t.Fatal(err)
	}
	onuAdapter := func() *voltv1.Adapter {
		return &voltv1.Adapter{Id: "ponsim_onu", Endpoint: "ponsim_onu"}
	}
	for _, tc := range []struct {
		name  string
		a     *voltv1.Adapter
		types []*voltv1.DeviceType
		kind  error
		msg   string
	}{
		{"no adapter", nil, []*voltv1.DeviceType{typ("x")}, coreerr.ErrInvalidArgument, "no adapter"},
		{"empty id", &voltv1.Adapter{Endpoint: "t"}, []*voltv1.DeviceType{typ("x")}, coreerr.ErrInvalidArgument, `adapter id ""`},
		{"upper-case id", &voltv1.Adapter{Id: "Ponsim", Endpoint: "t"}, []*voltv1.DeviceType{typ("x")}, coreerr.ErrInvalidArgument, `adapter id "Ponsim"`},
		{"empty endpoint", &voltv1.Adapter{Id: "a"}, []*voltv1.DeviceType{typ("x")}, coreerr.ErrInvalidArgument, `endpoint ""`},
		{"endpoint with a slash", &voltv1.Adapter{Id: "a", Endpoint: "a/b"}, []*voltv1.DeviceType{typ("x")}, coreerr.ErrInvalidArgument, `endpoint "a/b"`},
		{"endpoint ..", &voltv1.Adapter{Id: "a", Endpoint: ".."}, []*voltv1.DeviceType{typ("x")}, coreerr.ErrInvalidArgument, `endpoint ".."`},
		{"no types", onuAdapter(), nil, coreerr.ErrInvalidArgument, "no device types"},
		{"nil type", onuAdapter(), []*voltv1.DeviceType{nil}, coreerr.ErrInvalidArgument, "empty device type"},
		{"bad type id", onuAdapter(), []*voltv1.DeviceType{typ("ponsim onu")}, coreerr.ErrInvalidArgument, `"ponsim onu"`},
		{"type id too long", onuAdapter(), []*voltv1.DeviceType{typ("a" + strings.Repeat("b", 64))}, coreerr.ErrInvalidArgument, "device type id"},
		{"type listed twice", onuAdapter(), []*voltv1.DeviceType{typ("ponsim_onu"), typ("ponsim_onu")}, coreerr.ErrInvalidArgument, "listed twice"},
		{"type naming another adapter", onuAdapter(), []*voltv1.DeviceType{{Id: "ponsim_onu", Adapter: "other"}}, coreerr.ErrInvalidArgument, `names adapter "other"`},
		{"type owned by another adapter", onuAdapter(), []*voltv1.DeviceType{typ("ponsim_onu"), typ("ponsim_olt")}, coreerr.ErrAlreadyExists, `"ponsim_olt" (served by "ponsim_olt")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, err := r.Register(ctx, tc.a, tc.types)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Register = %v, want %v saying %s", err, tc.kind, tc.msg)
			}
			if first {
				t.Error("a refused registration reported firstSinceStart")
			}
		})
	}
	// Nothing of the refused ones was kept.
	if got := r.Adapters(); len(got) != 1 || got[0].GetId() != "ponsim_olt" {
		t.Errorf("adapters after refusals: %v", got)
	}
	if got := r.DeviceTypes(); len(got) != 1 {
		t.Errorf("device types after refusals: %v", got)
	}
	if as, _ := st.Adapters.List(ctx); len(as) != 1 {
		t.Errorf("stored adapters after refusals: %v", as)
	}
}

func TestHeartbeat(t *testing.T) {
	ctx := t.Context()
	st := memStore(t)
	c := &clock{now: t0}
	r := newRegistry(t, st, c)
	types := []*voltv1.DeviceType{typ("ponsim_olt")}
	register := func() bool {
		t.Helper()
		first, err := r.Register(ctx, oltAdapter(), types)
		if err != nil {
			t.Fatal(err)
		}
		return first
	}
	seen := func() (mem, stored time.Time) {
		t.Helper()
		a, err := st.Adapters.Get(ctx, "ponsim_olt")
		if err != nil {
			t.Fatal(err)
		}
		return r.Adapters()[0].GetLastSeen().AsTime(), a.GetLastSeen().AsTime()
	}

	for _, s := range []struct {
		name        string
		advance     time.Duration
		change      func()
		first       bool
		mem, stored time.Duration // since t0
	}{
		{name: "first registration is written", first: true, mem: 0, stored: 0},
		{name: "heartbeat 2s later: memory only", advance: 2 * time.Second, mem: 2 * time.Second, stored: 0},
		{name: "heartbeat 4s later: memory only", advance: 2 * time.Second, mem: 4 * time.Second, stored: 0},
		{name: "heartbeat 6s later: written", advance: 2 * time.Second, mem: 6 * time.Second, stored: 6 * time.Second},
		{name: "heartbeat 7s later: memory only", advance: time.Second, mem: 7 * time.Second, stored: 6 * time.Second},
		{
			name: "a change is written at once", advance: time.Second,
			change: func() { types = []*voltv1.DeviceType{typ("ponsim_olt"), typ("ponsim_olt2")} },
			mem:    8 * time.Second, stored: 8 * time.Second,
		},
	} {
		c.advance(s.advance)
		if s.change != nil {
			s.change()
		}
		if first := register(); first != s.first {
			t.Errorf("%s: firstSinceStart %v", s.name, first)
		}
		mem, stored := seen()
		if !mem.Equal(t0.Add(s.mem)) || !stored.Equal(t0.Add(s.stored)) {
			t.Errorf("%s: last_seen %v in memory, %v stored; want +%v, +%v", s.name, mem.Sub(t0), stored.Sub(t0), s.mem, s.stored)
		}
		if got := r.Adapters()[0].GetRegistered().AsTime(); !got.Equal(t0) {
			t.Errorf("%s: registered %v, want the first registration's time", s.name, got)
		}
	}
}

// Adapters heartbeat while the core looks types up: run with -race.
func TestConcurrentUse(t *testing.T) {
	ctx := t.Context()
	c := &clock{now: t0}
	r := newRegistry(t, memStore(t), c)
	var wg sync.WaitGroup
	for _, name := range []string{"ponsim_olt", "ponsim_onu", "other"} {
		wg.Go(func() {
			for range 200 {
				c.advance(time.Second)
				a := &voltv1.Adapter{Id: name, Endpoint: name}
				if _, err := r.Register(ctx, a, []*voltv1.DeviceType{typ(name)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 1000 {
				if dt, a, ok := r.ForType(name); ok && (dt.GetAdapter() != name || a.GetId() != name) {
					t.Errorf("ForType(%s) = %v, %v", name, dt, a)
				}
				r.Adapters()
			}
		})
	}
	wg.Wait()
	if got := len(r.DeviceTypes()); got != 3 {
		t.Errorf("%d device types, want 3", got)
	}
}

func TestEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded etcd")
	}
	testRegisterPersistsAndReloads(t, store.New(kvstoretest.NewEtcdStore(t), "volt"))
}
