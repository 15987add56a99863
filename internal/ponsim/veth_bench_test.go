package ponsim

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/frameio"
)

// BenchmarkDataplaneVeth is BenchmarkDataplane's upstream with real wires:
// frames sent on a veth whose peer is an ONU's UNI cross the ONU and OLT
// tables and leave the NNI onto another veth, read there with AF_PACKET
// (tags rebuilt from auxdata). At most 64 frames are in flight, so none is
// lost to a full socket buffer. Root only:
//
//	go test -run '^$' -bench DataplaneVeth ./internal/ponsim/
func BenchmarkDataplaneVeth(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: creates a network namespace and veth pairs")
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	ns := "pb-" + hex.EncodeToString(r[:])
	sh := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	sh("netns", "add", ns)
	defer sh("netns", "del", ns)
	sh("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	for _, pair := range [][2]string{{"nni-sim", "nni-net"}, {"uni-sim", "uni-host"}} {
		sh("-n", ns, "link", "add", pair[0], "type", "veth", "peer", "name", pair[1])
		sh("-n", ns, "link", "set", pair[0], "up")
		sh("-n", ns, "link", "set", pair[1], "up")
	}
	open := func(name string) *frameio.RawPort {
		p, err := frameio.Open(name, frameio.Options{NetNS: "/run/netns/" + ns, QueueLen: 1024})
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	nniSim, uniSim, network, host := open("nni-sim"), open("uni-sim"), open("nni-net"), open("uni-host")
	defer func() {
		for _, p := range []*frameio.RawPort{nniSim, uniSim, network, host} {
			p.Close()
		}
	}()
	s, err := New(Config{Name: "veth-bench", PONPorts: 1, ONUsPerPON: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	installSubscribers(b, s, nil, nil)
	if err := s.Enable(""); err != nil {
		b.Fatal(err)
	}
	bound, err := s.Bind(nniSim, []frameio.Port{uniSim})
	if err != nil {
		b.Fatal(err)
	}
	defer bound.Close()

	var got atomic.Int64
	window := make(chan struct{}, 64)
	network.Subscribe(nil, func([]byte) {
		got.Add(1)
		<-window
	})
	up := frame(ethTypeIPv4, udp4(protoUDP, 5000, 80))
	// Wait until the links carry frames (carrier comes up asynchronously).
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() == 0 && time.Now().Before(deadline) {
		window <- struct{}{}
		_ = host.Send(up)
		time.Sleep(10 * time.Millisecond)
	}
	for len(window) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // let stragglers through
	}
	for len(window) > 0 {
		<-window // warm-up frames lost while the links came up
	}
	start := got.Load()
	b.ResetTimer()
	for b.Loop() {
		select {
		case window <- struct{}{}:
		case <-time.After(5 * time.Second):
			b.Fatalf("64 frames in flight for 5 s: frames are being lost")
		}
		if err := host.Send(up); err != nil {
			b.Fatal(err)
		}
	}
	for got.Load()-start < int64(b.N) && time.Now().Before(deadline.Add(time.Minute)) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
