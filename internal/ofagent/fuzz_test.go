package ofagent

import (
	"testing"

	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// FuzzConn sends arbitrary messages (framed with a correct length) to a
// live connection: none may crash the agent or end the connection, which
// must still answer an echo afterwards.
//
//	go test -run '^$' -fuzz FuzzConn -fuzztime 60s ./internal/ofagent/
func FuzzConn(f *testing.F) {
	for _, m := range []ofp13.Message{
		&ofp13.FeaturesRequest{}, &ofp13.BarrierRequest{}, &ofp13.DescRequest{}, &ofp13.PortDescRequest{},
		flowMod(ofp13.FlowAdd, 1, 16, 1), flowMod(ofp13.FlowDelete, 1, 16, 1),
		&ofp13.GroupMod{Command: ofp13.GroupAdd, Type: ofp13.GroupTypeAll, GroupID: 1},
		&ofp13.MeterMod{Command: ofp13.MeterAdd, MeterID: 1, Bands: []ofp13.MeterBand{{Type: ofp13.MeterBandDrop, Rate: 1}}},
		&ofp13.PacketOut{BufferID: ofp13.NoBuffer, InPort: ofp13.PortController, Actions: []ofp13.Action{&ofp13.ActionOutput{Port: 16}}},
		&ofp13.RoleRequest{Role: ofp13.RoleEqual}, &ofp13.SetAsync{}, &ofp13.TableFeaturesRequest{},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{4, 99, 0, 8, 0, 0, 0, 1})
	// One agent and connection for the whole run.
	fk := newFakeNBI()
	ld, ports := nbitest.LogicalDevice("ld1", testDPID)
	fk.AddLogical(ld, ports)
	ag := startAgent(f, Config{Server: fk.Serve(f), Listen: "127.0.0.1:0"})
	c := dialOF(f, ag.listen)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > ofp13.MaxMessageLen {
			data = data[:ofp13.MaxMessageLen]
		}
		msg := make([]byte, max(len(data), ofp13.HeaderLen))
		copy(msg, data)
		msg[2], msg[3] = byte(len(msg)>>8), byte(len(msg))
		c.t = t
		c.sendRaw(msg)
		c.alive()
		c.pending = nil
	})
}
