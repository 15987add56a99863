package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// OpenFlow port bitmaps (ofp_port_config, ofp_port_state) that the STATE
// column reads.
const (
	ofppcPortDown = 1 << 0
	ofppsLinkDown = 1 << 0
	ofppsLive     = 1 << 2
)

// NewLogicalDeviceCommand returns `volt logicaldevice` (alias ld): the
// OpenFlow switches the core builds, one per OLT, with their ports and their
// flow, group and meter tables.
func NewLogicalDeviceCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	cmd := resourceCommand("logicaldevice", "List and program logical devices (one OpenFlow switch per OLT): ports, flows, groups, meters",
		`List logical devices, the OpenFlow 1.3 switches the core builds, one per
active OLT: their ports (the OLT's NNIs and the ONUs' UNIs), and the flow,
group and meter tables the controller programs.`)
	cmd.Aliases = []string{"ld", "logicaldevices"}
	client.AddFlags(cmd.PersistentFlags())
	out.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newLogicalDeviceListCommand(&client, &out),
		newLogicalDeviceGetCommand(&client, &out),
		listByID(&client, &out, "ports", "List a logical device's ports", "a logical device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*voltv1.LogicalPort, error) {
				resp, err := c.ListLogicalDevicePorts(ctx, id)
				return resp.GetItems(), err
			}, logicalPortColumns()),
		listByID(&client, &out, "flows", "List a logical device's flows", "a logical device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*openflowv1.Flow, error) {
				resp, err := c.ListLogicalDeviceFlows(ctx, id)
				return sortFlows(resp.GetItems()), err
			}, flowColumns()),
		listByID(&client, &out, "groups", "List a logical device's groups", "a logical device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*openflowv1.Group, error) {
				resp, err := c.ListLogicalDeviceFlowGroups(ctx, id)
				return resp.GetItems(), err
			}, groupColumns()),
		listByID(&client, &out, "meters", "List a logical device's meters", "a logical device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*openflowv1.Meter, error) {
				resp, err := c.ListLogicalDeviceMeters(ctx, id)
				return resp.GetItems(), err
			}, meterColumns()),
		newLogicalPortOpCommand(&client, "enable-port", "Enable a logical port (clear OpenFlow PORT_DOWN)", "enabled",
			voltv1.VoltServiceClient.EnableLogicalDevicePort),
		newLogicalPortOpCommand(&client, "disable-port", "Disable a logical port (OpenFlow PORT_DOWN)", "disabled",
			voltv1.VoltServiceClient.DisableLogicalDevicePort),
	)
	cmd.AddCommand(flowModCommands(&client)...)
	return cmd
}

func newLogicalDeviceListCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List logical devices",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewVoltServiceClient(cc).ListLogicalDevices(ctx, &emptypb.Empty{})
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), *out, resp.GetItems(), logicalDeviceColumns())
			})
		},
	}
}

func newLogicalDeviceGetCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get LOGICAL-DEVICE-ID",
		Short: "Show one logical device",
		Args:  needArgs("a logical device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				ld, err := voltv1.NewVoltServiceClient(cc).GetLogicalDevice(ctx, &voltv1.ID{Id: args[0]})
				if err != nil {
					return err
				}
				return PrintOne(cmd.OutOrStdout(), *out, ld, logicalDeviceColumns())
			})
		},
	}
}

// logicalPortOp is EnableLogicalDevicePort or DisableLogicalDevicePort.
type logicalPortOp func(voltv1.VoltServiceClient, context.Context, *voltv1.LogicalPortID, ...grpc.CallOption) (*emptypb.Empty, error)

func newLogicalPortOpCommand(client *ClientOptions, verb, short, done string, op logicalPortOp) *cobra.Command {
	return &cobra.Command{
		Use:     verb + " LOGICAL-DEVICE-ID PORT",
		Short:   short,
		Long:    short + ". PORT is the port's number, name or id, as 'volt ld ports' lists them (16, uni-16).",
		Example: "  volt ld " + verb + " 0000aabbccddeeff uni-16\n  volt ld " + verb + " 0000aabbccddeeff 16",
		Args:    needArgs("a logical device ID", "a port"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				c := voltv1.NewVoltServiceClient(cc)
				port, err := logicalPortID(ctx, c, args[0], args[1])
				if err != nil {
					return err
				}
				if _, err := op(c, ctx, &voltv1.LogicalPortID{LogicalDeviceId: args[0], PortId: port}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "logical port %s of logical device %s %s\n", port, args[0], done)
				return nil
			})
		},
	}
}

// logicalPortID finds the id of a logical port named by its id, its name
// or its number.
func logicalPortID(ctx context.Context, c voltv1.VoltServiceClient, ld, port string) (string, error) {
	resp, err := c.ListLogicalDevicePorts(ctx, &voltv1.ID{Id: ld})
	if err != nil {
		return "", err
	}
	return matchLogicalPort(resp.GetItems(), port), nil
}

// matchLogicalPort returns the id of the port whose id, name or number is
// port (the id first, then the name, then the number), or port itself when
// none matches, for the core to refuse.
func matchLogicalPort(ports []*voltv1.LogicalPort, port string) string {
	for _, p := range ports {
		if p.GetId() == port {
			return p.GetId()
		}
	}
	for _, p := range ports {
		if strings.EqualFold(p.GetOfpPort().GetName(), port) {
			return p.GetId()
		}
	}
	if n, err := strconv.ParseUint(port, 0, 32); err == nil {
		for _, p := range ports {
			if uint64(p.GetOfpPort().GetPortNo()) == n {
				return p.GetId()
			}
		}
	}
	return port
}

func logicalDeviceColumns() []Column[*voltv1.LogicalDevice] {
	return []Column[*voltv1.LogicalDevice]{
		{Header: "ID", Value: (*voltv1.LogicalDevice).GetId},
		{Header: "DATAPATH", Value: func(ld *voltv1.LogicalDevice) string { return fmt.Sprintf("%016x", ld.GetDatapathId()) }},
		{Header: "ROOT-DEVICE", Value: (*voltv1.LogicalDevice).GetRootDeviceId},
	}
}

func logicalPortColumns() []Column[*voltv1.LogicalPort] {
	return []Column[*voltv1.LogicalPort]{
		{Header: "PORT-NO", Value: func(p *voltv1.LogicalPort) string {
			return strconv.FormatUint(uint64(p.GetOfpPort().GetPortNo()), 10)
		}},
		{Header: "NAME", Value: portName},
		{Header: "DEVICE", Value: (*voltv1.LogicalPort).GetDeviceId},
		{Header: "DEVICE-PORT", Value: func(p *voltv1.LogicalPort) string {
			return strconv.FormatUint(uint64(p.GetDevicePortNo()), 10)
		}},
		{Header: "ROOT", Value: func(p *voltv1.LogicalPort) string { return strconv.FormatBool(p.GetRootPort()) }},
		{Header: "STATE", Value: func(p *voltv1.LogicalPort) string { return portState(p.GetOfpPort()) }},
		{Header: "MAC", Value: func(p *voltv1.LogicalPort) string { return macText(p.GetOfpPort().GetHwAddr()) }},
		{Header: "RX-PKTS", Value: func(p *voltv1.LogicalPort) string { return count(p.GetStats().GetRxPackets()) }},
		{Header: "RX-BYTES", Value: func(p *voltv1.LogicalPort) string { return count(p.GetStats().GetRxBytes()) }},
		{Header: "TX-PKTS", Value: func(p *voltv1.LogicalPort) string { return count(p.GetStats().GetTxPackets()) }},
		{Header: "TX-BYTES", Value: func(p *voltv1.LogicalPort) string { return count(p.GetStats().GetTxBytes()) }},
		{Header: "DROPS", Value: func(p *voltv1.LogicalPort) string {
			return count(p.GetStats().GetRxDropped() + p.GetStats().GetTxDropped())
		}},
	}
}

// portName is the OpenFlow port name, followed by the port's id in
// parentheses where the two differ (the id is what the NBI takes; the CLI
// takes either).
func portName(p *voltv1.LogicalPort) string {
	name := p.GetOfpPort().GetName()
	if p.GetId() != "" && p.GetId() != name {
		return name + " (" + p.GetId() + ")"
	}
	return name
}

// portState reads an ofp_port: ADMIN-DOWN when the controller or operator
// set PORT_DOWN, LIVE, DOWN when the link is down, and UP for a link that is
// up but not marked live.
func portState(p *openflowv1.Port) string {
	switch {
	case p.GetConfig()&ofppcPortDown != 0:
		return "ADMIN-DOWN"
	case p.GetState()&ofppsLive != 0:
		return "LIVE"
	case p.GetState()&ofppsLinkDown != 0:
		return "DOWN"
	}
	return "UP"
}
