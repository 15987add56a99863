package cli

import (
	"testing"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

func TestDeleteMod(t *testing.T) {
	tests := []struct {
		text    string
		strict  bool
		cmd     openflowv1.FlowModCommand
		table   uint32
		fields  int
		wantErr bool
	}{
		{"", false, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, ofpttAll, 0, false},
		{"in_port=16", false, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, ofpttAll, 1, false},
		{"table=1,in_port=16", false, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, 1, 1, false},
		{"table=0,priority=10000,in_port=16,eth_type=0x888e", true, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT, 0, 2, false},
		{"priority=5,in_port=16", true, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT, 0, 1, false},
		{"in_port=", false, 0, 0, 0, true},
		{"no_such_field=1", false, 0, 0, 0, true},
	}
	for _, tt := range tests {
		fm, err := deleteMod(tt.text, tt.strict)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%q: no error", tt.text)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if fm.GetCommand() != tt.cmd || fm.GetTableId() != tt.table || len(fm.GetMatch().GetFields()) != tt.fields {
			t.Errorf("%q strict=%v: command %s table %d fields %d", tt.text, tt.strict, fm.GetCommand(), fm.GetTableId(), len(fm.GetMatch().GetFields()))
		}
		if fm.GetOutPort() != ofppAny || fm.GetOutGroup() != ofpgAny {
			t.Errorf("%q: out_port/out_group filters set", tt.text)
		}
	}
}
