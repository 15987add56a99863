package openolt_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testkit"
)

// wire keeps what a simulator port sends.
type wire struct {
	mu     sync.Mutex // guards frames
	frames [][]byte
}

func (w *wire) fn(b []byte) {
	w.mu.Lock()
	w.frames = append(w.frames, append([]byte(nil), b...))
	w.mu.Unlock()
}

func (w *wire) has(want []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.frames {
		if bytes.HasPrefix(f, want) {
			return nil
		}
	}
	return fmt.Errorf("%d frames, none is % x", len(w.frames), want)
}

// eapol is an EAPOL-Start frame (padded by the simulator as needed).
func eapol() []byte {
	f := []byte{0x01, 0x80, 0xc2, 0, 0, 0x03, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0x8e, 0x01, 0x01, 0, 0}
	return append(f, make([]byte, 42)...)
}

func lldp() []byte {
	f := []byte{0x01, 0x80, 0xc2, 0, 0, 0x0e, 0x02, 0, 0, 0, 0, 0x02, 0x88, 0xcc, 0x02, 0x07, 0x04}
	return append(f, make([]byte, 43)...)
}

func TestPacketInAndOut(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("packets", 1, 1)
	p.start()
	id := s.create(p.addr)
	s.waitActive(id, 1, 1)
	var ld string
	testkit.Eventually(t, "logical device", func() error {
		if ld = s.device(id).GetLogicalDeviceId(); ld == "" {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	dev := s.device(id)
	var nni, uni wire
	onu := p.sim.ONUs()[0]
	if err := p.sim.Connect("", portno.NNI(0), nni.fn); err != nil {
		t.Fatal(err)
	}
	if err := p.sim.Connect(onu.Serial, onu.UNI, uni.fn); err != nil {
		t.Fatal(err)
	}

	// Packet-out: EAPOL to the UNI (OnuPacketOut), LLDP to the NNI
	// (UplinkPacketOut).
	uniPort := portno.UNI(0, s.children(id)[0].GetProxyAddress().GetOnuId(), 0)
	for _, out := range []struct {
		port  uint32
		frame []byte
		w     *wire
	}{{uniPort, eapol(), &uni}, {portno.NNI(0), lldp(), &nni}} {
		_, err := s.direct.SendPacketOut(s.ctx(), &adapterv1.PacketOutRequest{Device: dev, EgressPortNo: out.port,
			Packet: &openflowv1.PacketOut{Data: out.frame}})
		if err != nil {
			t.Fatalf("packet-out to %d: %v", out.port, err)
		}
		testkit.Eventually(t, fmt.Sprintf("frame out of port %d", out.port), func() error { return out.w.has(out.frame) })
	}

	// Packet-in: an LLDP trap on the NNI, then a frame from the network.
	trap := attFlows(t, uniPort)[2]
	if _, err := s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToAdd: []*openflowv1.Flow{trap}}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := s.nbi.ReceivePacketsIn(ctx, &voltv1.ReceivePacketsInRequest{LogicalDeviceId: ld})
	if err == nil {
		_, err = stream.Header()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := p.sim.Inject("", portno.NNI(0), lldp()); err != nil {
		t.Fatal(err)
	}
	in, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var inPort uint64
	for _, f := range in.GetPacketIn().GetMatch().GetFields() {
		if f.GetType() == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT {
			inPort = f.GetValue()
		}
	}
	if inPort != uint64(portno.NNI(0)) || !bytes.HasPrefix(in.GetPacketIn().GetData(), lldp()[:17]) {
		t.Errorf("packet-in on port %d: % x", inPort, in.GetPacketIn().GetData())
	}
}
