package cli_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
)

func TestDeviceCommands(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list", []string{"list"}, `ID     TYPE         ROOT    PARENT   ADMIN            OPER      CONNECT     SERIAL         ADDRESS             REASON
olt1   ponsim_olt   true    -        ENABLED          ACTIVE    REACHABLE   PSMO00000001   127.0.0.1:50060     -
olt2   ponsim_olt   true    -        PREPROVISIONED   UNKNOWN   UNKNOWN     -              aa:bb:cc:dd:ee:02   -
onu1   ponsim_onu   false   olt1     ENABLED          ACTIVE    REACHABLE   PSMO00000101   pon 1 onu 1         omci flows pushed
`},
		{"list by type", []string{"list", "--type", "ponsim_onu", "--format", "{{.Id}} {{.ParentId}} {{.AdminState}}"},
			"onu1 olt1 ADMIN_STATE_ENABLED\n"},
		{"list by parent", []string{"list", "--parent", "olt1", "--format", "{{.Id}}"}, "onu1\n"},
		{"list matching nothing", []string{"list", "--type", "nosuch", "-o", "json"}, "[]\n"},
		{"get", []string{"get", "olt1"}, `ID     TYPE         ROOT   PARENT   ADMIN     OPER     CONNECT     SERIAL         ADDRESS           REASON
olt1   ponsim_olt   true   -        ENABLED   ACTIVE   REACHABLE   PSMO00000001   127.0.0.1:50060   -
`},
		{"get format", []string{"get", "onu1", "--format", "{{.ProxyAddress.OnuId}} {{json .ProxyAddress}}"},
			`1 {"deviceId":"olt1","deviceType":"","channelId":1,"channelGroupId":0,"channelTermination":"","onuId":1,"onuSessionId":0,"adapterEndpoint":""}` + "\n"},
		{"ports", []string{"ports", "olt1"}, `PORT      LABEL   TYPE           ADMIN     OPER     PEERS          RX-PKTS   RX-BYTES   TX-PKTS   TX-BYTES   ERRORS
1         nni-0   ETHERNET_NNI   ENABLED   ACTIVE   -              3         204        5         340        1
2097153   pon-1   PON_OLT        ENABLED   ACTIVE   onu1:3145728   0         0          0         0          0
`},
		{"no ports", []string{"ports", "olt2"}, "PORT   LABEL   TYPE   ADMIN   OPER   PEERS   RX-PKTS   RX-BYTES   TX-PKTS   TX-BYTES   ERRORS\n"},
		{"flows", []string{"flows", "olt1"}, `PACKETS   BYTES   AGE     FLOW
7         448     1m15s   table=0, priority=1000, cookie=0x1, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535
0         0       -       table=0, priority=500, cookie=0x2, in_port=4112, vlan_vid=untagged, actions=push_vlan:0x8100,set_field:100->vlan_vid,output:1
`},
		{"flows format", []string{"flows", "olt1", "--format", "{{.Priority}} {{.Cookie}}"}, "1000 1\n500 2\n"},
		{"no groups", []string{"groups", "olt1", "-o", "json"}, "[]\n"},
		{"no meters", []string{"meters", "olt1"}, "METER   FLAGS   BANDS   FLOWS   PACKETS   BYTES\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveNBI(t, newFakeNBI())
			out, errOut, err := run(t, cli.NewDeviceCommand(), append(tt.args, "--server", addr)...)
			if err != nil {
				t.Fatalf("volt device %s: %v", strings.Join(tt.args, " "), err)
			}
			if out != tt.want || errOut != "" {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", out, tt.want, errOut)
			}
		})
	}
}

// -o json is a protojson array: lowerCamelCase names, enum names, every
// field; -o yaml the same as a sequence; get prints one object.
func TestDeviceJSONAndYAML(t *testing.T) {
	addr := serveNBI(t, newFakeNBI())

	out, _, err := run(t, cli.NewDeviceCommand(), "list", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var devices []map[string]any
	if err := json.Unmarshal([]byte(out), &devices); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(devices) != 3 {
		t.Fatalf("got %d devices, want 3", len(devices))
	}
	olt := devices[0]
	for key, want := range map[string]any{
		"id": "olt1", "type": "ponsim_olt", "root": true, "hostAndPort": "127.0.0.1:50060", "parentId": "",
		"adminState": "ADMIN_STATE_ENABLED", "operStatus": "OPER_STATUS_ACTIVE", "connectStatus": "CONNECT_STATUS_REACHABLE",
		"logicalDeviceId": ldID,
	} {
		if olt[key] != want {
			t.Errorf("json %s = %#v, want %#v", key, olt[key], want)
		}
	}

	out, _, err = run(t, cli.NewDeviceCommand(), "get", "onu1", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var onu voltv1.Device
	if err := protojsonUnmarshal(out, &onu); err != nil {
		t.Fatalf("get -o json is not a Device: %v\n%s", err, out)
	}
	if onu.GetId() != "onu1" || onu.GetProxyAddress().GetOnuId() != 1 {
		t.Errorf("get -o json: %v", &onu)
	}

	out, _, err = run(t, cli.NewDeviceCommand(), "ports", "onu1", "-o", "yaml", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- adminState: ADMIN_STATE_ENABLED\n", "  label: uni-0\n", "  portNo: 4112\n",
		"  type: PORT_TYPE_ETHERNET_UNI\n", "  peers:\n  - deviceId: olt1\n    portNo: 2097153\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("ports -o yaml lacks %q:\n%s", want, out)
		}
	}

	out, _, err = run(t, cli.NewDeviceCommand(), "flows", "olt1", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"type": "MATCH_FIELD_TYPE_ETH_TYPE"`, `"value": "34958"`, `"maxLen": 65535`, `"id": "11"`} {
		if !strings.Contains(out, want) {
			t.Errorf("flows -o json lacks %s:\n%s", want, out)
		}
	}
}

// create prints the new id alone, so that id=$(volt device create …) works.
func TestDeviceCreate(t *testing.T) {
	nbi := newFakeNBI()
	addr := serveNBI(t, nbi)
	tests := []struct {
		name   string
		args   []string
		want   string
		stored *voltv1.Device
	}{
		{"address, id from the core", []string{"--type", "ponsim_olt", "--address", "10.0.0.7:50060"}, "dev-1\n",
			&voltv1.Device{Id: "dev-1", Type: "ponsim_olt", Root: true, HostAndPort: "10.0.0.7:50060",
				AdminState: voltv1.AdminState_ADMIN_STATE_PREPROVISIONED}},
		{"mac, normalised, with an id", []string{"--type", "ponsim_olt", "--mac", "AA-BB-CC-00-00-09", "--id", "olt9"}, "olt9\n",
			&voltv1.Device{Id: "olt9", Type: "ponsim_olt", Root: true, MacAddress: "aa:bb:cc:00:00:09",
				AdminState: voltv1.AdminState_ADMIN_STATE_PREPROVISIONED}},
		{"format", []string{"--type", "ponsim_olt", "--address", "10.0.0.10:1", "--id", "olt10", "--format", "{{.Id}} {{.AdminState}}"},
			"olt10 ADMIN_STATE_PREPROVISIONED\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, cli.NewDeviceCommand(), append(append([]string{"create"}, tt.args...), "--server", addr)...)
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want || errOut != "" {
				t.Errorf("stdout %q, stderr %q; want stdout %q", out, errOut, tt.want)
			}
			if tt.stored == nil {
				return
			}
			nbi.Lock()
			got := nbi.Devices[tt.stored.GetId()]
			nbi.Unlock()
			if !proto.Equal(got, tt.stored) {
				t.Errorf("the core got\n%v\nwant\n%v", got, tt.stored)
			}
		})
	}

	// With -o json the device, as a protojson object.
	out, _, err := run(t, cli.NewDeviceCommand(), "create", "--type", "ponsim_olt", "--address", "10.0.0.11:2", "--id", "olt11",
		"-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var dev voltv1.Device
	if err := protojsonUnmarshal(out, &dev); err != nil || dev.GetId() != "olt11" || dev.GetHostAndPort() != "10.0.0.11:2" {
		t.Errorf("create -o json = %v (%v):\n%s", &dev, err, out)
	}
}

// enable, disable, reboot and delete print nothing on stdout and a short
// confirmation on stderr.
func TestDeviceOperations(t *testing.T) {
	nbi := newFakeNBI()
	addr := serveNBI(t, nbi)
	steps := []struct {
		args  []string
		want  string // stderr
		admin voltv1.AdminState
	}{
		{[]string{"enable", "olt2"}, "device olt2 enabled\n", voltv1.AdminState_ADMIN_STATE_ENABLED},
		{[]string{"reboot", "olt2"}, "device olt2 rebooting\n", voltv1.AdminState_ADMIN_STATE_ENABLED},
		{[]string{"disable", "olt2"}, "device olt2 disabled\n", voltv1.AdminState_ADMIN_STATE_DISABLED},
		{[]string{"delete", "olt2"}, "device olt2 deleted\n", voltv1.AdminState_ADMIN_STATE_UNSPECIFIED},
	}
	for _, s := range steps {
		out, errOut, err := run(t, cli.NewDeviceCommand(), append(s.args, "--server", addr)...)
		if err != nil {
			t.Fatalf("%v: %v", s.args, err)
		}
		if out != "" || errOut != s.want {
			t.Errorf("%v: stdout %q, stderr %q, want stderr %q", s.args, out, errOut, s.want)
		}
		nbi.Lock()
		got := nbi.Devices["olt2"].GetAdminState()
		nbi.Unlock()
		if got != s.admin {
			t.Errorf("%v: admin state %v, want %v", s.args, got, s.admin)
		}
	}
}

func TestDeviceErrors(t *testing.T) {
	addr := serveNBI(t, newFakeNBI())
	closed := closedAddr(t)
	tests := []struct {
		name string
		args []string
		want string // the whole error line
	}{
		{"unknown device", []string{"get", "nope"}, `NotFound: device "nope" not found`},
		{"ports of an unknown device", []string{"ports", "nope"}, `NotFound: device "nope" not found`},
		{"flows of an unknown device", []string{"flows", "nope", "-o", "json"}, `NotFound: device "nope" not found`},
		{"enable an enabled device", []string{"enable", "olt1"}, `FailedPrecondition: cannot enable device olt1: it is ADMIN_STATE_ENABLED`},
		{"delete an unknown device", []string{"delete", "nope"}, `NotFound: device "nope" not found`},
		{"unknown type", []string{"create", "--type", "cisco", "--address", "h:1"},
			`InvalidArgument: unknown device type "cisco" (registered by the adapters: ponsim_olt, ponsim_onu)`},
		{"duplicate id", []string{"create", "--type", "ponsim_olt", "--mac", "aa:bb:cc:dd:ee:03", "--id", "olt1"},
			`AlreadyExists: device "olt1" already exists`},
		{"get without id", []string{"get"}, "device get needs a device ID"},
		{"enable without id", []string{"enable"}, "device enable needs a device ID"},
		{"flows without id", []string{"flows"}, "device flows needs a device ID"},
		{"two ids", []string{"delete", "a", "b"}, "device delete takes a device ID, got 2 arguments: a b"},
		{"list takes no id", []string{"list", "olt1"}, `unknown command "olt1" for "device list"`},
		{"mistyped subcommand", []string{"lst"}, `unknown command "lst" for "device"`},
		{"bad output", []string{"list", "-o", "xml"}, `invalid --output "xml" (valid: table, json, yaml)`},
		{"unreachable", []string{"list", "--server", closed}, "cannot reach " + closed + ": connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !slices.Contains(args, "--server") {
				args = append(args, "--server", addr)
			}
			out, errOut, err := run(t, cli.NewDeviceCommand(), args...)
			if err == nil {
				t.Fatalf("no error; stdout %q", out)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || out != "" || errOut != "" {
				t.Errorf("not one line: error %q, stdout %q, stderr %q", err, out, errOut)
			}
		})
	}
}

// Bad create flags are refused before anything is sent.
func TestDeviceCreateChecksFlags(t *testing.T) {
	nbi := newFakeNBI()
	addr := serveNBI(t, nbi)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--address", "h:1"}, "device create needs --type (see volt devicetype list)"},
		{[]string{"--type", "ponsim_olt"}, "device create needs --address HOST:PORT or --mac MAC"},
		{[]string{"--type", "ponsim_olt", "--address", "h:1", "--mac", "aa:bb:cc:dd:ee:ff"},
			"device create takes --address or --mac, not both"},
		{[]string{"--type", "ponsim_olt", "--address", "localhost"}, `invalid --address "localhost": want HOST:PORT`},
		{[]string{"--type", "ponsim_olt", "--mac", "aa:bb"}, `invalid --mac "aa:bb": want six hex octets, aa:bb:cc:dd:ee:ff`},
		{[]string{"--type", "ponsim_olt", "--mac", "aa:bb:cc:dd:ee:ff", "-o", "toml"}, `invalid --output "toml" (valid: table, json, yaml)`},
		{[]string{"extra", "--type", "ponsim_olt"}, `unknown command "extra" for "device create"`},
	}
	for _, tt := range tests {
		out, errOut, err := run(t, cli.NewDeviceCommand(), append(append([]string{"create"}, tt.args...), "--server", addr)...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("create %v: error %v, want %q", tt.args, err, tt.want)
		}
		if out != "" || errOut != "" {
			t.Errorf("create %v printed: stdout %q, stderr %q", tt.args, out, errOut)
		}
	}
	nbi.Lock()
	defer nbi.Unlock()
	if nbi.Creates != 0 {
		t.Errorf("%d CreateDevice calls reached the server", nbi.Creates)
	}
}

func protojsonUnmarshal(s string, m proto.Message) error {
	return protojson.Unmarshal([]byte(s), m)
}
