package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/route/routetest"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/embedetcd"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// recorder is a Pushers that keeps what each device was given.
type recorder struct {
	mu    sync.Mutex // guards flows
	flows map[string]map[uint64]bool
}

func (r *recorder) Push(dev string, d *Delta, done func(error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if done != nil {
		defer done(nil)
	}
	if r.flows[dev] == nil {
		r.flows[dev] = map[uint64]bool{}
	}
	for _, f := range d.RemoveFlows {
		delete(r.flows[dev], f.GetId())
	}
	for _, f := range d.AddFlows {
		r.flows[dev][f.GetId()] = true
	}
}

func (r *recorder) Resend(string) {}
func (r *recorder) Close()        {}

func (r *recorder) count(dev string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.flows[dev])
}

// failing is a store whose Batch fails while fail is set.
type failing struct {
	kvstore.Store
	fail atomic.Bool
}

func (f *failing) Batch(ctx context.Context, ops []kvstore.Op) error {
	if f.fail.Load() {
		return errors.New("disk on fire")
	}
	return f.Store.Batch(ctx, ops)
}

// topology has one OLT and n ONUs with one UNI each (UNI numbers 16, 32, …).
func topology(t testing.TB, n int) Topology {
	var b strings.Builder
	b.WriteString("olt olt1 nni=1 pon=2097152\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "onu onu%d pon=2097152 uni=%d\n", i, i<<4)
	}
	snap, err := routetest.ParseSnapshot(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) (route.Snapshot, error) {
		if id != "ld1" {
			return route.Snapshot{}, coreerr.New(coreerr.ErrNotFound, "no "+id)
		}
		return snap, nil
	}
}

func newManager(t testing.TB, kv kvstore.Store, onus int) (*Manager, *recorder) {
	rec := &recorder{flows: map[string]map[uint64]bool{}}
	topo := topology(t, onus)
	exists := func(id string) error { _, err := topo(id); return err }
	m, err := New(Config{Store: store.New(kv, "volt"), Exists: exists, Topology: topo, Push: func(func(context.Context, string) (DeviceTables, error)) Senders { return rec }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, rec
}

func add(t testing.TB, text string) *openflowv1.FlowMod {
	f, err := flowtext.ParseFlow(text)
	if err != nil {
		t.Fatal(err)
	}
	return &openflowv1.FlowMod{Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: f.GetTableId(),
		Priority: f.GetPriority(), Cookie: f.GetCookie(), Match: f.GetMatch(), Instructions: f.GetInstructions()}
}

// subscriber is a one-table subscriber on UNI uni.
func subscriber(t testing.TB, uni int) []*openflowv1.FlowMod {
	return []*openflowv1.FlowMod{
		add(t, fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=output:CONTROLLER", uni)),
		add(t, fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:%d->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:1", uni, 100+uni)),
		add(t, fmt.Sprintf("table=0,priority=1000,in_port=1,vlan_vid=1000,metadata=%d,actions=pop_vlan,pop_vlan,output:%d", 100+uni, uni)),
	}
}

func TestConcurrentModsAllStored(t *testing.T) {
	kv := kvstore.NewMemory()
	m, rec := newManager(t, kv, 32)
	var wg sync.WaitGroup
	for i := 1; i <= 32; i++ {
		wg.Go(func() {
			for _, fm := range subscriber(t, i<<4) {
				if err := m.UpdateFlowTable(t.Context(), "ld1", fm); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := store.New(kv, "volt")
	flows, err := st.Flows.ListGroup(t.Context(), "ld1")
	if err != nil || len(flows) != 96 {
		t.Fatalf("%d stored logical flows (%v), want 96", len(flows), err)
	}
	tables := map[string]DeviceTables{}
	for _, dev := range []string{"olt1", "onu7"} {
		dt, err := m.DeviceTables(t.Context(), "ld1", dev)
		if err != nil || len(dt.Flows) == 0 || len(dt.Flows) != rec.count(dev) {
			t.Errorf("%s: %d device flows (%v), %d pushed", dev, len(dt.Flows), err, rec.count(dev))
		}
		tables[dev] = dt
	}
	// A fresh manager on the same store works the device flows out again
	// the same way.
	m2, _ := newManager(t, kv, 32)
	for dev, want := range tables {
		got, err := m2.DeviceTables(t.Context(), "ld1", dev)
		if err != nil || len(got.Flows) != len(want.Flows) {
			t.Fatalf("%s after a reload: %d device flows (%v), want %d", dev, len(got.Flows), err, len(want.Flows))
		}
		for i := range got.Flows {
			if !proto.Equal(got.Flows[i], want.Flows[i]) {
				t.Errorf("%s after a reload: flow %d is %v, want %v", dev, i, got.Flows[i], want.Flows[i])
			}
		}
	}
	if err := m2.UpdateFlowTable(t.Context(), "ld1", add(t, "table=0,priority=5,in_port=1,eth_type=0x88cc,actions=output:CONTROLLER")); err != nil {
		t.Fatal(err)
	}
	if n := len(m2.lds["ld1"].rules); n != 97 {
		t.Errorf("reloaded manager knows %d logical flows, want 97", n)
	}
}

// A store that fails: the mod fails, nothing is pushed, and the manager
// starts again from what the store has.
func TestStoreFailureLeavesTablesAsStored(t *testing.T) {
	kv := &failing{Store: kvstore.NewMemory()}
	m, rec := newManager(t, kv, 2)
	for _, fm := range subscriber(t, 16) {
		if err := m.UpdateFlowTable(t.Context(), "ld1", fm); err != nil {
			t.Fatal(err)
		}
	}
	before := rec.count("onu1")
	kv.fail.Store(true)
	err := m.UpdateFlowTable(t.Context(), "ld1", subscriber(t, 32)[1])
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("mod with a failing store: %v", err)
	}
	kv.fail.Store(false)
	if rec.count("onu2") != 0 || rec.count("onu1") != before {
		t.Errorf("a failed mod was pushed")
	}
	// The failed flow is not in the table: adding it again is new.
	if err := m.UpdateFlowTable(t.Context(), "ld1", subscriber(t, 32)[1]); err != nil {
		t.Fatal(err)
	}
	if n := len(m.lds["ld1"].rules); n != 4 {
		t.Errorf("%d logical flows, want 4", n)
	}
}

// BenchmarkFlowMods measures flow-mods into one logical device through the
// manager with a real etcd, 64 in flight (as a pipelining OpenFlow agent
// sends them): group commit puts many mods in one etcd transaction.
//
//	go test -run '^$' -bench FlowMods ./internal/core/flows/
func BenchmarkFlowMods(b *testing.B) {
	kv := kvstoretest.NewEtcdStore(b)
	const onus = 239 // ONU ids 1..239 of adapter/portno
	m, _ := newManager(b, kv, onus)
	mods := make(chan *openflowv1.FlowMod, 64)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for fm := range mods {
				if err := m.UpdateFlowTable(context.Background(), "ld1", fm); err != nil {
					b.Error(err)
				}
			}
		})
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		uni := (i%onus + 1) << 4
		fm := add(b, fmt.Sprintf("table=0,priority=%d,in_port=%d,eth_type=0x888e,actions=output:CONTROLLER", 1+i/onus, uni))
		mods <- fm
	}
	close(mods)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mods/s")
}

// BenchmarkFlowModsBatch measures flow-mods applied as the OpenFlow agent
// sends them, in batches of 512 (UpdateFlowTables), 4 batches at once,
// into a real etcd that takes 1,024 ops per transaction:
//
//	go test -run '^$' -bench FlowModsBatch -benchtime 40000x ./internal/core/flows/
func BenchmarkFlowModsBatch(b *testing.B) {
	eps := kvstoretest.StartEtcd(b)
	kv, err := kvstore.NewEtcd(context.Background(), kvstore.Config{Endpoints: eps, MaxTxnOps: embedetcd.DefaultMaxTxnOps})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { kv.Close() })
	const onus, batch = 239, 512
	m, _ := newManager(b, kv, onus)
	var fms []*openflowv1.FlowMod
	for i := range b.N {
		uni := (i%onus + 1) << 4
		fms = append(fms, add(b, fmt.Sprintf("table=0,priority=%d,in_port=%d,eth_type=0x0800,ipv4_dst=10.%d.%d.%d,actions=push_vlan:0x8100,set_field:%d->vlan_vid,output:1",
			1000, uni, i>>16&0xff, i>>8&0xff, i&0xff, 100+i%3000)))
	}
	batches := make(chan []*openflowv1.FlowMod)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for fb := range batches {
				errs, err := m.UpdateFlowTables(context.Background(), "ld1", fb)
				if err != nil {
					b.Error(err)
				}
				for _, err := range errs {
					if err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	b.ResetTimer()
	for start := 0; start < len(fms); start += batch {
		batches <- fms[start:min(start+batch, len(fms))]
	}
	close(batches)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mods/s")
}
