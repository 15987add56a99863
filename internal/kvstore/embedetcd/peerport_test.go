package embedetcd

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestPeerPortTakenMeanwhile: the peer port Start picked is taken by
// another socket before etcd binds it; Start picks another and starts.
func TestPeerPortTakenMeanwhile(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().(*net.TCPAddr).Port
	var picked []int
	pick := func() (int, error) {
		if len(picked) == 0 {
			picked = append(picked, busy)
			return busy, nil
		}
		p, err := freePort()
		picked = append(picked, p)
		return p, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := Start(ctx, Config{DataDir: filepath.Join(t.TempDir(), "etcd"), ClientURL: "http://127.0.0.1:0", UnsafeNoFsync: true, pickPort: pick})
	if err != nil {
		t.Fatalf("Start with its first peer port taken: %v", err)
	}
	defer srv.Close()
	if len(picked) != 2 {
		t.Fatalf("picked peer ports %v, want the busy one and another", picked)
	}
	want := "http://127.0.0.1:" + strconv.Itoa(picked[1])
	if got := srv.etcd.Config().ListenPeerUrls[0].String(); got != want {
		t.Errorf("peer URL %s, want %s", got, want)
	}
}
