package ofagent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
	"github.com/openvolt/openvolt/internal/testkit"
)

const testDPID = 0x0000aabbccddeeff

// withFake runs an agent listening on a random port in front of a fake NBI
// with one logical device.
func withFake(t *testing.T, mod func(*Config)) (*nbitest.Fake, *runningAgent) {
	t.Helper()
	f := newFakeNBI()
	ld, ports := nbitest.LogicalDevice("ld1", testDPID)
	f.AddLogical(ld, ports)
	cfg := Config{Server: f.Serve(t), Listen: "127.0.0.1:0"}
	if mod != nil {
		mod(&cfg)
	}
	return f, startAgent(t, cfg)
}

// flowMod builds an add of table 0 with in_port and an output.
func flowMod(cmd ofp13.FlowModCommand, prio uint16, inPort, out uint32) *ofp13.FlowMod {
	return &ofp13.FlowMod{
		Command: cmd, Priority: prio, BufferID: ofp13.NoBuffer, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny,
		Match:        ofp13.Match{Fields: []ofp13.OXM{ofp13.OXMUint(ofp13.OXMInPort, uint64(inPort))}},
		Instructions: []ofp13.Instruction{&ofp13.InstructionApplyActions{Actions: []ofp13.Action{&ofp13.ActionOutput{Port: out}}}},
	}
}

func TestHandshakeFeaturesAndConfig(t *testing.T) {
	_, ag := withFake(t, nil)
	c := dialOF(t, ag.listen)
	fr, ok := c.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply)
	if !ok {
		t.Fatal("no features reply")
	}
	if fr.DatapathID != testDPID || fr.NTables != 2 || fr.NBuffers != 0 || fr.Capabilities != 0xf {
		t.Errorf("features %+v", fr)
	}
	c.send(&ofp13.SetConfig{Flags: ofp13.ConfigFragDrop, MissSendLen: 0xffff})
	gc, ok := c.request(&ofp13.GetConfigRequest{}).(*ofp13.GetConfigReply)
	if !ok || gc.Flags != ofp13.ConfigFragDrop || gc.MissSendLen != 0xffff {
		t.Errorf("get config %+v", gc)
	}
	er, ok := c.request(&ofp13.EchoRequest{Data: []byte("ping")}).(*ofp13.EchoReply)
	if !ok || string(er.Data) != "ping" {
		t.Errorf("echo reply %+v", er)
	}
	// The agent's own hello advertises 1.3 only.
	nc, err := net.Dial("tcp", ag.listen)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	raw, err := ofp13.ReadMessage(nc, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ofp13.Decode(raw)
	if h, ok := m.(*ofp13.Hello); !ok || !h.Supports(ofp13.Version) || h.Supports(1) {
		t.Errorf("agent hello %+v", m)
	}
}

func TestMultipart(t *testing.T) {
	f, ag := withFake(t, nil)
	c := dialOF(t, ag.listen)
	// Install a few flows, a group and a meter through the agent.
	c.send(flowMod(ofp13.FlowAdd, 10, 16, 1))
	c.send(flowMod(ofp13.FlowAdd, 20, 32, 1))
	down := flowMod(ofp13.FlowAdd, 30, 1, 16)
	down.TableID = 1
	down.Cookie = 0xc0
	c.send(down)
	c.send(&ofp13.GroupMod{Command: ofp13.GroupAdd, Type: ofp13.GroupTypeAll, GroupID: 5,
		Buckets: []ofp13.Bucket{{Actions: []ofp13.Action{&ofp13.ActionOutput{Port: 16}}}, {Actions: []ofp13.Action{&ofp13.ActionOutput{Port: 32}}}}})
	c.send(&ofp13.MeterMod{Command: ofp13.MeterAdd, Flags: ofp13.MeterFlagKBPS, MeterID: 3,
		Bands: []ofp13.MeterBand{{Type: ofp13.MeterBandDrop, Rate: 1000, BurstSize: 100}}})
	if got := c.barrier(); len(got) != 0 {
		t.Fatalf("unexpected replies before the barrier: %v", got)
	}
	if n := len(f.FlowMods); n != 3 {
		t.Fatalf("%d flow-mods reached the NBI", n)
	}

	one := func(m ofp13.Message) ofp13.Message {
		t.Helper()
		parts := c.multipart(m)
		if len(parts) != 1 {
			t.Fatalf("%d parts", len(parts))
		}
		return parts[0]
	}
	if d := one(&ofp13.DescRequest{}).(*ofp13.DescReply); d.MfrDesc != "OpenVOLT" || d.DPDesc != "ld1" {
		t.Errorf("desc %+v", d)
	}
	pd := one(&ofp13.PortDescRequest{}).(*ofp13.PortDescReply)
	if len(pd.Ports) != 3 || pd.Ports[0].PortNo != 1 || pd.Ports[1].Name != "uni-16" {
		t.Errorf("port desc %+v", pd.Ports)
	}
	ps := one(&ofp13.PortStatsRequest{PortNo: 16}).(*ofp13.PortStatsReply)
	if len(ps.Stats) != 1 || ps.Stats[0].PortNo != 16 || ps.Stats[0].TxPackets != 32 {
		t.Errorf("port stats %+v", ps.Stats)
	}
	wantError(t, one(&ofp13.PortStatsRequest{PortNo: 99}), ofp13.ErrTypeBadRequest, ofp13.BadRequestBadPort)

	all := &ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny}
	if fs := one(all).(*ofp13.FlowStatsReply); len(fs.Stats) != 3 {
		t.Errorf("%d flows, want 3", len(fs.Stats))
	}
	for _, tc := range []struct {
		name string
		req  ofp13.FlowStatsRequest
		want int
	}{
		{"table 1", ofp13.FlowStatsRequest{TableID: 1, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny}, 1},
		{"out_port NNI", ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: 1, OutGroup: ofp13.GroupAny}, 2},
		{"cookie", ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny, Cookie: 0xc0, CookieMask: 0xff}, 1},
		{"match in_port 32", ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny,
			Match: ofp13.Match{Fields: []ofp13.OXM{ofp13.OXMUint(ofp13.OXMInPort, 32)}}}, 1},
		{"match eth_type", ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny,
			Match: ofp13.Match{Fields: []ofp13.OXM{ofp13.OXMUint(ofp13.OXMEthType, 0x800)}}}, 0},
	} {
		req := tc.req
		if fs := one(&req).(*ofp13.FlowStatsReply); len(fs.Stats) != tc.want {
			t.Errorf("%s: %d flows, want %d", tc.name, len(fs.Stats), tc.want)
		}
	}
	agg := one(&ofp13.AggregateStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny}).(*ofp13.AggregateStatsReply)
	if agg.FlowCount != 3 || agg.PacketCount != 21 || agg.ByteCount != 2100 {
		t.Errorf("aggregate %+v", agg)
	}
	ts := one(&ofp13.TableStatsRequest{}).(*ofp13.TableStatsReply)
	if len(ts.Stats) != 2 || ts.Stats[0].ActiveCount != 2 || ts.Stats[1].ActiveCount != 1 {
		t.Errorf("table stats %+v", ts.Stats)
	}
	tf := one(&ofp13.TableFeaturesRequest{}).(*ofp13.TableFeaturesReply)
	if len(tf.Tables) != 2 || tf.Tables[1].TableID != 1 {
		t.Errorf("table features %+v", tf.Tables)
	}
	gd := one(&ofp13.GroupDescRequest{}).(*ofp13.GroupDescReply)
	if len(gd.Groups) != 1 || gd.Groups[0].GroupID != 5 || len(gd.Groups[0].Buckets) != 2 {
		t.Errorf("group desc %+v", gd.Groups)
	}
	gs := one(&ofp13.GroupStatsRequest{GroupID: ofp13.GroupAll}).(*ofp13.GroupStatsReply)
	if len(gs.Stats) != 1 || gs.Stats[0].PacketCount != 3 || len(gs.Stats[0].BucketStats) != 2 {
		t.Errorf("group stats %+v", gs.Stats)
	}
	if gf := one(&ofp13.GroupFeaturesRequest{}).(*ofp13.GroupFeaturesReply); gf.Types != 0b101 {
		t.Errorf("group features %+v", gf)
	}
	mc := one(&ofp13.MeterConfigRequest{MeterID: ofp13.MeterAll}).(*ofp13.MeterConfigReply)
	if len(mc.Configs) != 1 || mc.Configs[0].MeterID != 3 || mc.Configs[0].Bands[0].Rate != 1000 {
		t.Errorf("meter config %+v", mc.Configs)
	}
	ms := one(&ofp13.MeterStatsRequest{MeterID: 3}).(*ofp13.MeterStatsReply)
	if len(ms.Stats) != 1 || ms.Stats[0].FlowCount != 1 || len(ms.Stats[0].BandStats) != 1 {
		t.Errorf("meter stats %+v", ms.Stats)
	}
	if mf := one(&ofp13.MeterFeaturesRequest{}).(*ofp13.MeterFeaturesReply); mf.MaxMeter == 0 || mf.BandTypes != 0b110 {
		t.Errorf("meter features %+v", mf)
	}
}

// TestLargeMultipartSplits: a flow dump over 64 KiB comes in several
// messages with OFPMPF_REPLY_MORE on all but the last.
func TestLargeMultipartSplits(t *testing.T) {
	f, ag := withFake(t, nil)
	var flows []*openflowv1.Flow
	for i := range 2000 {
		flows = append(flows, &openflowv1.Flow{Id: uint64(i), Priority: uint32(i), Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{
			{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: 16},
		}}})
	}
	f.Lock()
	f.Flows["ld1"] = flows
	f.Unlock()
	c := dialOF(t, ag.listen)
	parts := c.multipart(&ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny})
	n := 0
	for _, p := range parts {
		n += len(p.(*ofp13.FlowStatsReply).Stats)
	}
	if len(parts) < 2 || n != 2000 {
		t.Fatalf("%d parts with %d flows", len(parts), n)
	}
}

// TestPipeliningAndBarrier: flow-mods for different flows are in the core
// together; a barrier is answered only after all of them, after the error
// of the one that failed; nothing after the barrier overtakes it.
func TestPipeliningAndBarrier(t *testing.T) {
	gate := make(chan struct{})
	f, ag := withFake(t, nil)
	f.Lock()
	f.FlowHook = func(ctx context.Context, req *voltv1.FlowTableUpdate) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		if req.GetFlowMod().GetPriority() == 5 {
			return status.Error(codes.InvalidArgument, "logical device ld1: flow table=0 priority=5 cookie=0x0: meter 9 does not exist: add the meter before the flows that use it")
		}
		return nil
	}
	f.Unlock()
	c := dialOF(t, ag.listen)
	var failed uint32
	for i := range 10 {
		xid := c.send(flowMod(ofp13.FlowAdd, uint16(i), 16, 1))
		if i == 5 {
			failed = xid
		}
	}
	barrier := c.send(&ofp13.BarrierRequest{})
	echo := c.send(&ofp13.EchoRequest{})
	// Pipelined: the ten mods are in the core at once, or as many batches
	// as the agent sends at once (it takes what queued while the core was
	// busy: a slow reader makes smaller batches).
	testkit.Eventually(t, "10 flow-mods or the most batches in the core at once", func() error {
		f.Lock()
		defer f.Unlock()
		sent := 0
		for _, n := range f.Batches {
			sent += n
		}
		if f.InFlight == 10 || (len(f.Batches) == batchesInFlight && f.InFlight == sent) {
			return nil
		}
		return fmt.Errorf("%d in flight, batches %v", f.InFlight, f.Batches)
	})
	close(gate)
	var order []string
	for len(order) < 3 {
		m := c.next()
		switch {
		case m.Hdr().Xid == failed:
			wantError(t, m, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter)
			order = append(order, "error")
		case m.Hdr().Xid == barrier:
			order = append(order, "barrier")
		case m.Hdr().Xid == echo:
			order = append(order, "echo")
		default:
			t.Fatalf("unexpected %v xid %d (failed %d barrier %d echo %d)", m.Hdr().Type, m.Hdr().Xid, failed, barrier, echo)
		}
	}
	if want := []string{"error", "barrier", "echo"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// TestOrderKept: mods of one flow, and a group before the flow that uses
// it, reach the core in the order sent even without a barrier.
func TestOrderKept(t *testing.T) {
	f, ag := withFake(t, nil)
	var mu sync.Mutex
	var started []string // in the order the fake starts them
	held := false
	release := make(chan struct{})
	f.Lock()
	f.FlowHook = func(ctx context.Context, req *voltv1.FlowTableUpdate) error {
		fm := req.GetFlowMod()
		f.Lock()
		groups := len(f.GroupMods)
		f.Unlock()
		mu.Lock()
		started = append(started, fmt.Sprintf("%s/%d/g%d", strings.TrimPrefix(fm.GetCommand().String(), "FLOW_MOD_COMMAND_"), fm.GetPriority(), groups))
		// The first add of priority 1 is slow; the mods of its flow must wait.
		first := !held && fm.GetPriority() == 1
		held = held || first
		mu.Unlock()
		if first {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}
	f.Unlock()
	c := dialOF(t, ag.listen)
	c.send(flowMod(ofp13.FlowAdd, 1, 16, 1))
	testkit.Eventually(t, "the first add held in the core", func() error {
		mu.Lock()
		defer mu.Unlock()
		if !held {
			return errors.New("not yet")
		}
		return nil
	})
	c.send(flowMod(ofp13.FlowAdd, 2, 16, 1)) // another flow: may pass
	c.send(flowMod(ofp13.FlowDeleteStrict, 1, 16, 1))
	c.alive()
	mu.Lock()
	if slices.Contains(started, "DELETE_STRICT/1/g0") {
		t.Errorf("the delete of a held flow started before its add was done: %v", started)
	}
	mu.Unlock()
	close(release)
	c.send(&ofp13.GroupMod{Command: ofp13.GroupAdd, Type: ofp13.GroupTypeAll, GroupID: 1,
		Buckets: []ofp13.Bucket{{Actions: []ofp13.Action{&ofp13.ActionOutput{Port: 16}}}}})
	c.send(flowMod(ofp13.FlowAdd, 3, 1, 16))
	c.barrier()
	f.Lock()
	defer f.Unlock()
	var applied []string
	for _, fc := range f.FlowMods {
		applied = append(applied, fmt.Sprintf("%s/%d", strings.TrimPrefix(fc.GetFlowMod().GetCommand().String(), "FLOW_MOD_COMMAND_"), fc.GetFlowMod().GetPriority()))
	}
	before := func(list []string, a, b string) bool {
		i, j := slices.Index(list, a), slices.Index(list, b)
		return i >= 0 && j >= 0 && i < j
	}
	if len(applied) != 4 || !before(applied, "ADD/1", "DELETE_STRICT/1") || applied[3] != "ADD/3" {
		t.Errorf("flow-mods applied %v: want ADD/1 before DELETE_STRICT/1, ADD/2 anywhere, ADD/3 last", applied)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(started) != 4 || started[3] != "ADD/3/g1" {
		t.Errorf("flow-mods started %v: want ADD/3 last, after the group", started)
	}
	if len(f.GroupMods) != 1 {
		t.Errorf("%d group-mods", len(f.GroupMods))
	}
}

// TestBatching: flow-mods that arrive while the core is busy reach it
// together, in few NBI calls, none over the size bound.
func TestBatching(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		mod  func(i int) *ofp13.FlowMod
		most int // NBI calls at most
	}{
		{"small", 2000, func(i int) *ofp13.FlowMod { return flowMod(ofp13.FlowAdd, uint16(i), 16, 1) },
			batchesInFlight + (2000+maxBatch-1)/maxBatch},
		{"large", 60, func(i int) *ofp13.FlowMod {
			// About 48 KiB each: 21 fit under maxBatchBytes.
			fm := flowMod(ofp13.FlowAdd, uint16(i), 16, 1)
			as := fm.Instructions[0].(*ofp13.InstructionApplyActions)
			for range 3000 {
				as.Actions = append(as.Actions, &ofp13.ActionSetField{Field: ofp13.OXMUint(ofp13.OXMVlanVID, 0x1000|55)})
			}
			return fm
		}, batchesInFlight + 60/(maxBatchBytes/(48<<10)) + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ag := withFake(t, nil)
			gate := make(chan struct{})
			f.Lock()
			f.FlowHook = func(ctx context.Context, req *voltv1.FlowTableUpdate) error {
				select {
				case <-gate:
				case <-ctx.Done():
				}
				return nil
			}
			f.Unlock()
			c := dialOF(t, ag.listen)
			size := 0
			for i := range tc.n {
				m := tc.mod(i)
				b, err := m.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				size = len(b)
				c.send(m)
			}
			c.alive() // the agent has read them all; the core holds the first batches
			close(gate)
			c.barrier()
			f.Lock()
			defer f.Unlock()
			if len(f.FlowMods) != tc.n {
				t.Fatalf("%d flow-mods applied, want %d", len(f.FlowMods), tc.n)
			}
			if len(f.Batches) > tc.most {
				t.Errorf("%d calls for %d flow-mods sent while the core was busy, want at most %d: %v", len(f.Batches), tc.n, tc.most, f.Batches)
			}
			// Half gRPC's 4 MiB message limit leaves room for the protobuf
			// form, which is larger than OpenFlow's.
			for _, b := range f.Batches {
				if b*size > 2<<20 || b > maxBatch {
					t.Errorf("a batch of %d flow-mods of %d bytes", b, size)
				}
			}
		})
	}
}

// badPrereq is a core error that names its OpenFlow error
// (OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ).
type badPrereq struct{ error }

func (badPrereq) OpenFlowError() (typ, code uint16) { return 4, 9 }
func (e badPrereq) Unwrap() error                   { return e.error }

func TestErrorsFromNBI(t *testing.T) {
	f, ag := withFake(t, nil)
	errs := map[uint16]error{
		1: status.Error(codes.InvalidArgument, "logical device ld1: flow table=0 priority=1 cookie=0x0: unsupported match field mpls_label"),
		2: status.Error(codes.Unavailable, "etcd is down"),
		3: badPrereq{coreerr.New(coreerr.ErrInvalidArgument, "bad")}, // as the core's flow decomposition says it
		4: status.Error(codes.NotFound, `logical device "ld1" not found`),
	}
	f.Lock()
	f.FlowHook = func(_ context.Context, req *voltv1.FlowTableUpdate) error {
		return errs[uint16(req.GetFlowMod().GetPriority())]
	}
	f.Unlock()
	c := dialOF(t, ag.listen)
	for prio, want := range map[uint16][2]uint16{
		1: {uint16(ofp13.ErrTypeBadMatch), ofp13.BadMatchBadField},
		2: {uint16(ofp13.ErrTypeFlowModFailed), ofp13.FlowModFailedUnknown},
		3: {uint16(ofp13.ErrTypeBadMatch), ofp13.BadMatchBadPrereq},
		4: {uint16(ofp13.ErrTypeFlowModFailed), ofp13.FlowModFailedUnknown},
	} {
		xid := c.send(flowMod(ofp13.FlowAdd, prio, 16, 1))
		wantError(t, c.reply(xid), ofp13.ErrorType(want[0]), want[1])
	}
	// Group and meter errors from the fake's tables.
	g := &ofp13.GroupMod{Command: ofp13.GroupAdd, Type: ofp13.GroupTypeAll, GroupID: 1}
	c.send(g)
	g.Xid = 0
	wantError(t, c.request(g), ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedGroupExists)
	m := &ofp13.MeterMod{Command: ofp13.MeterAdd, MeterID: 1, Bands: []ofp13.MeterBand{{Type: ofp13.MeterBandDrop, Rate: 1}}}
	c.send(m)
	m.Xid = 0
	wantError(t, c.request(m), ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedMeterExists)
	c.alive()
}

func TestAsyncMessagesAndRoles(t *testing.T) {
	f, ag := withFake(t, nil)
	master, slave := dialOF(t, ag.listen), dialOF(t, ag.listen)
	if r := master.request(&ofp13.RoleRequest{Role: ofp13.RoleMaster, GenerationID: 10}).(*ofp13.RoleReply); r.Role != ofp13.RoleMaster || r.GenerationID != 10 {
		t.Fatalf("role reply %+v", r)
	}
	if r := slave.request(&ofp13.RoleRequest{Role: ofp13.RoleSlave, GenerationID: 11}).(*ofp13.RoleReply); r.Role != ofp13.RoleSlave {
		t.Fatalf("role reply %+v", r)
	}
	wantError(t, slave.request(&ofp13.RoleRequest{Role: ofp13.RoleMaster, GenerationID: 5}), ofp13.ErrTypeRoleRequestFailed, ofp13.RoleRequestFailedStale)
	wantError(t, slave.request(flowMod(ofp13.FlowAdd, 1, 16, 1)), ofp13.ErrTypeBadRequest, ofp13.BadRequestIsSlave)
	if r := slave.request(&ofp13.RoleRequest{Role: ofp13.RoleNoChange}).(*ofp13.RoleReply); r.Role != ofp13.RoleSlave || r.GenerationID != 11 {
		t.Fatalf("nochange reply %+v", r)
	}

	// A packet-in goes to the master only.
	waitPacketInStreams(t, f, 1)
	f.PublishPacketIn(&voltv1.PacketIn{LogicalDeviceId: "ld1", PacketIn: &openflowv1.PacketIn{
		BufferId: ofp13.NoBuffer, TotalLen: 3, Reason: openflowv1.PacketInReason_PACKET_IN_REASON_ACTION,
		Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: 16}}},
		Data:  []byte{1, 2, 3},
	}})
	pi := master.waitFor("packet-in", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypePacketIn }).(*ofp13.PacketIn)
	if in, _ := pi.Match.Get(ofp13.OXMInPort); in.Uint() != 16 || !bytes.Equal(pi.Data, []byte{1, 2, 3}) || pi.BufferID != ofp13.NoBuffer {
		t.Errorf("packet-in %+v", pi)
	}

	// A port change goes to both, as port-status.
	_, ports := nbitest.LogicalDevice("ld1", testDPID)
	up := ports[1]
	up.OfpPort.State = 1 // link down
	f.Publish(&voltv1.Event{LogicalDeviceId: "ld1", Payload: &voltv1.Event_LogicalPort{LogicalPort: &voltv1.LogicalPortChange{
		Kind: voltv1.ChangeKind_CHANGE_KIND_MODIFIED, Port: up}}})
	for _, c := range []*ofClient{master, slave} {
		ps := c.waitFor("port-status", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypePortStatus }).(*ofp13.PortStatus)
		if ps.Reason != ofp13.PortReason(2) || ps.Desc.PortNo != 16 || ps.Desc.State != 1 {
			t.Errorf("port-status %+v", ps)
		}
	}

	// A removed flow: flow-removed to the master when it asked for it.
	flow := &openflowv1.Flow{TableId: 0, Priority: 7, Cookie: 0x77, Flags: 0, Match: &openflowv1.Match{}}
	f.Publish(&voltv1.Event{LogicalDeviceId: "ld1", Payload: &voltv1.Event_Flow{Flow: &voltv1.FlowChange{
		Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Flow: flow}}})
	withRem := &openflowv1.Flow{TableId: 0, Priority: 8, Cookie: 0x88, Flags: uint32(ofp13.FlowFlagSendFlowRem), Match: &openflowv1.Match{}}
	f.Publish(&voltv1.Event{LogicalDeviceId: "ld1", Payload: &voltv1.Event_Flow{Flow: &voltv1.FlowChange{
		Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Flow: withRem, RemovedReason: openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_HARD_TIMEOUT}}})
	fr := master.waitFor("flow-removed", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypeFlowRemoved }).(*ofp13.FlowRemoved)
	if fr.Cookie != 0x88 || fr.Reason != ofp13.FlowRemovedHardTimeout || fr.Priority != 8 {
		t.Errorf("flow-removed %+v", fr)
	}
	// The slave got neither, and nothing else is queued for either.
	for _, c := range []*ofClient{master, slave} {
		for _, m := range append(c.barrier(), c.pending...) {
			switch m.Hdr().Type {
			case ofp13.TypePacketIn, ofp13.TypeFlowRemoved:
				t.Errorf("unexpected %v", m.Hdr().Type)
			}
		}
	}

	// Async config: the master turns port-status off.
	master.send(&ofp13.SetAsync{AsyncConfig: ofp13.AsyncConfig{PacketInMask: [2]uint32{3, 0}}})
	ga := master.request(&ofp13.GetAsyncRequest{}).(*ofp13.GetAsyncReply)
	if ga.PortStatusMask != [2]uint32{0, 0} || ga.PacketInMask[0] != 3 {
		t.Errorf("async %+v", ga.AsyncConfig)
	}
	// A new master demotes the old one.
	if r := slave.request(&ofp13.RoleRequest{Role: ofp13.RoleMaster, GenerationID: 12}).(*ofp13.RoleReply); r.Role != ofp13.RoleMaster {
		t.Fatalf("role reply %+v", r)
	}
	wantError(t, master.request(flowMod(ofp13.FlowAdd, 1, 16, 1)), ofp13.ErrTypeBadRequest, ofp13.BadRequestIsSlave)
}

func TestPacketOutAndPortMod(t *testing.T) {
	f, ag := withFake(t, nil)
	c := dialOF(t, ag.listen)
	c.send(&ofp13.PacketOut{BufferID: ofp13.NoBuffer, InPort: ofp13.PortController,
		Actions: []ofp13.Action{&ofp13.ActionOutput{Port: 16}}, Data: []byte("frame")})
	c.send(&ofp13.PortMod{PortNo: 32, HWAddr: [6]byte{0, 0, 0, 0, 0, 32}, Config: ofp13.PortConfigPortDown, Mask: ofp13.PortConfigPortDown})
	c.send(&ofp13.PortMod{PortNo: 32, HWAddr: [6]byte{0, 0, 0, 0, 0, 32}, Config: 0, Mask: ofp13.PortConfigPortDown})
	if got := c.barrier(); len(got) != 0 {
		t.Fatalf("errors: %v", got)
	}
	testkit.Eventually(t, "packet-out at the NBI", func() error {
		f.Lock()
		defer f.Unlock()
		if len(f.PacketOuts) != 1 {
			return fmt.Errorf("%d packet-outs", len(f.PacketOuts))
		}
		po := f.PacketOuts[0]
		if po.GetLogicalDeviceId() != "ld1" || string(po.GetPacketOut().GetData()) != "frame" || po.GetPacketOut().GetActions()[0].GetOutput().GetPort() != 16 {
			return fmt.Errorf("packet-out %v", po)
		}
		return nil
	})
	f.Lock()
	defer f.Unlock()
	if want := []string{"disable uni-32", "enable uni-32"}; !slices.Equal(f.PortCalls, want) {
		t.Errorf("port calls %v, want %v", f.PortCalls, want)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Controllers: []string{"a:1"}}, "--server"},
		{Config{Server: "s:1"}, "--controller"},
		{Config{Server: "s:1", Controllers: []string{"nohost"}}, "nohost"},
		{Config{Server: "s:1", Listen: "x"}, "listen"},
		{Config{Server: "s:1", Listen: ":1", EchoInterval: -1}, "negative"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.cfg, err, tc.want)
		}
	}
	cfg := Config{Server: "s:1", Listen: ":0"}
	if err := cfg.Validate(); err != nil || cfg.MaxInFlight != DefaultMaxInFlight || cfg.EchoInterval != DefaultEchoInterval {
		t.Errorf("defaults: %+v %v", cfg, err)
	}
	// A busy listen address fails Run at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = Run(context.Background(), Config{Server: "127.0.0.1:1", Listen: l.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("busy listener: %v", err)
	}
}
