package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// NewAdapterCommand returns `volt adapter` with its `list` subcommand: the
// adapters registered with the core. The client flags sit on list itself,
// not on adapter, so that the adapter daemons (volt adapter ponsim-olt …)
// can hang off the same command with flags of their own.
func NewAdapterCommand() *cobra.Command {
	cmd := resourceCommand("adapter", "List the adapters registered with the core",
		"List the adapters registered with the core, and the device types they serve.")
	cmd.Aliases = []string{"adapters"}
	cmd.AddCommand(newAdapterListCommand())
	return cmd
}

func newAdapterListCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the adapters registered with the core",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewVoltServiceClient(cc).ListAdapters(ctx, &emptypb.Empty{})
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), out, resp.GetItems(), adapterColumns(time.Now()))
			})
		},
	}
	client.AddFlags(cmd.Flags())
	out.AddFlags(cmd.Flags())
	return cmd
}

// NewDeviceTypeCommand returns `volt devicetype` with its `list`
// subcommand: the device types the registered adapters serve.
func NewDeviceTypeCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	cmd := resourceCommand("devicetype", "List the device types the adapters serve",
		`List the device types the registered adapters serve: the names devices are
created with, the adapter behind each, how it takes flow updates and which
operations it implements.`)
	cmd.Aliases = []string{"devicetypes"}
	client.AddFlags(cmd.PersistentFlags())
	out.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the device types the adapters serve",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewVoltServiceClient(cc).ListDeviceTypes(ctx, &emptypb.Empty{})
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), out, resp.GetItems(), deviceTypeColumns())
			})
		},
	})
	return cmd
}

func adapterColumns(now time.Time) []Column[*voltv1.Adapter] {
	return []Column[*voltv1.Adapter]{
		{Header: "ID", Value: (*voltv1.Adapter).GetId},
		{Header: "VENDOR", Value: (*voltv1.Adapter).GetVendor},
		{Header: "VERSION", Value: (*voltv1.Adapter).GetVersion},
		{Header: "ENDPOINT", Value: (*voltv1.Adapter).GetEndpoint},
		{Header: "GRPC", Value: (*voltv1.Adapter).GetAdminAddress},
		{Header: "TYPES", Value: func(a *voltv1.Adapter) string { return strings.Join(a.GetDeviceTypes(), ",") }},
		{Header: "LAST-SEEN", Value: func(a *voltv1.Adapter) string { return since(a.GetLastSeen(), now) }},
	}
}

func deviceTypeColumns() []Column[*voltv1.DeviceType] {
	return []Column[*voltv1.DeviceType]{
		{Header: "ID", Value: (*voltv1.DeviceType).GetId},
		{Header: "ADAPTER", Value: (*voltv1.DeviceType).GetAdapter},
		{Header: "BULK", Value: func(t *voltv1.DeviceType) string {
			return strconv.FormatBool(t.GetAcceptsBulkFlowUpdate())
		}},
		{Header: "INCREMENTAL", Value: func(t *voltv1.DeviceType) string {
			return strconv.FormatBool(t.GetAcceptsAddRemoveFlowUpdates())
		}},
		{Header: "OPERATIONS", Value: func(t *voltv1.DeviceType) string { return strings.Join(t.GetOperations(), ",") }},
	}
}

// since shows how long ago ts was, coarsely ("3s ago", "5m ago", "2h ago"),
// or the time itself (RFC 3339, UTC) once it is a day old or in the future.
func since(ts *timestamppb.Timestamp, now time.Time) string {
	if ts == nil {
		return ""
	}
	t := ts.AsTime()
	d := now.Sub(t)
	if d < 0 && d > -time.Minute { // clocks a little apart
		d = 0
	}
	switch {
	case d < 0 || d >= 24*time.Hour:
		return t.UTC().Format(time.RFC3339)
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	}
	return fmt.Sprintf("%dh ago", int(d/time.Hour))
}
