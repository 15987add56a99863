package cli_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// The table commands take ports by number or name, send what the text
// says, and confirm on stderr in one form; bad text is one line naming
// what is wrong, and nothing is sent.
func TestTableCommands(t *testing.T) {
	tests := []struct {
		args   []string
		sent   string // the flow, group or meter as sent, in flowtext
		stderr string
		err    string
	}{
		{[]string{"add-flow", ldID, "table=0,priority=11,in_port=uni-4112,actions=output:nni-1"},
			"table=0, priority=11, cookie=0x0, in_port=4112, actions=output:1", "flow added to logical device " + ldID + "\n", ""},
		{[]string{"add-flow", ldID, "table=0,priority=11,in_port=4112,actions=output:1"},
			"table=0, priority=11, cookie=0x0, in_port=4112, actions=output:1", "flow added to logical device " + ldID + "\n", ""},
		{[]string{"del-flow", ldID, "in_port=uni-4112"}, "in_port=4112", "flows deleted from logical device " + ldID + "\n", ""},
		{[]string{"add-meter", ldID, "meter=2,kbps,burst,band=type=drop,rate=100000,burst_size=1000"},
			"meter=2,kbps,burst,band=type=drop,rate=100000,burst_size=1000", "meter 2 added to logical device " + ldID + "\n", ""},
		{[]string{"del-meter", ldID, "meter=1"}, "meter=1", "meter 1 deleted from logical device " + ldID + "\n", ""},
		{[]string{"add-group", ldID, "group_id=7,type=all,bucket=actions=output:uni-4112"},
			"group_id=7,type=all,bucket=actions=output:4112", "group 7 added to logical device " + ldID + "\n", ""},
		{[]string{"mod-group", ldID, "group_id=7,type=all,bucket=actions=output:1"},
			"group_id=7,type=all,bucket=actions=output:1", "group 7 modified in logical device " + ldID + "\n", ""},
		{[]string{"add-flow", ldID, "priority=1,in_port=eth0,actions=drop"}, "", "",
			`flow: in_port=eth0: unknown port "eth0": want a number, a port name (nni-1, uni-16) or a reserved port (CONTROLLER, LOCAL, IN_PORT, ANY …)`},
		{[]string{"add-flow", ldID, "priority=1,in_port=uni-1,actions=drop"}, "", "", `flow: in_port=uni-1: unknown port "uni-1"`},
		{[]string{"add-flow", "nope", "priority=1,actions=drop"}, "", "", `NotFound: logical device "nope" not found`},
	}
	for _, tt := range tests {
		nbi := newFakeNBI()
		addr := serveNBI(t, nbi)
		_, errOut, err := run(t, cli.NewLogicalDeviceCommand(), append(tt.args, "--server", addr)...)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v: error %v, want one line starting %q", tt.args, err, tt.err)
			}
			if errOut != "" {
				t.Errorf("%v: stderr %q on error", tt.args, errOut)
			}
			continue
		}
		if err != nil || errOut != tt.stderr {
			t.Errorf("%v: %v, stderr %q, want %q", tt.args, err, errOut, tt.stderr)
			continue
		}
		nbi.Lock()
		var mods []proto.Message
		for _, m := range nbi.FlowMods {
			mods = append(mods, m)
		}
		for _, m := range nbi.GroupMods {
			mods = append(mods, m)
		}
		for _, m := range nbi.MeterMods {
			mods = append(mods, m)
		}
		nbi.Unlock()
		if len(mods) != 1 {
			t.Errorf("%v: %d table updates sent, want 1", tt.args, len(mods))
			continue
		}
		var got string
		switch m := mods[0].(type) {
		case *voltv1.FlowTableUpdate:
			fm := m.GetFlowMod()
			if strings.HasPrefix(tt.args[0], "del") {
				got = flowtext.FormatMatch(fm.GetMatch())
			} else {
				got = flowtext.FormatFlow(&openflowv1.Flow{TableId: fm.GetTableId(), Priority: fm.GetPriority(), Match: fm.GetMatch(), Instructions: fm.GetInstructions()})
			}
		case *voltv1.FlowGroupTableUpdate:
			gm := m.GetGroupMod()
			got = flowtext.FormatGroup(&openflowv1.GroupDesc{Type: gm.GetType(), GroupId: gm.GetGroupId(), Buckets: gm.GetBuckets()})
		case *voltv1.MeterModUpdate:
			mm := m.GetMeterMod()
			got = flowtext.FormatMeter(&openflowv1.MeterConfig{Flags: mm.GetFlags(), MeterId: mm.GetMeterId(), Bands: mm.GetBands()})
		}
		if got != tt.sent {
			t.Errorf("%v: sent %q, want %q", tt.args, got, tt.sent)
		}
	}
}
