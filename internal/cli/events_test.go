package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/testkit"
)

// testEvents are what the fake core streams: one of every kind.
func testEvents() []*voltv1.Event {
	at := func(sec int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2026, 3, 1, 10, 0, sec, 250_000_000, time.UTC))
	}
	eapol := make([]byte, 60)
	copy(eapol, []byte{0x01, 0x80, 0xc2, 0, 0, 0x03, 0, 0, 0, 0, 0x01, 0x01, 0x81, 0x00, 0x00, 0x64, 0x88, 0x8e})
	return []*voltv1.Event{
		{Id: "e1", Time: at(1), DeviceId: "olt1", Payload: &voltv1.Event_Device{Device: &voltv1.DeviceChange{
			Kind: voltv1.ChangeKind_CHANGE_KIND_MODIFIED,
			Device: &voltv1.Device{Id: "olt1", AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED,
				OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE, ConnectStatus: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE,
				Reason: "olt adopted"},
			PreviousAdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, PreviousOperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVATING,
			PreviousConnectStatus: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE,
		}}},
		{Id: "e2", Time: at(2), DeviceId: "onu1", Payload: &voltv1.Event_Port{Port: &voltv1.PortChange{
			Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED,
			Port: &voltv1.Port{DeviceId: "onu1", PortNo: uni, Label: "uni-0", Type: voltv1.PortType_PORT_TYPE_ETHERNET_UNI,
				AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE},
		}}},
		{Id: "e3", Time: at(3), DeviceId: "olt1", LogicalDeviceId: ldID, Payload: &voltv1.Event_LogicalDevice{
			LogicalDevice: &voltv1.LogicalDeviceChange{Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED,
				LogicalDevice: &voltv1.LogicalDevice{Id: ldID, DatapathId: 0xaabbccddee01, RootDeviceId: "olt1"}}}},
		{Id: "e4", Time: at(4), DeviceId: "onu1", LogicalDeviceId: ldID, Payload: &voltv1.Event_LogicalPort{
			LogicalPort: &voltv1.LogicalPortChange{Kind: voltv1.ChangeKind_CHANGE_KIND_MODIFIED,
				Port: &voltv1.LogicalPort{Id: "uni-4112", DeviceId: "onu1", DevicePortNo: uni,
					OfpPort: &openflowv1.Port{PortNo: uni, Name: "PSMO00000101-uni-0", Config: 1}}}}},
		{Id: "e5", Time: at(5), LogicalDeviceId: ldID, Payload: &voltv1.Event_Flow{Flow: &voltv1.FlowChange{
			Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, RemovedReason: openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_IDLE_TIMEOUT,
			Flow: &openflowv1.Flow{Priority: 1000, Cookie: 0x1, IdleTimeout: 60,
				Match:        match(inPort(uni), field(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, 0x888e)),
				Instructions: []*openflowv1.Instruction{applyActions(output(ctrl, 0xffff))}},
		}}},
		{Id: "e6", Time: at(6), LogicalDeviceId: ldID, Payload: &voltv1.Event_Group{Group: &voltv1.GroupChange{
			Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED,
			Group: &openflowv1.GroupDesc{Type: openflowv1.GroupType_GROUP_TYPE_ALL, GroupId: 7,
				Buckets: []*openflowv1.Bucket{{Actions: []*openflowv1.Action{output(uni, 0)}}}},
		}}},
		{Id: "e7", Time: at(7), LogicalDeviceId: ldID, Payload: &voltv1.Event_Meter{Meter: &voltv1.MeterChange{
			Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED,
			Meter: &openflowv1.MeterConfig{MeterId: 1, Flags: 1, Bands: []*openflowv1.MeterBand{
				{Type: openflowv1.MeterBandType_METER_BAND_TYPE_DROP, Rate: 1000, BurstSize: 100}}},
		}}},
		{Id: "e8", Time: at(8), DeviceId: "olt1", LogicalDeviceId: ldID, Payload: &voltv1.Event_PacketIn{PacketIn: &voltv1.PacketIn{
			LogicalDeviceId: ldID, PacketIn: &openflowv1.PacketIn{Reason: openflowv1.PacketInReason_PACKET_IN_REASON_ACTION,
				Cookie: 0x1, Match: match(inPort(uni)), Data: eapol},
		}}},
	}
}

const wantEventLines = `2026-03-01T10:00:01.250Z MODIFIED device olt1 ENABLED/ACTIVE/REACHABLE (was ENABLED/ACTIVATING/REACHABLE): olt adopted
2026-03-01T10:00:02.250Z ADDED port onu1/4112 uni-0 ETHERNET_UNI ENABLED/ACTIVE
2026-03-01T10:00:03.250Z ADDED logical-device 0000aabbccddee01 datapath 0000aabbccddee01 root olt1
2026-03-01T10:00:04.250Z MODIFIED logical-port 0000aabbccddee01/uni-4112 port_no=4112 PSMO00000101-uni-0 ADMIN-DOWN device onu1/4112
2026-03-01T10:00:05.250Z REMOVED flow 0000aabbccddee01 table=0, priority=1000, cookie=0x1, idle_timeout=60, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535 (removed: IDLE_TIMEOUT)
2026-03-01T10:00:06.250Z ADDED group 0000aabbccddee01 group_id=7 type=ALL actions=output:4112
2026-03-01T10:00:07.250Z ADDED meter 0000aabbccddee01 meter_id=1 kbps type=drop rate=1000 burst_size=100
2026-03-01T10:00:08.250Z RECEIVED packet-in 0000aabbccddee01 in_port=4112, reason=ACTION, len=60, eth_src=00:00:00:00:01:01, eth_dst=01:80:c2:00:00:03, vlan_vid=100, eth_type=0x888e
`

// syncBuffer is a bytes.Buffer the command writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startEvents runs `volt events ARGS` until stop, which interrupts it as
// Ctrl-C does and returns its error.
func startEvents(t *testing.T, args ...string) (out *syncBuffer, stop func() error) {
	t.Helper()
	out = new(syncBuffer)
	var errOut syncBuffer
	cmd := cli.NewEventsCommand()
	cmd.SetOut(out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	stopped := false
	stop = func() error {
		if stopped {
			t.Fatal("stopped twice")
		}
		stopped = true
		cancel()
		err := <-done
		if s := errOut.String(); s != "" {
			t.Errorf("stderr: %q", s)
		}
		return err
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return out, stop
}

// events prints one line per event and stops, without error, when
// interrupted.
func TestEventsFollow(t *testing.T) {
	nbi := newFakeNBI()
	nbi.Replay = testEvents()
	addr := serveNBI(t, nbi)
	out, stop := startEvents(t, "--server", addr)
	testkit.Becomes(t, "8 events", func() bool { return strings.Count(out.String(), "\n") == 8 })
	if err := stop(); err != nil {
		t.Errorf("after Ctrl-C: %v", err)
	}
	if got := out.String(); got != wantEventLines {
		t.Errorf("got:\n%s\nwant:\n%s", got, wantEventLines)
	}
}

func TestEventsFilters(t *testing.T) {
	nbi := newFakeNBI()
	nbi.Replay = testEvents()
	addr := serveNBI(t, nbi)
	tests := []struct {
		args []string
		want []string // event ids
	}{
		{[]string{"--device", "onu1"}, []string{"e2", "e4"}},
		{[]string{"--logical-device", ldID}, []string{"e3", "e4", "e5", "e6", "e7", "e8"}},
		{[]string{"--device", "olt1", "--logical-device", ldID}, []string{"e3", "e8"}},
		{[]string{"--payload", "flow,group"}, []string{"e5", "e6"}},
		{[]string{"--payload", "flow", "--flow-changes", "removed"}, []string{"e5"}},
		{[]string{"--payload", "logical_device", "--payload", "port"}, []string{"e2", "e3"}},
	}
	for _, tt := range tests {
		out, stop := startEvents(t, append(tt.args, "--server", addr, "--format", "{{.Id}}")...)
		want := strings.Join(tt.want, "\n") + "\n"
		testkit.Becomes(t, "events "+strings.Join(tt.args, " "), func() bool { return out.String() == want })
		if err := stop(); err != nil {
			t.Errorf("%v: %v", tt.args, err)
		}
	}
}

// -o json is one protojson object per line, for jq; -o yaml one document per
// event.
func TestEventsJSONAndYAML(t *testing.T) {
	nbi := newFakeNBI()
	nbi.Replay = testEvents()
	addr := serveNBI(t, nbi)

	out, stop := startEvents(t, "-o", "json", "--server", addr)
	testkit.Becomes(t, "8 JSON lines", func() bool { return strings.Count(out.String(), "\n") == 8 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i, line := range lines(out.String()) {
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if want := testEvents()[i].GetId(); ev.ID != want {
			t.Errorf("line %d has event %s, want %s", i+1, ev.ID, want)
		}
	}
	first := lines(out.String())[0]
	for _, want := range []string{`"id":"e1"`, `"time":"2026-03-01T10:00:01.250Z"`, `"previousOperStatus":"OPER_STATUS_ACTIVATING"`,
		`"connectStatus":"CONNECT_STATUS_REACHABLE"`, `"deviceId":"olt1"`} {
		if !strings.Contains(first, want) {
			t.Errorf("first line lacks %s:\n%s", want, first)
		}
	}

	out, stop = startEvents(t, "-o", "yaml", "--device", "onu1", "--server", addr)
	testkit.Becomes(t, "2 YAML documents", func() bool {
		return strings.Count(out.String(), "---\n") == 2 && strings.Contains(out.String(), "id: e4")
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "---\ndeviceId: onu1\nid: e2\n") || !strings.Contains(got, "    label: uni-0\n") {
		t.Errorf("yaml:\n%s", got)
	}
}

func TestEventsErrors(t *testing.T) {
	ended := newFakeNBI()
	ended.Replay, ended.EndEvents = testEvents()[:1], true
	endedAddr := serveNBI(t, ended)
	failed := newFakeNBI()
	failed.EndEvents, failed.EndWith = true, status.Error(codes.Unavailable, "core is shutting down")
	failedAddr := serveNBI(t, failed)
	closed := closedAddr(t)

	tests := []struct {
		name    string
		args    []string
		want    string
		printed string
	}{
		{"server ends the stream", []string{"--server", endedAddr, "--reconnect=false"}, endedAddr + " ended the event stream",
			lines(wantEventLines)[0] + "\n"},
		{"server fails the stream", []string{"--server", failedAddr, "--reconnect=false"}, "Unavailable: core is shutting down", ""},
		// Reconnecting is for a server that went away after the stream began;
		// one that fails the stream at once is an answer.
		{"server fails the stream at once", []string{"--server", failedAddr}, "Unavailable: core is shutting down", ""},
		{"nobody listening", []string{"--server", closed}, "cannot reach " + closed + ": connect: connection refused", ""},
		{"bad output", []string{"--server", endedAddr, "-o", "csv"}, `invalid --output "csv" (valid: table, json, yaml)`, ""},
		{"format with json", []string{"--server", endedAddr, "-o", "json", "--format", "{{.Id}}"}, "--format cannot be combined with -o json", ""},
		{"bad template field", []string{"--server", endedAddr, "--format", "{{.Nope}}"},
			`--format: template: format:1:2: executing "format" at <.Nope>: can't evaluate field Nope in type *voltv1.Event`, ""},
		{"arguments", []string{"olt1", "--server", endedAddr}, `unknown command "olt1" for "events"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, cli.NewEventsCommand(), tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if out != tt.printed || errOut != "" {
				t.Errorf("stdout %q, stderr %q; want stdout %q", out, errOut, tt.printed)
			}
		})
	}
}

// A server that goes away while `volt events` follows it: one line on
// stderr says so, the command reconnects when the server is back (another
// line), and events from the new server are printed.
func TestEventsReconnect(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	serveOn := func(lis net.Listener, events []*voltv1.Event) (stop func()) {
		nbi := newFakeNBI()
		nbi.Replay = events
		srv := grpc.NewServer()
		nbi.Register(srv)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.Serve(lis)
		}()
		return func() {
			srv.Stop()
			<-done
		}
	}
	stop1 := serveOn(lis, testEvents()[:1])
	defer func() {
		if stop1 != nil {
			stop1()
		}
	}()

	out, errOut := new(syncBuffer), new(syncBuffer)
	cmd := cli.NewEventsCommand()
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SetArgs([]string{"--server", addr})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	first := lines(wantEventLines)
	testkit.Becomes(t, "the first event", func() bool { return out.String() == first[0]+"\n" })

	stop1()
	stop1 = nil
	testkit.Becomes(t, "the went-away line", func() bool { return strings.Contains(errOut.String(), "went away") })
	if want := "volt events: " + addr + " went away (connection lost); reconnecting until it is back (Ctrl-C to stop)\n"; errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut.String(), want)
	}

	lis2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	stop2 := serveOn(lis2, testEvents()[1:2])
	defer stop2()
	testkit.Becomes(t, "the event after reconnecting", func() bool { return out.String() == first[0]+"\n"+first[1]+"\n" })
	if want := "volt events: reconnected to " + addr + "; events published meanwhile were not seen\n"; !strings.HasSuffix(errOut.String(), want) ||
		strings.Count(errOut.String(), "\n") != 2 {
		t.Errorf("stderr = %q, want one went-away line and then %q", errOut.String(), want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("events after Ctrl-C: %v", err)
	}
	done <- nil
}
