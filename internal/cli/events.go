package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// eventTime is how an event's time shows in a line: UTC, milliseconds.
const eventTime = "2006-01-02T15:04:05.000Z07:00"

// NewEventsCommand returns `volt events`: follow the core's change events
// until interrupted, one line per event (or one JSON object per line with
// -o json, one YAML document per event with -o yaml).
func NewEventsCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	var req voltv1.ReceiveChangeEventsRequest
	var reconnect bool
	cmd := &cobra.Command{
		Use:   "events [--device ID] [--logical-device ID] [--payload P,...] [--flow-changes K,...]",
		Short: "Follow change events until interrupted",
		Long: `Follow the core's change events (devices, ports, logical devices and
ports, flows, groups, meters, packet-ins) until interrupted. Each event is
one line: time, change, object and a short summary; with -o json one
protojson object per line, for jq. The stream has no time limit: it runs
until Ctrl-C. When the server goes away (a restart, a lost connection), one
line on stderr says so and the command reconnects, retrying until the server
is back (another line says when); events published meanwhile are not shown.
With --reconnect=false it ends with an error instead. A server that cannot be
reached at the start is an error either way.`,
		Example: `  volt events --device "$olt"
  volt events --payload flow --flow-changes removed
  volt events -o json | jq -r 'select(.device) | .device.device.operStatus'`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printEvent, err := eventPrinter(out)
			if err != nil {
				return err
			}
			var note func(string)
			if reconnect {
				note = func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), "volt events: "+msg) }
			}
			return followEvents(cmd.Context(), client, &req, note, func(ev *voltv1.Event) error {
				return printEvent(cmd.OutOrStdout(), ev)
			})
		},
	}
	cmd.Flags().BoolVar(&reconnect, "reconnect", true, "when the server goes away, say so and reconnect (false: end with an error)")
	client.AddFlags(cmd.Flags())
	// Accepted like on every client command, but a stream has no time limit.
	_ = cmd.Flags().MarkHidden("timeout")
	out.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&req.DeviceId, "device", "", "only events about this device")
	cmd.Flags().StringVar(&req.LogicalDeviceId, "logical-device", "", "only events about this logical device")
	cmd.Flags().StringSliceVar(&req.Payloads, "payload", nil,
		"only events with these payloads (device, port, logical_device, logical_port, flow, group, meter, packet_in, alarm)")
	cmd.Flags().Var(&changeKinds{&req.FlowChangeKinds}, "flow-changes", "only flow changes of these kinds (added, modified, removed)")
	return cmd
}

// Reconnect backoff of `volt events`: doubling from the first to the last.
const (
	reconnectFirst = 200 * time.Millisecond
	reconnectMax   = 5 * time.Second
)

// followEvents streams events to handle until ctx ends, which is the
// normal way out and returns nil. The stream has no deadline. With note
// set, a server that goes away after the stream started (restart, lost
// connection, stream ended) is reported through note in one line and the
// stream is opened again, with backoff, until it is back or ctx ends;
// without, that is an error. Failing to connect at the start, and any
// error the server answers with, is an error either way.
func followEvents(ctx context.Context, client ClientOptions, req *voltv1.ReceiveChangeEventsRequest,
	note func(string), handle func(*voltv1.Event) error,
) error {
	cc, err := client.Dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithCancel(ctx) // ends the stream when handle fails
	defer cancel()
	nbi := voltv1.NewVoltServiceClient(cc)
	connected := false // at least once
	away := false      // reported gone, not back yet
	wait := reconnectFirst
	for {
		err := streamEvents(ctx, nbi, req, func() {
			connected, wait = true, reconnectFirst
			if away {
				away = false
				note("reconnected to " + client.Server + "; events published meanwhile were not seen")
			}
		}, handle)
		if ctx.Err() != nil {
			return nil
		}
		var he handleError
		if errors.As(err, &he) {
			return he.err
		}
		if note == nil || !connected || !wentAway(err) {
			return streamEnded(ctx, client, err)
		}
		if !away {
			away = true
			note(fmt.Sprintf("%s went away (%s); reconnecting until it is back (Ctrl-C to stop)", client.Server, awayReason(client, err)))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, reconnectMax)
	}
}

// handleError carries an error of the handler out of streamEvents, so that
// it is never mistaken for the server's.
type handleError struct{ err error }

func (e handleError) Error() string { return e.err.Error() }

// streamEvents opens one stream, calls up once the server has sent the
// stream's header (its subscription is in place), and hands every event to
// handle until the stream ends.
func streamEvents(ctx context.Context, nbi voltv1.VoltServiceClient, req *voltv1.ReceiveChangeEventsRequest,
	up func(), handle func(*voltv1.Event) error,
) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := nbi.ReceiveChangeEvents(ctx, req)
	if err != nil {
		return err
	}
	md, err := stream.Header()
	if err != nil {
		return err
	}
	if md != nil { // nil: the stream ended before the server took it (trailers only)
		up()
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return err
		}
		if err := handle(ev); err != nil {
			return handleError{err}
		}
	}
}

// wentAway reports whether a stream's end means the server (or the way to
// it) went away, as opposed to an answer: the stream closed, the connection
// lost, or the server dropping a subscriber that fell behind.
func wentAway(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Canceled, codes.Aborted:
		return true
	}
	return false
}

// awayReason is the short why of a lost stream: "stream ended", "connection
// lost", or the server's words.
func awayReason(client ClientOptions, err error) string {
	if errors.Is(err, io.EOF) {
		return "the server ended the stream"
	}
	st := status.Convert(err)
	msg := st.Message()
	switch {
	case st.Code() == codes.Unavailable && (strings.Contains(msg, "EOF") || strings.Contains(msg, "goaway") ||
		strings.Contains(msg, "connection") || strings.Contains(msg, "transport")):
		return "connection lost"
	case st.Code() == codes.Unavailable:
		return oneLine(msg)
	}
	return client.Error(err).Error()
}

// streamEnded says why a stream stopped: nil when we were interrupted,
// otherwise a one-line error, a server that closed the stream included.
func streamEnded(ctx context.Context, client ClientOptions, err error) error {
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s ended the event stream", client.Server)
	}
	return client.Error(err)
}

// eventPrinter returns how each event is written: a line, a --format line,
// a compact JSON line, or a YAML document. Each event is one Write.
func eventPrinter(o OutputOptions) (func(io.Writer, *voltv1.Event) error, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	switch o.output() {
	case OutputJSON:
		return func(w io.Writer, ev *voltv1.Event) error {
			s, err := templateJSON(ev)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, s+"\n")
			return err
		}, nil
	case OutputYAML:
		return func(w io.Writer, ev *voltv1.Event) error {
			b, err := itemJSON(ev)
			if err != nil {
				return err
			}
			if b, err = yaml.JSONToYAML(b); err != nil {
				return fmt.Errorf("yaml output: %w", err)
			}
			_, err = w.Write(append([]byte("---\n"), b...))
			return err
		}, nil
	}
	if o.Format != "" {
		t, err := o.template()
		if err != nil {
			return nil, err
		}
		return func(w io.Writer, ev *voltv1.Event) error {
			var buf bytes.Buffer
			if err := t.Execute(&buf, ev); err != nil {
				return fmt.Errorf("--format: %s", oneLine(err.Error()))
			}
			buf.WriteByte('\n')
			_, err := w.Write(buf.Bytes())
			return err
		}, nil
	}
	return func(w io.Writer, ev *voltv1.Event) error {
		_, err := io.WriteString(w, eventLine(ev)+"\n")
		return err
	}, nil
}

// eventLine is one event as a line: time, what happened, to what, and a
// summary, e.g.
//
//	2026-03-01T10:00:00.000Z MODIFIED device olt1 ENABLED/ACTIVE/REACHABLE (was ENABLED/ACTIVATING/REACHABLE)
func eventLine(ev *voltv1.Event) string {
	when := "-"
	if ev.GetTime() != nil {
		when = ev.GetTime().AsTime().UTC().Format(eventTime)
	}
	kind, object, summary := describeEvent(ev)
	return oneLine(fmt.Sprintf("%s %-8s %s %s", when, kind, object, summary))
}

// describeEvent says what an event changed: the change kind, the object
// ("device olt1", "flow ld1") and a short summary of the object after it.
func describeEvent(ev *voltv1.Event) (kind, object, summary string) {
	// The object a flow, group or meter belongs to.
	owner := ev.GetLogicalDeviceId()
	if owner == "" {
		owner = ev.GetDeviceId()
	}
	switch p := ev.GetPayload().(type) {
	case *voltv1.Event_Device:
		c := p.Device
		d := c.GetDevice()
		now := deviceStates(d.GetAdminState(), d.GetOperStatus(), d.GetConnectStatus())
		summary = now
		if c.GetKind() == voltv1.ChangeKind_CHANGE_KIND_MODIFIED {
			if was := deviceStates(c.GetPreviousAdminState(), c.GetPreviousOperStatus(), c.GetPreviousConnectStatus()); was != now {
				summary += " (was " + was + ")"
			}
		}
		if r := d.GetReason(); r != "" {
			summary += ": " + r
		}
		return enumName(c.GetKind()), "device " + d.GetId(), summary

	case *voltv1.Event_Port:
		port := p.Port.GetPort()
		return enumName(p.Port.GetKind()),
			fmt.Sprintf("port %s/%d", port.GetDeviceId(), port.GetPortNo()),
			fmt.Sprintf("%s %s %s/%s", port.GetLabel(), enumName(port.GetType()),
				enumName(port.GetAdminState()), enumName(port.GetOperStatus()))

	case *voltv1.Event_LogicalDevice:
		ld := p.LogicalDevice.GetLogicalDevice()
		return enumName(p.LogicalDevice.GetKind()), "logical-device " + ld.GetId(),
			fmt.Sprintf("datapath %016x root %s", ld.GetDatapathId(), ld.GetRootDeviceId())

	case *voltv1.Event_LogicalPort:
		lp := p.LogicalPort.GetPort()
		ldID := lp.GetLogicalDeviceId()
		if ldID == "" {
			ldID = owner
		}
		return enumName(p.LogicalPort.GetKind()), "logical-port " + ldID + "/" + lp.GetId(),
			fmt.Sprintf("port_no=%d %s %s device %s/%d", lp.GetOfpPort().GetPortNo(), lp.GetOfpPort().GetName(),
				portState(lp.GetOfpPort()), lp.GetDeviceId(), lp.GetDevicePortNo())

	case *voltv1.Event_Flow:
		summary = flowText(p.Flow.GetFlow())
		if r := p.Flow.GetRemovedReason(); r != 0 {
			summary += " (removed: " + enumName(r) + ")"
		}
		return enumName(p.Flow.GetKind()), "flow " + owner, summary

	case *voltv1.Event_Group:
		g := p.Group.GetGroup()
		return enumName(p.Group.GetKind()), "group " + owner,
			fmt.Sprintf("group_id=%d type=%s %s", g.GetGroupId(), enumName(g.GetType()), bucketsText(g.GetBuckets()))

	case *voltv1.Event_Meter:
		m := p.Meter.GetMeter()
		return enumName(p.Meter.GetKind()), "meter " + owner,
			strings.TrimSpace(fmt.Sprintf("meter_id=%d %s %s", m.GetMeterId(), meterFlagsText(m.GetFlags()), bandsText(m.GetBands())))

	case *voltv1.Event_PacketIn:
		ldID := p.PacketIn.GetLogicalDeviceId()
		if ldID == "" {
			ldID = owner
		}
		return "RECEIVED", "packet-in " + ldID, packetInText(p.PacketIn)

	case *voltv1.Event_Alarm:
		a := p.Alarm.GetAlarm()
		return enumName(a.GetState()), "alarm " + a.GetId(), enumName(a.GetSeverity()) + " " + a.GetDescription()
	}
	return "UNKNOWN", "event " + ev.GetId(), ""
}

// deviceStates is ADMIN/OPER/CONNECT, e.g. ENABLED/ACTIVE/REACHABLE.
func deviceStates(a voltv1.AdminState, o voltv1.OperStatus, c voltv1.ConnectStatus) string {
	return enumName(a) + "/" + enumName(o) + "/" + enumName(c)
}

// packetInText summarises a packet-in: its match (the in_port), reason,
// size and Ethernet header.
func packetInText(p *voltv1.PacketIn) string {
	pi := p.GetPacketIn()
	parts := []string{matchText(pi.GetMatch()), "reason=" + enumName(pi.GetReason()),
		fmt.Sprintf("len=%d", len(pi.GetData()))}
	if eth := ethernetText(pi.GetData()); eth != "" {
		parts = append(parts, eth)
	}
	return strings.Join(parts, ", ")
}

// ethernetText reads the addresses, VLAN tags and ethertype of a frame.
func ethernetText(frame []byte) string {
	if len(frame) < 14 {
		return ""
	}
	parts := []string{
		"eth_src=" + net.HardwareAddr(frame[6:12]).String(),
		"eth_dst=" + net.HardwareAddr(frame[0:6]).String(),
	}
	rest := frame[12:]
	for len(rest) >= 6 {
		tpid := binary.BigEndian.Uint16(rest)
		if tpid != 0x8100 && tpid != 0x88a8 {
			break
		}
		parts = append(parts, fmt.Sprintf("vlan_vid=%d", binary.BigEndian.Uint16(rest[2:])&0xfff))
		rest = rest[4:]
	}
	return strings.Join(append(parts, fmt.Sprintf("eth_type=0x%04x", binary.BigEndian.Uint16(rest))), ", ")
}

// changeKinds is a flag of change kinds: "added,removed".
type changeKinds struct{ kinds *[]voltv1.ChangeKind }

func (c *changeKinds) String() string {
	var names []string
	for _, k := range *c.kinds {
		names = append(names, strings.ToLower(strings.TrimPrefix(k.String(), "CHANGE_KIND_")))
	}
	return strings.Join(names, ",")
}

func (c *changeKinds) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		k, ok := voltv1.ChangeKind_value["CHANGE_KIND_"+strings.ToUpper(strings.TrimSpace(name))]
		if !ok || k == 0 {
			return fmt.Errorf("%q is not a change kind (added, modified, removed)", name)
		}
		*c.kinds = append(*c.kinds, voltv1.ChangeKind(k))
	}
	return nil
}

func (c *changeKinds) Type() string { return "kinds" }
