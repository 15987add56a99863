package ponsim

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// BenchmarkDataplane forwards frames through the ONU and OLT tables of an
// OLT with 1,024 ATT-like subscribers (16 PONs × 64 ONUs: about 5,100 OLT
// flows and 5 per ONU), upstream (UNI → ONU → OLT → NNI) and downstream
// (NNI → OLT → ONU → UNI), and reports frames per second.
//
//	go test -run XXX -bench Dataplane ./internal/ponsim
func BenchmarkDataplane(b *testing.B) {
	// Rounds alternate with and without counters, so that a machine whose
	// load changes during the run weighs on both alike (-count repeats
	// each case back to back instead).
	for range dataplaneRounds {
		for _, counting := range []bool{true, false} {
			b.Run(fmt.Sprintf("counters=%v", counting), func(b *testing.B) { benchDataplane(b, counting) })
		}
	}
}

// dataplaneRounds is how many times BenchmarkDataplane runs each case.
const dataplaneRounds = 3

func benchDataplane(b *testing.B, counting bool) {
	const pons, onus = 16, 64
	s, err := New(Config{Name: "bench", PONPorts: pons, ONUsPerPON: onus, NoCounting: !counting})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	installSubscribers(b, s, nil, nil)
	if err := s.Enable(""); err != nil {
		b.Fatal(err)
	}
	var nniOut, uniOut atomic.Int64 // frames that left the NNI, the UNIs
	if err := s.Connect("", portno.NNI(0), func([]byte) { nniOut.Add(1) }); err != nil {
		b.Fatal(err)
	}
	type sub struct {
		serial string
		uni    uint32
		down   []byte
	}
	var subs []sub
	for pon := range uint32(pons) {
		for onu := uint32(1); onu <= onus; onu++ {
			serial, uni := s.ONUSerial(pon, onu), portno.UNI(pon, onu, 0)
			if err := s.Connect(serial, uni, func([]byte) { uniOut.Add(1) }); err != nil {
				b.Fatal(err)
			}
			subs = append(subs, sub{serial, uni, tagged(ethTypeIPv4, udp4(protoUDP, 80, 5000), sTag, uint16(cTag(pon, onu)))})
		}
	}
	up := frame(ethTypeIPv4, udp4(protoUDP, 5000, 80))
	run := func(b *testing.B, out *atomic.Int64, fn func(i int) error) {
		b.ReportAllocs()
		before := out.Load()
		cpu0 := cpuTime(b)
		var start atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine starts at another subscriber, as traffic
			// spreads over them: not all on one flow's counters at once.
			i := int(start.Add(int64(len(subs)) / 2))
			for pb.Next() {
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		// CPU time per frame: steadier than frames/s on a shared machine.
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/frame")
		if got := out.Load() - before; got != int64(b.N) {
			b.Fatalf("%d frames out for %d in", got, b.N)
		}
	}
	b.Run("upstream", func(b *testing.B) {
		run(b, &nniOut, func(i int) error {
			sb := subs[i%len(subs)]
			return s.Inject(sb.serial, sb.uni, up)
		})
	})
	b.Run("downstream", func(b *testing.B) {
		run(b, &uniOut, func(i int) error { return s.Inject("", portno.NNI(0), subs[i%len(subs)].down) })
	})
	st, err := s.Stats("")
	if err != nil {
		b.Fatal(err)
	}
	var rx uint64
	for _, p := range st.GetPorts() {
		if p.GetDropped() != 0 || p.GetMalformed() != 0 {
			b.Fatalf("olt port %s dropped %d frames", p.GetName(), p.GetDropped())
		}
		rx += p.GetRxFrames()
	}
	if counting != (rx > 0) {
		b.Fatalf("counting %v, yet the OLT ports received %d frames by their counters", counting, rx)
	}
}

// benchSubscriberFlows are the OLT flows of n ATT-like subscribers (5
// each, as oltSubscriberFlows), with ids from 1, spread over 64 PONs.
func benchSubscriberFlows(tb testing.TB, first, n int) []*openflowv1.Flow {
	var lines []string
	for i := first; i < first+n; i++ {
		pon, onu := uint32(i%64), uint32(i/64%255+1)
		uni, ponPort, nni := portno.UNI(pon, onu, uint32(i/64/255)), portno.OLTPON(pon), portno.NNI(0)
		c, s := 2+i%4000, 1000+i/4000 // unique (S, C) pairs
		lines = append(lines,
			fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x888e,vlan_vid=4091,tunnel_id=%d,actions=CONTROLLER:65535", ponPort, uni),
			fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=%d,vlan_pcp=0,ip_proto=17,udp_src=68,udp_dst=67,tunnel_id=%d,actions=CONTROLLER:65535", ponPort, c, uni),
			fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=%d,vlan_pcp=0,ip_proto=2,tunnel_id=%d,actions=CONTROLLER:65535", ponPort, c, uni),
			fmt.Sprintf("priority=1000,in_port=%d,vlan_vid=%d,tunnel_id=%d,actions=push_vlan:0x88a8,set_field:%d->vlan_vid,output:%d", ponPort, c, uni, s, nni),
			fmt.Sprintf("priority=1000,in_port=%d,metadata=%d,vlan_vid=%d,actions=meter:2,pop_vlan,set_field:%d->tunnel_id,output:%d", nni, c, s, uni, ponPort),
		)
	}
	flows := parseFlows(tb, lines...)
	for j, fl := range flows {
		fl.Id = uint64(5*first + j + 1)
	}
	return flows
}

// BenchmarkUpdateFlows applies small incremental changes (UpdateFlows, as
// the gRPC handler gets them) to an OLT table of 5,000 and 50,000 flows:
// each op adds flows, the next removes them again, so the table keeps its
// size. An op should cost what it changes, not what the table holds.
//
//	go test -run XXX -bench UpdateFlows -benchmem ./internal/ponsim
func BenchmarkUpdateFlows(b *testing.B) {
	dev := &ponsimv1.DeviceRef{}
	for _, subscribers := range []int{1_000, 10_000} { // 5 flows each
		base := benchSubscriberFlows(b, 0, subscribers)
		for _, flows := range []int{1, 16} {
			b.Run(fmt.Sprintf("table=%d/flows=%d", len(base), flows), func(b *testing.B) {
				s, err := New(Config{Name: "bench", PONPorts: 1, ONUsPerPON: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: dev, Flows: base,
					Meters: parseMeters(b, subscriberMeters[1])}); err != nil {
					b.Fatal(err)
				}
				// Those of flows/5 new subscribers (at least one flow of one).
				extra := benchSubscriberFlows(b, subscribers, (flows+4)/5)[:flows]
				add := &ponsimv1.FlowChanges{Device: dev, Add: extra}
				remove := &ponsimv1.FlowChanges{Device: dev}
				for _, fl := range extra {
					remove.Remove = append(remove.Remove, fl.GetId())
				}
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					fc := add
					if i%2 == 1 {
						fc = remove
					}
					if _, err := s.UpdateFlows(ctx, fc); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if n, _ := s.FlowCount(""); n != len(base)+b.N%2*flows {
					b.Fatalf("%d flows after %d ops", n, b.N)
				}
			})
		}
	}
}

// BenchmarkLookup looks frames up in an OLT table of 50,000 flows, as the
// dataplane does for each frame: upstream (PON port, C-VLAN, GEM port) and
// downstream (NNI, S-VLAN over C-VLAN).
//
//	go test -run XXX -bench Lookup -benchmem ./internal/ponsim
func BenchmarkLookup(b *testing.B) {
	const subscribers = 10_000
	flows := benchSubscriberFlows(b, 0, subscribers)
	t, err := compile(&ponsimv1.FlowTable{Flows: flows}, true)
	if err != nil {
		b.Fatal(err)
	}
	type frameView struct {
		v    view
		want *openflowv1.Flow
	}
	var up, down []frameView
	for i := range subscribers {
		pon, onu := uint32(i%64), uint32(i/64%255+1)
		uni, c, s := portno.UNI(pon, onu, uint32(i/64/255)), uint16(2+i%4000), uint16(1000+i/4000)
		fu, ok := parse(frame(ethTypeIPv4, udp4(protoUDP, 5000, 80), [2]uint16{tpidCTag, c}))
		fd, ok2 := parse(tagged(ethTypeIPv4, udp4(protoUDP, 80, 5000), s, c))
		if !ok || !ok2 {
			b.Fatal("frame does not parse")
		}
		up = append(up, frameView{view{inPort: portno.OLTPON(pon), f: &fu, tunnel: uint64(uni)}, flows[5*i+3]})
		down = append(down, frameView{view{inPort: portno.NNI(0), f: &fd}, flows[5*i+4]})
	}
	for _, dir := range []struct {
		name   string
		frames []frameView
	}{{"upstream", up}, {"downstream", down}} {
		b.Run(dir.name, func(b *testing.B) {
			for _, fv := range dir.frames {
				if e := t.lookup(0, &fv.v); e == nil || e.flow != fv.want {
					b.Fatalf("in_port %d: hit %v, want %v", fv.v.inPort, e, fv.want)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				t.lookup(0, &dir.frames[i%len(dir.frames)].v)
			}
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far, in
// nanoseconds.
func cpuTime(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
