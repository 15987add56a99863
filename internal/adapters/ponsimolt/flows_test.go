package ponsimolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// heldSim starts a ponsim whose *ponsim.Sim the test keeps, to plug its
// external ports and inject frames.
func (s *stack) heldSim(name string, pons, onus int) (*ponsim.Sim, string) {
	s.t.Helper()
	sim, _, addr := s.heldSimAt(name, pons, onus, "127.0.0.1:0")
	return sim, addr
}

// heldSimAt is heldSim on a given address; the daemon stops it.
func (s *stack) heldSimAt(name string, pons, onus int, at string) (*ponsim.Sim, *daemon, string) {
	s.t.Helper()
	sim, err := ponsim.New(ponsim.Config{Name: name, PONPorts: pons, ONUsPerPON: onus, RebootDelay: 100 * time.Millisecond})
	if err != nil {
		s.t.Fatal(err)
	}
	d, addr := start(s.t, "ponsim "+name, func(ctx context.Context, ready func(string)) error {
		return sim.Serve(ctx, at, s.logs, ready)
	})
	return sim, d, addr
}

// inPonSim waits until ponsim has as many flows for each device of the
// OLT as the core.
func (s *stack) inPonSim(sim *ponsim.Sim, oltID string) {
	s.t.Helper()
	devs := map[string]string{oltID: ""} // device id → ponsim serial
	for _, k := range s.children(oltID) {
		devs[k.GetId()] = k.GetSerialNumber()
	}
	testkit.Eventually(s.t, "device flows in ponsim", func() error {
		for id, serial := range devs {
			fl, err := s.nbi.ListDeviceFlows(s.ctx(), &voltv1.ID{Id: id})
			if err != nil {
				return err
			}
			n, err := sim.FlowCount(serial)
			if err != nil {
				return err
			}
			if n != len(fl.GetItems()) {
				return fmt.Errorf("device %s: ponsim has %d flows, the core %d", id, n, len(fl.GetItems()))
			}
		}
		return nil
	})
}

// port is a ponsim external port that keeps what it sends.
type port struct {
	mu     sync.Mutex // guards frames
	frames [][]byte
}

func (p *port) wire(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames = append(p.frames, b)
}

func (p *port) take() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.frames
	p.frames = nil
	return f
}

// ethFrame is an Ethernet frame with tags given as (tpid, vid), outer
// first.
func ethFrame(typ uint16, payload []byte, tags ...[2]uint16) []byte {
	b := []byte{0x0a, 0, 0, 0, 0, 2, 0x0a, 0, 0, 0, 0, 1}
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

func (s *stack) flowMod(ldID, text string) {
	s.t.Helper()
	f, err := flowtext.ParseFlow(text)
	if err != nil {
		s.t.Fatalf("parse %q: %v", text, err)
	}
	_, err = s.nbi.UpdateLogicalDeviceFlowTable(s.ctx(), &voltv1.FlowTableUpdate{Id: ldID, FlowMod: &openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: f.GetTableId(), Priority: f.GetPriority(),
		Cookie: f.GetCookie(), OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions(),
	}})
	if err != nil {
		s.t.Fatalf("add %s: %v", text, err)
	}
}

func (s *stack) meterMod(ldID, text string) {
	s.t.Helper()
	m, err := flowtext.ParseMeter(text)
	if err != nil {
		s.t.Fatalf("parse %q: %v", text, err)
	}
	_, err = s.nbi.UpdateLogicalDeviceMeterTable(s.ctx(), &voltv1.MeterModUpdate{Id: ldID, MeterMod: &openflowv1.MeterMod{
		Command: openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, Flags: m.GetFlags(), MeterId: m.GetMeterId(), Bands: m.GetBands(),
	}})
	if err != nil {
		s.t.Fatalf("add %s: %v", text, err)
	}
}

// packetIns follows the NBI's packet-in stream of a logical device until
// the test ends (or 30 s pass); the channel closes with the stream.
func (s *stack) packetIns(t *testing.T, ld string) <-chan *voltv1.PacketIn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	stream, err := s.nbi.ReceivePacketsIn(ctx, &voltv1.ReceivePacketsInRequest{LogicalDeviceId: ld})
	if err == nil {
		_, err = stream.Header() // the core has subscribed us
	}
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ins := make(chan *voltv1.PacketIn, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ins)
		for {
			in, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case ins <- in:
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return ins
}

func checkPacketIn(t *testing.T, in *voltv1.PacketIn, ld string, port uint32, data []byte) {
	t.Helper()
	pi := in.GetPacketIn()
	var inPort uint64
	for _, f := range pi.GetMatch().GetFields() {
		if f.GetType() == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT {
			inPort = f.GetValue()
		}
	}
	if in.GetLogicalDeviceId() != ld || inPort != uint64(port) || !bytes.Equal(pi.GetData(), data) {
		t.Errorf("packet-in on %s in_port %d data %x, want %s in_port %d data %x", in.GetLogicalDeviceId(), inPort, pi.GetData(), ld, port, data)
	}
}

// subscriberFlows are the logical flows of an ATT-like subscriber: its
// traps, and unicast both ways in two tables (write_metadata: C-tag << 48 |
// technology profile << 32 | port; downstream, the C-tag under the S-tag
// is matched as metadata).
func subscriberFlows(nni, uni uint32, sVID, cVID uint64) []string {
	return []string{
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=meter:3,push_vlan:0x8100,set_field:4091->vlan_vid,output:CONTROLLER", uni),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=untagged,udp,udp_src=68,udp_dst=67,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER", uni, cVID),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=untagged,ip,ip_proto=2,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER", uni, cVID),
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:%d->vlan_vid,write_metadata:%#x,goto_table:1", uni, cVID, cVID<<48|64<<32|uint64(nni)),
		fmt.Sprintf("table=1,priority=1000,in_port=%d,vlan_vid=%d,actions=push_vlan:0x88a8,set_field:%d->vlan_vid,output:%d", uni, cVID, sVID, nni),
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=%d,metadata=%d,actions=meter:2,pop_vlan,write_metadata:%#x,goto_table:1", nni, sVID, cVID, cVID<<48|64<<32|uint64(uni)),
		fmt.Sprintf("table=1,priority=1000,in_port=%d,vlan_vid=%d,actions=pop_vlan,output:%d", nni, cVID, uni),
	}
}

// TestSubscriberTraffic installs an ATT-like subscriber through the NBI
// and sends frames through ponsim's dataplane: the flows the core
// decomposed, as the adapters pushed them, forward the subscriber's
// traffic, trap its EAPOL to the controller and take a packet-out.
func TestSubscriberTraffic(t *testing.T) {
	s := newStack(t)
	sim, addr := s.heldSim("traffic", 1, 2)
	oltID := s.createOLT(addr)
	ld := s.waitActive(oltID, 2)

	const sVID, cVID = 1000, 101
	nni, uni := portno.NNI(0), portno.UNI(0, 1, 0)
	onuSerial := sim.ONUSerial(0, 1)
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meterMod(ld, m)
	}
	// Two subscribers on one S-tag, and the network's traps.
	flows := []string{
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x88cc,actions=output:CONTROLLER", nni),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=%d,udp,udp_src=67,udp_dst=68,actions=output:CONTROLLER", nni, sVID),
	}
	flows = append(flows, subscriberFlows(nni, uni, sVID, cVID)...)
	flows = append(flows, subscriberFlows(nni, portno.UNI(0, 2, 0), sVID, cVID+1)...)
	for _, f := range flows {
		s.flowMod(ld, f)
	}

	// Every device flow the core has reaches ponsim.
	s.inPonSim(sim, oltID)
	if ft, _ := sim.FlowTable(onuSerial); len(ft.GetFlows()) == 0 {
		t.Fatal("the subscriber's ONU has no flows")
	}

	nniPort, uniPort, otherUNI := &port{}, &port{}, &port{}
	for _, c := range []struct {
		serial string
		no     uint32
		p      *port
	}{{"", nni, nniPort}, {onuSerial, uni, uniPort}, {sim.ONUSerial(0, 2), portno.UNI(0, 2, 0), otherUNI}} {
		if err := sim.Connect(c.serial, c.no, c.p.wire); err != nil {
			t.Fatal(err)
		}
	}
	payload := make([]byte, 46)
	for i := range payload {
		payload[i] = byte(i)
	}

	t.Run("upstream gets the S-tag and the C-tag", func(t *testing.T) {
		if err := sim.Inject(onuSerial, uni, ethFrame(0x0800, payload)); err != nil {
			t.Fatal(err)
		}
		got := nniPort.take()
		want := ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			t.Errorf("NNI sent %x, want [%x]", got, want)
		}
	})

	t.Run("downstream reaches the UNI of its C-tag untagged", func(t *testing.T) {
		for _, c := range []struct {
			cVID      uint16
			to, other *port
		}{{cVID, uniPort, otherUNI}, {cVID + 1, otherUNI, uniPort}} {
			if err := sim.Inject("", nni, ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, c.cVID})); err != nil {
				t.Fatal(err)
			}
			if got, want := c.to.take(), ethFrame(0x0800, payload); len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Errorf("C-tag %d: UNI sent %x, want [%x]", c.cVID, got, want)
			}
			if got := c.other.take(); len(got) != 0 {
				t.Errorf("C-tag %d: the other UNI sent %x", c.cVID, got)
			}
		}
	})

	t.Run("EAPOL is a packet-in of the UNI", func(t *testing.T) {
		ins := s.packetIns(t, ld)
		eapol := ethFrame(0x888e, []byte{1, 0, 0, 5, 1, 1, 0, 5, 1})
		want := ethFrame(0x888e, []byte{1, 0, 0, 5, 1, 1, 0, 5, 1}, [2]uint16{0x8100, 4091})
		// The stream may not be subscribed yet when it opens: send until a
		// packet-in comes.
		var in *voltv1.PacketIn
		testkit.Eventually(t, "EAPOL packet-in", func() error {
			if err := sim.Inject(onuSerial, uni, eapol); err != nil {
				return err
			}
			select {
			case in = <-ins:
				return nil
			case <-time.After(200 * time.Millisecond):
				return fmt.Errorf("no packet-in")
			}
		})
		checkPacketIn(t, in, ld, uni, want)

		lldp := ethFrame(0x88cc, []byte{2, 7, 4, 0, 0, 0, 0, 0, 1})
		if err := sim.Inject("", nni, lldp); err != nil {
			t.Fatal(err)
		}
		for in := range ins {
			if bytes.Equal(in.GetPacketIn().GetData(), want) {
				continue // one of the EAPOL frames sent while the stream was not ready
			}
			checkPacketIn(t, in, ld, nni, lldp)
			return
		}
		t.Fatal("no LLDP packet-in")
	})

	t.Run("packet-out to the UNI", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := s.nbi.StreamPacketsOut(ctx)
		if err != nil {
			t.Fatal(err)
		}
		frame := ethFrame(0x888e, []byte{1, 0, 0, 4, 3, 1, 0, 4})
		if err := out.Send(&voltv1.PacketOut{LogicalDeviceId: ld, PacketOut: &openflowv1.PacketOut{
			BufferId: 0xffffffff, InPort: 0xfffffffd, Data: frame,
			Actions: []*openflowv1.Action{{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: uni}}}},
		}}); err != nil {
			t.Fatal(err)
		}
		if _, err := out.CloseAndRecv(); err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		testkit.Eventually(t, "packet-out at the UNI", func() error {
			got = append(got, uniPort.take()...)
			if len(got) == 0 {
				return fmt.Errorf("nothing yet")
			}
			return nil
		})
		if len(got) != 1 || !bytes.Equal(got[0], frame) {
			t.Errorf("UNI sent %x, want [%x]", got, frame)
		}
	})
}

// TestFlowsSurvivePonsimRestart: a ponsim that restarts (empty tables)
// gets the OLT's and the ONUs' tables again; a new adoption of the OLT
// empties the tables a ponsim kept.
func TestFlowsSurvivePonsimRestart(t *testing.T) {
	s := newStack(t)
	at := testpeer.ReserveAddr(t)
	sim, d, _ := s.heldSimAt("flows-restart", 1, 2, at)
	oltID := s.createOLT(at)
	ld := s.waitActive(oltID, 2)
	nni := portno.NNI(0)
	s.meterMod(ld, "meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000")
	s.meterMod(ld, "meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000")
	s.meterMod(ld, "meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100")
	for onu := uint32(1); onu <= 2; onu++ {
		for _, f := range subscriberFlows(nni, portno.UNI(0, onu, 0), 1000, 100+uint64(onu)) {
			s.flowMod(ld, f)
		}
	}
	s.inPonSim(sim, oltID)

	d.stop(t, "ponsim")
	sim, _, _ = s.heldSimAt("flows-restart", 1, 2, at)
	s.waitActive(oltID, 2)
	s.inPonSim(sim, oltID)
	if n, _ := sim.FlowCount(sim.ONUSerial(0, 2)); n == 0 {
		t.Error("the restarted ponsim has no flows for ONU 2")
	}

	// A new OLT device for the same ponsim starts from empty tables.
	if _, err := s.nbi.DeleteDevice(s.ctx(), &voltv1.ID{Id: oltID}); err != nil {
		t.Fatal(err)
	}
	oltID = s.createOLT(at)
	s.waitActive(oltID, 2)
	for _, serial := range []string{"", sim.ONUSerial(0, 1), sim.ONUSerial(0, 2)} {
		if n, _ := sim.FlowCount(serial); n != 0 {
			t.Errorf("device %q has %d flows in ponsim after a new adoption", serial, n)
		}
	}
}
