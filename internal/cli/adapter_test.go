package cli_test

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/cli"
)

func TestAdapterAndDeviceTypeCommands(t *testing.T) {
	tests := []struct {
		name string
		cmd  func() *cobra.Command
		args []string
		want string
	}{
		// ponsim_olt was seen 90s ago; ponsim_onu long ago, so its time shows.
		{"adapters", cli.NewAdapterCommand, []string{"list"}, `ID           VENDOR     VERSION   ENDPOINT     GRPC              TYPES        LAST-SEEN
ponsim_olt   OpenVOLT   0.1.0     ponsim_olt   127.0.0.1:50061   ponsim_olt   1m ago
ponsim_onu   OpenVOLT   0.1.0     ponsim_onu   -                 ponsim_onu   2026-01-02T03:04:05Z
`},
		{"adapters format", cli.NewAdapterCommand, []string{"list", "--format", "{{.Id}} {{.Endpoint}} {{index .DeviceTypes 0}}"},
			"ponsim_olt ponsim_olt ponsim_olt\nponsim_onu ponsim_onu ponsim_onu\n"},
		{"device types", cli.NewDeviceTypeCommand, []string{"list"}, `ID           ADAPTER      BULK    INCREMENTAL   OPERATIONS
ponsim_olt   ponsim_olt   true    false         AdoptDevice,DisableDevice,ReenableDevice,RebootDevice
ponsim_onu   ponsim_onu   false   true          -
`},
		{"device types yaml", cli.NewDeviceTypeCommand, []string{"list", "-o", "yaml"}, `- acceptsAddRemoveFlowUpdates: false
  acceptsBulkFlowUpdate: true
  adapter: ponsim_olt
  id: ponsim_olt
  operations:
  - AdoptDevice
  - DisableDevice
  - ReenableDevice
  - RebootDevice
  vendorId: ""
  vendorIds: []
- acceptsAddRemoveFlowUpdates: true
  acceptsBulkFlowUpdate: false
  adapter: ponsim_onu
  id: ponsim_onu
  operations: []
  vendorId: ""
  vendorIds: []
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveNBI(t, newFakeNBI())
			out, errOut, err := run(t, tt.cmd(), append(tt.args, "--server", addr)...)
			if err != nil {
				t.Fatalf("%s: %v", strings.Join(tt.args, " "), err)
			}
			if out != tt.want || errOut != "" {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", out, tt.want, errOut)
			}
		})
	}
}

func TestAdapterJSON(t *testing.T) {
	addr := serveNBI(t, newFakeNBI())
	out, _, err := run(t, cli.NewAdapterCommand(), "list", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[\n  {\n", `"deviceTypes": [`, `"lastSeen": "2026-01-02T03:04:05Z"`, `"currentReplica": 0`} {
		if !strings.Contains(out, want) {
			t.Errorf("-o json lacks %q:\n%s", want, out)
		}
	}
}

// The client flags of adapter sit on list, leaving room for the adapter
// daemons to hang off the same command with flags of their own.
func TestAdapterFlagsOnList(t *testing.T) {
	cmd := cli.NewAdapterCommand()
	if cmd.PersistentFlags().Lookup("server") != nil || cmd.PersistentFlags().Lookup("output") != nil {
		t.Error("adapter has persistent client flags")
	}
	list, _, err := cmd.Find([]string{"list"})
	if err != nil || list.Flags().Lookup("server") == nil || list.Flags().Lookup("output") == nil {
		t.Errorf("adapter list lacks --server or -o (%v)", err)
	}
}
