package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/internal/cli"
)

func TestLogicalDeviceCommands(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list", []string{"list"}, `ID                 DATAPATH           ROOT-DEVICE
0000aabbccddee01   0000aabbccddee01   olt1
`},
		{"get", []string{"get", ldID, "--format", "{{.Desc.MfrDesc}} {{.RootDeviceId}}"}, "OpenVOLT olt1\n"},
		// The id shows beside the name only where the two differ.
		{"ports", []string{"ports", ldID}, `PORT-NO   NAME                            DEVICE   DEVICE-PORT   ROOT    STATE   MAC                 RX-PKTS   RX-BYTES   TX-PKTS   TX-BYTES   DROPS
1         nni-0 (nni-1)                   olt1     1             true    LIVE    02:20:ef:bd:d3:df   3         204        5         340        2
4112      PSMO00000101-uni-0 (uni-4112)   onu1     4112          false   DOWN    -                   0         0          0         0          0
`},
		// By table, then priority from high to low.
		{"flows", []string{"flows", ldID}, `PACKETS   BYTES   AGE     FLOW
7         448     1m15s   table=0, priority=1000, cookie=0x1, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535
0         0       -       table=0, priority=10, cookie=0x4, in_port=1, actions=CONTROLLER:65535
0         0       -       table=1, priority=2000, cookie=0x3, in_port=1, actions=output:4112
`},
		{"groups", []string{"groups", ldID}, `GROUP   TYPE   BUCKETS
1       ALL    actions=pop_vlan,output:4112
`},
		{"meters", []string{"meters", ldID}, `METER   FLAGS              BANDS                                  FLOWS   PACKETS   BYTES
1       kbps,burst,stats   type=drop rate=10000 burst_size=1000   2       7         448
`},
		{"groups yaml", []string{"groups", ldID, "-o", "yaml"}, `- desc:
    buckets:
    - actions:
      - popVlan: {}
      - output:
          maxLen: 0
          port: 4112
      watchGroup: 0
      watchPort: 0
      weight: 0
    groupId: 1
    type: GROUP_TYPE_ALL
  stats: null
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveNBI(t, newFakeNBI())
			out, errOut, err := run(t, cli.NewLogicalDeviceCommand(), append(tt.args, "--server", addr)...)
			if err != nil {
				t.Fatalf("volt logicaldevice %s: %v", strings.Join(tt.args, " "), err)
			}
			if out != tt.want || errOut != "" {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", out, tt.want, errOut)
			}
		})
	}
}

func TestLogicalDeviceJSON(t *testing.T) {
	addr := serveNBI(t, newFakeNBI())
	out, _, err := run(t, cli.NewLogicalDeviceCommand(), "list", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var lds []struct {
		ID           string `json:"id"`
		DatapathID   string `json:"datapathId"`
		RootDeviceID string `json:"rootDeviceId"`
	}
	if err := json.Unmarshal([]byte(out), &lds); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(lds) != 1 || lds[0].ID != ldID || lds[0].DatapathID != "187723572702721" || lds[0].RootDeviceID != "olt1" {
		t.Errorf("list -o json = %+v", lds)
	}
}

// enable-port and disable-port flip OFPPC_PORT_DOWN, which ports shows as
// ADMIN-DOWN.
func TestLogicalPortEnableDisable(t *testing.T) {
	nbi := newFakeNBI()
	addr := serveNBI(t, nbi)
	state := func() string {
		t.Helper()
		out, _, err := run(t, cli.NewLogicalDeviceCommand(), "ports", ldID, "--server", addr)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(lines(out)[1])[6]
	}
	if got := state(); got != "LIVE" {
		t.Fatalf("nni state before = %s", got)
	}
	// The port by id, by name and by number.
	for _, port := range []string{"nni-1", "nni-0", "1", "NNI-0"} {
		if _, errOut, err := run(t, cli.NewLogicalDeviceCommand(), "enable-port", ldID, port, "--server", addr); err != nil {
			t.Errorf("enable-port %s: %v, stderr %q", port, err, errOut)
		}
		out, errOut, err := run(t, cli.NewLogicalDeviceCommand(), "disable-port", ldID, port, "--server", addr)
		if err != nil || out != "" || errOut != "logical port nni-1 of logical device "+ldID+" disabled\n" {
			t.Errorf("disable-port %s: %v, stdout %q, stderr %q", port, err, out, errOut)
		}
		if got := state(); got != "ADMIN-DOWN" {
			t.Errorf("nni state after disable-port %s = %s", port, got)
		}
	}
	// The alias, as an operator types it.
	ld := cli.NewLogicalDeviceCommand()
	if !ld.HasAlias("ld") {
		t.Error("logicaldevice has no alias ld")
	}
	if _, errOut, err := run(t, ld, "enable-port", ldID, "nni-1", "--server", addr); err != nil || errOut != "logical port nni-1 of logical device "+ldID+" enabled\n" {
		t.Errorf("enable-port: %v, stderr %q", err, errOut)
	}
	if got := state(); got != "LIVE" {
		t.Errorf("nni state after enable = %s", got)
	}
}

func TestLogicalDeviceErrors(t *testing.T) {
	addr := serveNBI(t, newFakeNBI())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown", []string{"get", "nope"}, `NotFound: logical device "nope" not found`},
		{"flows of unknown", []string{"flows", "nope"}, `NotFound: logical device "nope" not found`},
		{"unknown port", []string{"disable-port", ldID, "uni-1"}, `NotFound: logical device "` + ldID + `" has no port "uni-1"`},
		{"unknown port number", []string{"disable-port", ldID, "17"}, `NotFound: logical device "` + ldID + `" has no port "17"`},
		{"no arguments", []string{"enable-port"}, "logicaldevice enable-port needs a logical device ID and a port"},
		{"no port", []string{"disable-port", ldID}, "logicaldevice disable-port needs a port"},
		{"get without id", []string{"get"}, "logicaldevice get needs a logical device ID"},
		{"ports without id", []string{"ports"}, "logicaldevice ports needs a logical device ID"},
		{"bad template", []string{"list", "--format", "{{.Nope}}"},
			`--format: template: format:1:2: executing "format" at <.Nope>: can't evaluate field Nope in type *voltv1.LogicalDevice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, cli.NewLogicalDeviceCommand(), append(tt.args, "--server", addr)...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if out != "" || errOut != "" {
				t.Errorf("printed on error: stdout %q, stderr %q", out, errOut)
			}
		})
	}
}

// -o json shows an OpenFlow port's MAC as text and its config and state
// bitmaps as flag names, not base64 and numbers.
func TestLogicalPortsJSON(t *testing.T) {
	addr := serveNBI(t, newFakeNBI())
	out, _, err := run(t, cli.NewLogicalDeviceCommand(), "ports", ldID, "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var ports []struct {
		ID      string `json:"id"`
		OfpPort struct {
			PortNo int      `json:"portNo"`
			HwAddr string   `json:"hwAddr"`
			Config []string `json:"config"`
			State  []string `json:"state"`
		} `json:"ofpPort"`
	}
	if err := json.Unmarshal([]byte(out), &ports); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(ports) != 2 {
		t.Fatalf("%d ports:\n%s", len(ports), out)
	}
	nni, uni := ports[0].OfpPort, ports[1].OfpPort
	if nni.HwAddr != "02:20:ef:bd:d3:df" || strings.Join(nni.State, ",") != "LIVE" || len(nni.Config) != 0 {
		t.Errorf("nni: %+v", nni)
	}
	if uni.HwAddr != "" || strings.Join(uni.State, ",") != "LINK_DOWN" {
		t.Errorf("uni: %+v", uni)
	}
	// Keys keep the protobuf field order.
	if i, j := strings.Index(out, `"portNo"`), strings.Index(out, `"hwAddr"`); i < 0 || j < i {
		t.Errorf("portNo does not come before hwAddr:\n%s", out)
	}
}
