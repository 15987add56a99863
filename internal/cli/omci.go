package cli

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// newDeviceMibCommand is `volt device mib ID`: the MIB an OMCI ONU's
// adapter learned. The table lists the entities under a line with the
// ONU's identity; -o json|yaml shows the whole record.
func newDeviceMibCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "mib ID",
		Short: "Show the MIB of an OMCI ONU (class, instance, attributes)",
		Args:  needArgs("an ONU device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				mib, err := voltv1.NewVoltServiceClient(cc).GetDeviceMib(ctx, &voltv1.ID{Id: args[0]})
				if err != nil {
					return err
				}
				if out.output() != OutputTable || out.Format != "" {
					return PrintOne(cmd.OutOrStdout(), *out, mib, nil)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "vendor %s  version %s  equipment %s  mib-data-sync %d  entities %d\n",
					mib.GetVendor(), mib.GetVersion(), mib.GetEquipmentId(), mib.GetMibDataSync(), len(mib.GetEntities()))
				return Print(cmd.OutOrStdout(), *out, mib.GetEntities(), mibColumns())
			})
		},
	}
}

func mibColumns() []Column[*voltv1.MibEntity] {
	return []Column[*voltv1.MibEntity]{
		{Header: "CLASS", Value: func(e *voltv1.MibEntity) string { return strconv.FormatUint(uint64(e.GetClassId()), 10) }},
		{Header: "NAME", Value: (*voltv1.MibEntity).GetClassName},
		{Header: "INSTANCE", Value: func(e *voltv1.MibEntity) string { return fmt.Sprintf("%#04x", e.GetInstance()) }},
		{Header: "ATTRIBUTES", Value: func(e *voltv1.MibEntity) string {
			m := e.GetAttributes().AsMap()
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + attrText(m[k])
			}
			return strings.Join(parts, " ")
		}},
	}
}

// newDeviceOmciCommand is `volt device omci ID`: an ONU's OMCI counters.
func newDeviceOmciCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "omci ID",
		Short: "Show the OMCI counters of an ONU (sent, received, timeouts, retries, last error)",
		Args:  needArgs("an ONU device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				st, err := voltv1.NewVoltServiceClient(cc).GetDeviceOmci(ctx, &voltv1.ID{Id: args[0]})
				if err != nil {
					return err
				}
				return PrintOne(cmd.OutOrStdout(), *out, st, omciColumns())
			})
		},
	}
}

func omciColumns() []Column[*voltv1.OmciStats] {
	n := func(f func(*voltv1.OmciStats) uint64) func(*voltv1.OmciStats) string {
		return func(s *voltv1.OmciStats) string { return strconv.FormatUint(f(s), 10) }
	}
	return []Column[*voltv1.OmciStats]{
		{Header: "SENT", Value: n((*voltv1.OmciStats).GetSent)},
		{Header: "RECEIVED", Value: n((*voltv1.OmciStats).GetReceived)},
		{Header: "TIMEOUTS", Value: n((*voltv1.OmciStats).GetTimeouts)},
		{Header: "RETRIES", Value: n((*voltv1.OmciStats).GetRetries)},
		{Header: "AUTONOMOUS", Value: n((*voltv1.OmciStats).GetAutonomous)},
		{Header: "UNKNOWN", Value: n((*voltv1.OmciStats).GetUnknown)},
		{Header: "MALFORMED", Value: n((*voltv1.OmciStats).GetMalformed)},
		{Header: "FAILED", Value: n((*voltv1.OmciStats).GetFailed)},
		{Header: "LAST ERROR", Value: (*voltv1.OmciStats).GetLastError},
	}
}

// attrText shows an attribute value: whole numbers (every OMCI integer
// attribute, carried as a JSON number) without an exponent.
func attrText(v any) string {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return fmt.Sprint(v)
}
