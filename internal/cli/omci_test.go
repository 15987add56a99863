package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
)

// omciNBI is the fake NBI with one OMCI ONU's records (onu1), as the
// omci_onu adapter stores them.
func omciNBI() *nbitest.Fake {
	f := newFakeNBI()
	f.MIBs = map[string][]byte{"onu1": []byte(`{"mib_data_sync": 9, "vendor": "PSMO", "version": "ponsim-1.0",
		"equipment_id": "PONSIM-ONU", "entities": [{"class": 256, "class_name": "OnuG", "instance": 0,
		"attributes": {"VendorId": "PSMO", "AdministrativeState": 0}}]}`)}
	f.OMCIStats = map[string][]byte{"onu1": []byte(`{"Sent": 206, "Received": 206, "Retries": 1,
		"LastError": "Get Request: no response", "updated": "2026-12-07T10:00:00Z"}`)}
	return f
}

func TestDeviceMibAndOmci(t *testing.T) {
	addr := serveNBI(t, omciNBI())

	out, _, err := run(t, cli.NewDeviceCommand(), "mib", "onu1", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vendor PSMO", "mib-data-sync 9", "CLASS", "256", "OnuG", "0x0000", "AdministrativeState=0 VendorId=PSMO"} {
		if !strings.Contains(out, want) {
			t.Errorf("mib table lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, cli.NewDeviceCommand(), "mib", "onu1", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mib map[string]any
	if err := json.Unmarshal([]byte(out), &mib); err != nil || mib["equipmentId"] != "PONSIM-ONU" {
		t.Errorf("mib -o json: %v\n%s", err, out)
	}
	if _, _, err := run(t, cli.NewDeviceCommand(), "mib", "olt1", "--server", addr); err == nil ||
		!strings.HasPrefix(err.Error(), "FailedPrecondition: device olt1 has no MIB") {
		t.Errorf("mib of an OLT: %v, want one FailedPrecondition line", err)
	}
	out, _, err = run(t, cli.NewDeviceCommand(), "omci", "onu1", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SENT", "RETRIES", "206", "Get Request: no response"} {
		if !strings.Contains(out, want) {
			t.Errorf("omci table lacks %q:\n%s", want, out)
		}
	}
}
