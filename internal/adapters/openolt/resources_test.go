package openolt

import (
	"context"
	"strings"
	"testing"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/kvstore"
)

func info(onuEnd uint32) *openolt.DeviceInfo {
	pool := func(t openolt.DeviceInfo_DeviceResourceRanges_Pool_PoolType, start, end uint32) *openolt.DeviceInfo_DeviceResourceRanges_Pool {
		return &openolt.DeviceInfo_DeviceResourceRanges_Pool{Type: t, Start: start, End: end}
	}
	return &openolt.DeviceInfo{PonPorts: 2, Ranges: []*openolt.DeviceInfo_DeviceResourceRanges{{
		IntfIds: []uint32{0, 1},
		Pools: []*openolt.DeviceInfo_DeviceResourceRanges_Pool{
			pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_ONU_ID, 1, onuEnd),
			pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_ALLOC_ID, 1024, 1031),
			pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_GEMPORT_ID, 1024, 1055),
			pool(openolt.DeviceInfo_DeviceResourceRanges_Pool_FLOW_ID, 1, 100),
		},
	}}}
}

func TestPoolsUniqueExhaustedFreedReloaded(t *testing.T) {
	ctx := context.Background()
	kv := kvstore.NewMemory()
	defer kv.Close()
	p, err := poolsFromInfo(kv, "/volt/openolt/x/resources/", info(3))
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]bool{}
	for _, serial := range []string{"A", "B", "C"} {
		ids, err := p.Get(ctx, 1, PoolONU, serial, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got[ids[0]] {
			t.Fatalf("onu id %d handed out twice", ids[0])
		}
		got[ids[0]] = true
	}
	_, err = p.Get(ctx, 1, PoolONU, "D", 1)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "pon 1: onu_id pool exhausted") {
		t.Fatalf("exhausted pool: %v", err)
	}
	if ids, err := p.Get(ctx, 0, PoolONU, "D", 1); err != nil || ids[0] != 1 {
		t.Fatalf("pon 0 has its own pool: %v %v", ids, err)
	}
	// Another replica (or a restart) sees the same ids and takes none of them.
	q, err := poolsFromInfo(kv, "/volt/openolt/x/resources/", info(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.load(ctx); err != nil {
		t.Fatal(err)
	}
	if len(q.Used(1, PoolONU)) != 3 {
		t.Fatalf("reloaded %v", q.Used(1, PoolONU))
	}
	if err := p.Free(ctx, 1, PoolONU, p.Owned(1, PoolONU, "B")...); err != nil {
		t.Fatal(err)
	}
	if ids, err := p.Get(ctx, 1, PoolONU, "E", 1); err != nil || got[ids[0]] == false {
		t.Fatalf("the freed id comes back: %v %v", ids, err)
	}
}

func TestDeviceInfoWithoutRanges(t *testing.T) {
	in := info(3)
	in.Ranges = nil
	if _, err := poolsFromInfo(kvstore.NewMemory(), "/p/", in); err == nil || !strings.Contains(err.Error(), "ranges is empty") {
		t.Errorf("no ranges: %v", err)
	}
	in = info(3)
	in.Ranges[0].Pools = in.Ranges[0].Pools[:1]
	if _, err := poolsFromInfo(kvstore.NewMemory(), "/p/", in); err == nil || !strings.Contains(err.Error(), "alloc_id") {
		t.Errorf("no alloc pool: %v", err)
	}
}

// BBSim's GetDeviceInfo names ONU, alloc and GEM port ranges but no flow
// ids: the adapter then hands out flow ids 1..DefaultFlowIDEnd itself.
func TestDeviceInfoWithoutFlowPool(t *testing.T) {
	in := info(3)
	in.Ranges[0].Pools = in.Ranges[0].Pools[:3]
	p, err := poolsFromInfo(kvstore.NewMemory(), "/p/", in)
	if err != nil {
		t.Fatalf("no flow pool: %v", err)
	}
	fl := p.pools[poolKey{oltWide, PoolFlow}]
	if fl == nil || fl.start != 1 || fl.end != DefaultFlowIDEnd {
		t.Fatalf("flow pool %+v, want 1..%d", fl, DefaultFlowIDEnd)
	}
}
