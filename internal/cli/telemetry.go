package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/msgbus"
)

// newDevicePmCommand returns `volt device pm ID [--interval D] [--enable |
// --disable] [--groups G,...]`: show a device's PM configuration, or change
// it (read, change what the flags say, write back).
func newDevicePmCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	var interval time.Duration
	var enable, disable bool
	var groups []string
	cmd := &cobra.Command{
		Use:   "pm DEVICE-ID [--interval 15s] [--enable | --disable] [--groups port,pon]",
		Short: "Show or set a device's PM configuration (KPIs on volt.kpis)",
		Long: `Show a device's performance-monitoring configuration, or change it with
flags: --interval (1s to 24h), --enable or --disable, --groups (port, pon;
empty: all). Its adapter publishes the device's counters as KPI events on
the Kafka topic volt.kpis every interval; follow them with volt kpis.`,
		Example: `  volt device pm "$olt"
  volt device pm "$olt" --interval 5s
  volt device pm "$onu" --disable`,
		Args: needArgs("a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			if enable && disable {
				return errors.New("--enable and --disable: pick one")
			}
			change := cmd.Flags().Changed("interval") || enable || disable || cmd.Flags().Changed("groups")
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				nbi := voltv1.NewVoltServiceClient(cc)
				cfg, err := nbi.GetPmConfig(ctx, &voltv1.ID{Id: args[0]})
				if err != nil {
					return err
				}
				if change {
					if cmd.Flags().Changed("interval") {
						cfg.Interval = durationpb.New(interval)
					}
					if enable || disable {
						cfg.Enabled = enable
					}
					if cmd.Flags().Changed("groups") {
						cfg.Groups = groups
					}
					if cfg, err = nbi.UpdatePmConfig(ctx, cfg); err != nil {
						return err
					}
				}
				return PrintOne(cmd.OutOrStdout(), *out, cfg, pmColumns())
			})
		},
	}
	cmd.Flags().DurationVar(&interval, "interval", 0, "publish KPIs this often (1s to 24h)")
	cmd.Flags().BoolVar(&enable, "enable", false, "publish KPIs")
	cmd.Flags().BoolVar(&disable, "disable", false, "stop publishing KPIs")
	cmd.Flags().StringSliceVar(&groups, "groups", nil, "counter groups: port, pon (empty: all)")
	return cmd
}

func pmColumns() []Column[*voltv1.PmConfig] {
	return []Column[*voltv1.PmConfig]{
		{Header: "DEVICE", Value: (*voltv1.PmConfig).GetDeviceId},
		{Header: "ENABLED", Value: func(c *voltv1.PmConfig) string { return strconv.FormatBool(c.GetEnabled()) }},
		{Header: "INTERVAL", Value: func(c *voltv1.PmConfig) string { return c.GetInterval().AsDuration().String() }},
		{Header: "GROUPS", Value: func(c *voltv1.PmConfig) string { return strings.Join(c.GetGroups(), ",") }},
	}
}

// NewAlarmsCommand returns `volt alarms [--device ID] [--active]`.
func NewAlarmsCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	var req voltv1.ListAlarmsRequest
	cmd := &cobra.Command{
		Use:   "alarms [--device ID] [--active]",
		Short: "List alarms: active, and the last clear of each",
		Long: `List the alarms the core keeps: each alarm (device, type, resource) with
its latest state, RAISED (active) or CLEARED. Alarms are raised and cleared
by the adapters (ONU loss of signal, dying gasp) and the core (OLT
unreachable); each change is also published on the Kafka topic volt.alarms
and on the change-event stream (volt events --payload alarm).`,
		Example: `  volt alarms --active
  volt alarms --device "$onu" -o json`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewVoltServiceClient(cc).ListAlarms(ctx, &req)
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), out, resp.GetItems(), alarmColumns())
			})
		},
	}
	client.AddFlags(cmd.Flags())
	out.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&req.DeviceId, "device", "", "only this device's alarms")
	cmd.Flags().BoolVar(&req.Active, "active", false, "only the alarms raised and not cleared")
	return cmd
}

func alarmColumns() []Column[*voltv1.Alarm] {
	ts := func(f func(*voltv1.Alarm) time.Time) func(*voltv1.Alarm) string {
		return func(a *voltv1.Alarm) string {
			if t := f(a); !t.IsZero() && t.Unix() != 0 {
				return t.UTC().Format(time.RFC3339)
			}
			return ""
		}
	}
	return []Column[*voltv1.Alarm]{
		{Header: "DEVICE", Value: (*voltv1.Alarm).GetDeviceId},
		{Header: "TYPE", Value: (*voltv1.Alarm).GetType},
		{Header: "RESOURCE", Value: (*voltv1.Alarm).GetResource},
		{Header: "STATE", Value: func(a *voltv1.Alarm) string { return enumName(a.GetState()) }},
		{Header: "SEVERITY", Value: func(a *voltv1.Alarm) string { return enumName(a.GetSeverity()) }},
		{Header: "CATEGORY", Value: func(a *voltv1.Alarm) string { return enumName(a.GetCategory()) }},
		{Header: "RAISED", Value: ts(func(a *voltv1.Alarm) time.Time { return a.GetRaisedAt().AsTime() })},
		{Header: "CLEARED", Value: ts(func(a *voltv1.Alarm) time.Time {
			if a.GetClearedAt() == nil {
				return time.Time{}
			}
			return a.GetClearedAt().AsTime()
		})},
		{Header: "DESCRIPTION", Value: (*voltv1.Alarm).GetDescription},
	}
}

// Defaults of `volt kpis`.
const (
	BrokersEnv     = "VOLT_BROKERS"
	DefaultBrokers = "127.0.0.1:9092"
	KpisTopic      = "volt.kpis"
)

// NewKpisCommand returns `volt kpis [--device ID]`: follow the KPI events
// on Kafka until interrupted, one line per port (or one JSON object per
// event with -o json).
func NewKpisCommand() *cobra.Command {
	var out OutputOptions
	var brokers, device, topic string
	cmd := &cobra.Command{
		Use:   "kpis [--device ID] [--brokers HOST:PORT]",
		Short: "Follow KPI events (volt.kpis) until interrupted",
		Long: `Follow the KPI events adapters publish on the Kafka topic volt.kpis (set
each device's interval with volt device pm), from now until Ctrl-C. Each
event shows as one line per port: time, device, port, group, and rx/tx
packets and bytes; with -o json one protojson object per event. It reads
Kafka directly (--brokers, env VOLT_BROKERS), not the core's NBI.`,
		Example: `  volt kpis --device "$olt"
  volt kpis -o json | jq -c '{device: .deviceId, ports: [.ports[].rxPackets]}'`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			print, err := kpiPrinter(out)
			if err != nil {
				return err
			}
			return followKpis(cmd.Context(), strings.Split(brokers, ","), topic, device, func(ev *voltv1.KpiEvent) error {
				return print(cmd.OutOrStdout(), ev)
			})
		},
	}
	out.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&brokers, "brokers", daemon.Env(BrokersEnv, DefaultBrokers), "Kafka brokers, comma-separated (env "+BrokersEnv+")")
	cmd.Flags().StringVar(&device, "device", "", "only this device's KPIs")
	cmd.Flags().StringVar(&topic, "topic", KpisTopic, "the KPI topic")
	return cmd
}

// followKpis calls handle for every KPI event of device (all when empty)
// published on topic from now until ctx ends (nil) or handle fails.
func followKpis(ctx context.Context, brokers []string, topic, device string, handle func(*voltv1.KpiEvent) error) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(dctx, msgbus.Config{Brokers: brokers, Name: "volt-kpis"})
	if err != nil {
		return fmt.Errorf("kafka at %s: %w", strings.Join(brokers, ","), err)
	}
	defer conn.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	failed := make(chan error, 1)
	sub, err := conn.Subscribe(dctx, topic, "", func(_ context.Context, ev *msgbus.Event) {
		k, ok := ev.Message.(*voltv1.KpiEvent)
		if !ok || (device != "" && k.GetDeviceId() != device) {
			return
		}
		if err := handle(k); err != nil {
			select {
			case failed <- err:
			default:
			}
			stop()
		}
	})
	if err != nil {
		return fmt.Errorf("kafka at %s: follow %s: %w", strings.Join(brokers, ","), topic, err)
	}
	defer sub.Close()
	<-ctx.Done()
	select {
	case err := <-failed:
		return err
	default:
		return nil
	}
}

func kpiPrinter(o OutputOptions) (func(io.Writer, *voltv1.KpiEvent) error, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.output() == OutputJSON {
		return func(w io.Writer, ev *voltv1.KpiEvent) error {
			s, err := templateJSON(ev)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, s+"\n")
			return err
		}, nil
	}
	if o.output() != "" && o.output() != OutputTable {
		return nil, fmt.Errorf("-o %s: volt kpis prints table or json", o.output())
	}
	return func(w io.Writer, ev *voltv1.KpiEvent) error {
		when := ev.GetTime().AsTime().UTC().Format(eventTime)
		var b strings.Builder
		for _, p := range ev.GetPorts() {
			fmt.Fprintf(&b, "%s %s port=%d %s %s rx_packets=%d rx_bytes=%d tx_packets=%d tx_bytes=%d dropped=%d errors=%d\n",
				when, ev.GetDeviceId(), p.GetPortNo(), p.GetLabel(), p.GetGroup(),
				p.GetRxPackets(), p.GetRxBytes(), p.GetTxPackets(), p.GetTxBytes(), p.GetRxDropped(), p.GetRxErrors())
		}
		_, err := io.WriteString(w, b.String())
		return err
	}, nil
}
