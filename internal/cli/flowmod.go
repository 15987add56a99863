package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// OpenFlow numbers the table commands use.
const (
	ofpttAll          = 0xff
	ofppAny           = 0xffffffff
	ofpgAny           = 0xffffffff
	ofpffCheckOverlap = 1 << 1
)

// flowModCommands are the ovs-ofctl-like table commands of `volt ld`.
func flowModCommands(client *ClientOptions) []*cobra.Command {
	return []*cobra.Command{
		newAddFlowCommand(client),
		newDelFlowCommand(client),
		newGroupModCommand(client, "add-group", openflowv1.GroupModCommand_GROUP_MOD_COMMAND_ADD),
		newGroupModCommand(client, "mod-group", openflowv1.GroupModCommand_GROUP_MOD_COMMAND_MODIFY),
		newGroupModCommand(client, "del-group", openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE),
		newMeterModCommand(client, "add-meter", openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD),
		newMeterModCommand(client, "mod-meter", openflowv1.MeterModCommand_METER_MOD_COMMAND_MODIFY),
		newMeterModCommand(client, "del-meter", openflowv1.MeterModCommand_METER_MOD_COMMAND_DELETE),
	}
}

func newAddFlowCommand(client *ClientOptions) *cobra.Command {
	var checkOverlap bool
	cmd := &cobra.Command{
		Use:   "add-flow LOGICAL-DEVICE-ID FLOW",
		Short: "Add a flow (ovs-ofctl syntax) to a logical device",
		Long: `Add a flow to a logical device, in ovs-ofctl add-flow syntax. Ports are
named by number or by name (16 or uni-16, 1 or nni-1), as 'volt ld ports'
lists them. The core decomposes the flow into OLT and ONU flows; a flow it
cannot decompose is refused and changes nothing.`,
		Example: `  volt ld add-flow LDID 'table=0,priority=10000,in_port=uni-16,eth_type=0x888e,actions=output:CONTROLLER'
  volt ld add-meter LDID 'meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000'
  volt ld add-flow LDID 'table=0,priority=1000,in_port=uni-16,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:101->vlan_vid,output:nni-1'`,
		Args: needArgs("a logical device ID", "a flow"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := flowtext.ParseFlow(args[1])
			if err != nil {
				return fmt.Errorf("flow: %w", err)
			}
			fm := &openflowv1.FlowMod{
				Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: f.GetTableId(), Priority: f.GetPriority(),
				Cookie: f.GetCookie(), IdleTimeout: f.GetIdleTimeout(), HardTimeout: f.GetHardTimeout(), Flags: f.GetFlags(),
				BufferId: 0xffffffff, OutPort: ofppAny, OutGroup: ofpgAny, Match: f.GetMatch(), Instructions: f.GetInstructions(),
			}
			if checkOverlap {
				fm.Flags |= ofpffCheckOverlap
			}
			return sendFlowMod(cmd, client, args[0], fm, "flow added to logical device "+args[0])
		},
	}
	cmd.Flags().BoolVar(&checkOverlap, "check-overlap", false, "refuse the flow if it overlaps one of the same priority")
	return cmd
}

func newDelFlowCommand(client *ClientOptions) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "del-flow LOGICAL-DEVICE-ID [MATCH]",
		Short: "Delete the flows of a logical device that a match covers (all without one)",
		Long: `Delete the flows whose match is covered by MATCH (ovs-ofctl syntax, without
actions), in every table unless MATCH names one. With --strict, delete only the
flow with exactly this match and priority.`,
		Example: `  volt ld del-flow LDID 'in_port=16'
  volt ld del-flow LDID --strict 'table=0,priority=10000,in_port=16,eth_type=0x888e'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("%s needs a logical device ID and at most one match", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			text := ""
			if len(args) == 2 {
				text = args[1]
			}
			fm, err := deleteMod(text, strict)
			if err != nil {
				return err
			}
			return sendFlowMod(cmd, client, args[0], fm, "flows deleted from logical device "+args[0])
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "delete only the flow with exactly this match and priority")
	return cmd
}

// deleteMod builds a delete flow-mod from match text.
func deleteMod(text string, strict bool) (*openflowv1.FlowMod, error) {
	parse := text
	if !strings.Contains(parse, "actions=") {
		if parse != "" {
			parse += ","
		}
		parse += "actions=drop"
	}
	f, err := flowtext.ParseFlow(parse)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	fm := &openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, TableId: ofpttAll, Priority: f.GetPriority(),
		Cookie: f.GetCookie(), OutPort: ofppAny, OutGroup: ofpgAny, Match: f.GetMatch(),
	}
	if strings.Contains(text, "table=") {
		fm.TableId = f.GetTableId()
	}
	if strict {
		fm.Command = openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT
		if fm.TableId == ofpttAll {
			fm.TableId = f.GetTableId()
		}
	}
	return fm, nil
}

func sendFlowMod(cmd *cobra.Command, client *ClientOptions, ld string, fm *openflowv1.FlowMod, done string) error {
	return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
		_, err := voltv1.NewVoltServiceClient(cc).UpdateLogicalDeviceFlowTable(ctx, &voltv1.FlowTableUpdate{Id: ld, FlowMod: fm})
		if err == nil {
			fmt.Fprintln(cmd.ErrOrStderr(), done)
		}
		return err
	})
}

// modVerbs are the words of the add-, mod- and del- commands: the help's
// verb and the confirmation's participle.
var modVerbs = map[string][2]string{"add": {"Add", "added to"}, "mod": {"Modify", "modified in"}, "del": {"Delete", "deleted from"}}

func newGroupModCommand(client *ClientOptions, verb string, command openflowv1.GroupModCommand) *cobra.Command {
	words := modVerbs[strings.SplitN(verb, "-", 2)[0]]
	return &cobra.Command{
		Use:     verb + " LOGICAL-DEVICE-ID GROUP",
		Short:   words[0] + " a group (ovs-ofctl syntax) of a logical device",
		Example: "  volt ld " + verb + " LDID 'group_id=1,type=all,bucket=actions=output:16,bucket=actions=output:32'",
		Args:    needArgs("a logical device ID", "a group"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := flowtext.ParseGroup(args[1])
			if err != nil {
				return fmt.Errorf("group: %w", err)
			}
			gm := &openflowv1.GroupMod{Command: command, Type: g.GetType(), GroupId: g.GetGroupId(), Buckets: g.GetBuckets()}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				_, err := voltv1.NewVoltServiceClient(cc).UpdateLogicalDeviceFlowGroupTable(ctx, &voltv1.FlowGroupTableUpdate{Id: args[0], GroupMod: gm})
				if err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "group %d %s logical device %s\n", gm.GetGroupId(), words[1], args[0])
				}
				return err
			})
		},
	}
}

func newMeterModCommand(client *ClientOptions, verb string, command openflowv1.MeterModCommand) *cobra.Command {
	words := modVerbs[strings.SplitN(verb, "-", 2)[0]]
	return &cobra.Command{
		Use:     verb + " LOGICAL-DEVICE-ID METER",
		Short:   words[0] + " a meter (ovs-ofctl syntax) of a logical device",
		Example: "  volt ld " + verb + " LDID 'meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000'",
		Args:    needArgs("a logical device ID", "a meter"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := flowtext.ParseMeter(args[1])
			if err != nil {
				return fmt.Errorf("meter: %w", err)
			}
			mm := &openflowv1.MeterMod{Command: command, Flags: m.GetFlags(), MeterId: m.GetMeterId(), Bands: m.GetBands()}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				_, err := voltv1.NewVoltServiceClient(cc).UpdateLogicalDeviceMeterTable(ctx, &voltv1.MeterModUpdate{Id: args[0], MeterMod: mm})
				if err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "meter %d %s logical device %s\n", mm.GetMeterId(), words[1], args[0])
				}
				return err
			})
		},
	}
}
