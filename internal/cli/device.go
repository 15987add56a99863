package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// NewDeviceCommand returns `volt device`: list, create and operate devices
// (OLTs and ONUs), and show their ports, flows, groups and meters, through
// the core's NBI.
func NewDeviceCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	cmd := resourceCommand("device", "List, create and operate devices (OLTs and ONUs)",
		`List, create and operate devices: OLTs (root devices) and the ONUs the
OLT adapters discover behind them. Flows, groups and meters are the
per-device tables the core derived from the logical device's.`)
	cmd.Aliases = []string{"devices"}
	client.AddFlags(cmd.PersistentFlags())
	out.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newDeviceListCommand(&client, &out),
		newDeviceGetCommand(&client, &out),
		newDeviceCreateCommand(&client, &out),
		newDeviceOpCommand(&client, "enable", "Enable a device (adopt it on first enable)", "enabled",
			voltv1.VoltServiceClient.EnableDevice),
		newDeviceOpCommand(&client, "disable", "Disable a device and its children", "disabled",
			voltv1.VoltServiceClient.DisableDevice),
		newDeviceOpCommand(&client, "reboot", "Reboot a device", "rebooting",
			voltv1.VoltServiceClient.RebootDevice),
		newDeviceOpCommand(&client, "delete", "Delete a device and its children", "deleted",
			voltv1.VoltServiceClient.DeleteDevice),
		listByID(&client, &out, "ports", "List a device's ports", "a device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*voltv1.Port, error) {
				resp, err := c.ListDevicePorts(ctx, id)
				return resp.GetItems(), err
			}, portColumns()),
		listByID(&client, &out, "flows", "List a device's flows", "a device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*openflowv1.Flow, error) {
				resp, err := c.ListDeviceFlows(ctx, id)
				return sortFlows(resp.GetItems()), err
			}, flowColumns()),
		listByID(&client, &out, "groups", "List a device's groups", "a device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*openflowv1.Group, error) {
				resp, err := c.ListDeviceFlowGroups(ctx, id)
				return resp.GetItems(), err
			}, groupColumns()),
		listByID(&client, &out, "meters", "List a device's meters", "a device ID",
			func(ctx context.Context, c voltv1.VoltServiceClient, id *voltv1.ID) ([]*openflowv1.Meter, error) {
				resp, err := c.ListDeviceMeters(ctx, id)
				return resp.GetItems(), err
			}, meterColumns()),
		newDeviceMibCommand(&client, &out),
		newDeviceOmciCommand(&client, &out),
		newDevicePmCommand(&client, &out),
	)
	return cmd
}

func newDeviceListCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	var req voltv1.ListDevicesRequest
	cmd := &cobra.Command{
		Use:   "list [--type TYPE] [--parent ID]",
		Short: "List devices",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewVoltServiceClient(cc).ListDevices(ctx, &req)
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), *out, resp.GetItems(), deviceColumns())
			})
		},
	}
	cmd.Flags().StringVar(&req.Type, "type", "", "only devices of this type (ponsim_olt, …)")
	cmd.Flags().StringVar(&req.ParentId, "parent", "", "only the children of this device")
	return cmd
}

func newDeviceGetCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get DEVICE-ID",
		Short: "Show one device",
		Args:  needArgs("a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				dev, err := voltv1.NewVoltServiceClient(cc).GetDevice(ctx, &voltv1.ID{Id: args[0]})
				if err != nil {
					return err
				}
				return PrintOne(cmd.OutOrStdout(), *out, dev, deviceColumns())
			})
		},
	}
}

func newDeviceCreateCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	var typ, address, mac, id string
	cmd := &cobra.Command{
		Use:   "create --type TYPE (--address HOST:PORT | --mac MAC) [--id ID]",
		Short: "Pre-provision a root device (an OLT); prints its id",
		Long: `Pre-provision a root device (an OLT) and print its id alone, so that
id=$(volt device create …) works; with -o json, yaml or --format it prints the
device instead. The device stays PREPROVISIONED until enabled.`,
		Example: `  id=$(volt device create --type ponsim_olt --address 127.0.0.1:50060)
  volt device enable "$id"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dev, err := newDevice(typ, address, mac, id)
			if err != nil {
				return err
			}
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				created, err := voltv1.NewVoltServiceClient(cc).CreateDevice(ctx, dev)
				if err != nil {
					return err
				}
				if out.output() == OutputTable && out.Format == "" {
					_, err = fmt.Fprintln(cmd.OutOrStdout(), created.GetId())
					return err
				}
				return PrintOne(cmd.OutOrStdout(), *out, created, deviceColumns())
			})
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "device type (see volt devicetype list), e.g. ponsim_olt")
	cmd.Flags().StringVar(&address, "address", "", "HOST:PORT the adapter reaches the device at")
	cmd.Flags().StringVar(&mac, "mac", "", "MAC address of the device (aa:bb:cc:dd:ee:ff)")
	cmd.Flags().StringVar(&id, "id", "", "device id (default: the core picks one)")
	return cmd
}

// newDevice checks the create flags before any call is made.
func newDevice(typ, address, mac, id string) (*voltv1.Device, error) {
	if typ == "" {
		return nil, errors.New("device create needs --type (see volt devicetype list)")
	}
	dev := &voltv1.Device{Id: id, Type: typ, Root: true}
	switch {
	case address != "" && mac != "":
		return nil, errors.New("device create takes --address or --mac, not both")
	case address != "":
		if _, port, err := net.SplitHostPort(address); err != nil || port == "" {
			return nil, fmt.Errorf("invalid --address %q: want HOST:PORT", address)
		}
		dev.HostAndPort = address
	case mac != "":
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 {
			return nil, fmt.Errorf("invalid --mac %q: want six hex octets, aa:bb:cc:dd:ee:ff", mac)
		}
		dev.MacAddress = hw.String()
	default:
		return nil, errors.New("device create needs --address HOST:PORT or --mac MAC")
	}
	return dev, nil
}

// deviceOp is one of the VoltService calls that take a device id and
// return nothing.
type deviceOp func(voltv1.VoltServiceClient, context.Context, *voltv1.ID, ...grpc.CallOption) (*emptypb.Empty, error)

// newDeviceOpCommand builds enable, disable, reboot and delete: nothing on
// stdout, a short confirmation on stderr.
func newDeviceOpCommand(client *ClientOptions, verb, short, done string, op deviceOp) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " DEVICE-ID",
		Short: short,
		Args:  needArgs("a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				if _, err := op(voltv1.NewVoltServiceClient(cc), ctx, &voltv1.ID{Id: args[0]}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "device %s %s\n", args[0], done)
				return nil
			})
		},
	}
}

// listByID builds a subcommand `NAME ID` that fetches a list about one
// object (a device's ports, a logical device's flows …) and prints it.
func listByID[T any](client *ClientOptions, out *OutputOptions, name, short, what string,
	fetch func(context.Context, voltv1.VoltServiceClient, *voltv1.ID) ([]T, error), columns []Column[T],
) *cobra.Command {
	return &cobra.Command{
		Use:   name + " " + argName(what),
		Short: short,
		Args:  needArgs(what),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				items, err := fetch(ctx, voltv1.NewVoltServiceClient(cc), &voltv1.ID{Id: args[0]})
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), *out, items, columns)
			})
		},
	}
}

// argName is how usage lines show an argument: "a logical device ID" is
// LOGICAL-DEVICE-ID.
func argName(what string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(what, "a "), " ", "-"))
}

// sortFlows orders flows as a reader looks for them: by table, then by
// priority from high to low (the order a packet meets them), then by
// cookie.
func sortFlows(flows []*openflowv1.Flow) []*openflowv1.Flow {
	sort.SliceStable(flows, func(i, j int) bool {
		a, b := flows[i], flows[j]
		if a.GetTableId() != b.GetTableId() {
			return a.GetTableId() < b.GetTableId()
		}
		if a.GetPriority() != b.GetPriority() {
			return a.GetPriority() > b.GetPriority()
		}
		return a.GetCookie() < b.GetCookie()
	})
	return flows
}

// resourceCommand is the parent of a resource's subcommands. It is runnable
// only so that a mistyped subcommand is an error rather than help, and its
// errors are one line from main, not a usage dump.
func resourceCommand(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:           use,
		Short:         short,
		Long:          long,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
	}
}

// needArgs accepts exactly one argument per name and otherwise says what is
// missing in words: "device get needs a device ID", "logicaldevice
// enable-port needs a logical device ID and a port ID".
func needArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		path := cmd.Name()
		if p := cmd.Parent(); p != nil {
			path = p.Name() + " " + path
		}
		if len(args) < len(names) {
			return fmt.Errorf("%s needs %s", path, strings.Join(names[len(args):], " and "))
		}
		return fmt.Errorf("%s takes %s, got %d arguments: %s", path, strings.Join(names, " and "),
			len(args), strings.Join(args, " "))
	}
}

func deviceColumns() []Column[*voltv1.Device] {
	return []Column[*voltv1.Device]{
		{Header: "ID", Value: (*voltv1.Device).GetId},
		{Header: "TYPE", Value: (*voltv1.Device).GetType},
		{Header: "ROOT", Value: func(d *voltv1.Device) string { return strconv.FormatBool(d.GetRoot()) }},
		{Header: "PARENT", Value: (*voltv1.Device).GetParentId},
		{Header: "ADMIN", Value: func(d *voltv1.Device) string { return enumName(d.GetAdminState()) }},
		{Header: "OPER", Value: func(d *voltv1.Device) string { return enumName(d.GetOperStatus()) }},
		{Header: "CONNECT", Value: func(d *voltv1.Device) string { return enumName(d.GetConnectStatus()) }},
		{Header: "SERIAL", Value: (*voltv1.Device).GetSerialNumber},
		{Header: "ADDRESS", Value: deviceAddress},
		{Header: "REASON", Value: (*voltv1.Device).GetReason},
	}
}

// deviceAddress is how the adapter reaches the device: host:port, a MAC, or
// for an ONU its place behind the OLT.
func deviceAddress(d *voltv1.Device) string {
	switch {
	case d.GetHostAndPort() != "":
		return d.GetHostAndPort()
	case d.GetMacAddress() != "":
		return d.GetMacAddress()
	case d.GetProxyAddress() != nil:
		pa := d.GetProxyAddress()
		return fmt.Sprintf("pon %d onu %d", pa.GetChannelId(), pa.GetOnuId())
	}
	return ""
}

func portColumns() []Column[*voltv1.Port] {
	return []Column[*voltv1.Port]{
		{Header: "PORT", Value: func(p *voltv1.Port) string { return strconv.FormatUint(uint64(p.GetPortNo()), 10) }},
		{Header: "LABEL", Value: (*voltv1.Port).GetLabel},
		{Header: "TYPE", Value: func(p *voltv1.Port) string { return enumName(p.GetType()) }},
		{Header: "ADMIN", Value: func(p *voltv1.Port) string { return enumName(p.GetAdminState()) }},
		{Header: "OPER", Value: func(p *voltv1.Port) string { return enumName(p.GetOperStatus()) }},
		{Header: "PEERS", Value: func(p *voltv1.Port) string {
			peers := make([]string, len(p.GetPeers()))
			for i, peer := range p.GetPeers() {
				peers[i] = fmt.Sprintf("%s:%d", peer.GetDeviceId(), peer.GetPortNo())
			}
			return strings.Join(peers, ",")
		}},
		{Header: "RX-PKTS", Value: func(p *voltv1.Port) string { return count(p.GetRxPackets()) }},
		{Header: "RX-BYTES", Value: func(p *voltv1.Port) string { return count(p.GetRxBytes()) }},
		{Header: "TX-PKTS", Value: func(p *voltv1.Port) string { return count(p.GetTxPackets()) }},
		{Header: "TX-BYTES", Value: func(p *voltv1.Port) string { return count(p.GetTxBytes()) }},
		{Header: "ERRORS", Value: func(p *voltv1.Port) string { return count(p.GetRxErrors() + p.GetTxErrors()) }},
	}
}

func count(n uint64) string { return strconv.FormatUint(n, 10) }

// flowColumns shows each flow's counters and age, then the flow as one
// ovs-ofctl-like line (flowtext.go). A flow without an install time (a
// device flow) has no age: "-".
func flowColumns() []Column[*openflowv1.Flow] {
	return []Column[*openflowv1.Flow]{
		{Header: "PACKETS", Value: func(f *openflowv1.Flow) string { return count(f.GetPacketCount()) }},
		{Header: "BYTES", Value: func(f *openflowv1.Flow) string { return count(f.GetByteCount()) }},
		{Header: "AGE", Value: flowAge},
		{Header: "FLOW", Value: flowText},
	}
}

// flowAge is a flow's duration, to the second.
func flowAge(f *openflowv1.Flow) string {
	if f.GetInstallTimeUnixNano() == 0 {
		return "-"
	}
	return (time.Duration(f.GetDurationSec()) * time.Second).String()
}

func groupColumns() []Column[*openflowv1.Group] {
	return []Column[*openflowv1.Group]{
		{Header: "GROUP", Value: func(g *openflowv1.Group) string {
			return strconv.FormatUint(uint64(g.GetDesc().GetGroupId()), 10)
		}},
		{Header: "TYPE", Value: func(g *openflowv1.Group) string { return enumName(g.GetDesc().GetType()) }},
		{Header: "BUCKETS", Value: func(g *openflowv1.Group) string { return bucketsText(g.GetDesc().GetBuckets()) }},
	}
}

func meterColumns() []Column[*openflowv1.Meter] {
	return []Column[*openflowv1.Meter]{
		{Header: "METER", Value: func(m *openflowv1.Meter) string {
			return strconv.FormatUint(uint64(m.GetConfig().GetMeterId()), 10)
		}},
		{Header: "FLAGS", Value: func(m *openflowv1.Meter) string { return meterFlagsText(m.GetConfig().GetFlags()) }},
		{Header: "BANDS", Value: func(m *openflowv1.Meter) string { return bandsText(m.GetConfig().GetBands()) }},
		{Header: "FLOWS", Value: func(m *openflowv1.Meter) string {
			return strconv.FormatUint(uint64(m.GetStats().GetFlowCount()), 10)
		}},
		{Header: "PACKETS", Value: func(m *openflowv1.Meter) string { return count(m.GetStats().GetPacketInCount()) }},
		{Header: "BYTES", Value: func(m *openflowv1.Meter) string { return count(m.GetStats().GetByteInCount()) }},
	}
}

// enumName shows an enum value without its type's prefix:
// ADMIN_STATE_ENABLED is ENABLED, any *_UNSPECIFIED is UNKNOWN, and a number
// this build does not know is that number.
func enumName(e protoreflect.Enum) string {
	values := e.Descriptor().Values()
	v := values.ByNumber(e.Number())
	switch {
	case v == nil:
		return strconv.Itoa(int(e.Number()))
	case e.Number() == 0:
		return "UNKNOWN"
	}
	prefix := ""
	if zero := values.ByNumber(0); zero != nil {
		prefix = strings.TrimSuffix(string(zero.Name()), "UNSPECIFIED")
	}
	return strings.TrimPrefix(string(v.Name()), prefix)
}
