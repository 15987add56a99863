package omcionu_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestONUsActiveAfterMIBSync brings 2 PONs x 3 ONUs (2 UNIs each) up over
// OMCI: each ONU becomes ACTIVE only with its MIB synchronised and its base
// configuration downloaded, with its identity from ONU-G/ONU2-G and two UNI
// logical ports; the MIB one ONU reported matches the golden file. Then
// the ONU adapter restarts: it audits (one MIB data sync get per ONU) and
// uploads nothing again.
func TestONUsActiveAfterMIBSync(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second, Retries: 2})
	p := s.newSim(2, 3, 2, 0)
	olt := s.create(p.addr)
	s.waitONUs(olt, 6, 2, omcionu.ReasonMibDownload)

	var one *voltv1.Device
	for _, k := range s.children(olt) {
		if k.GetVendor() == "" || k.GetModel() == "" || k.GetFirmwareVersion() == "" {
			t.Errorf("ONU %s: vendor %q model %q firmware %q: want the ONU-G / ONU2-G / software image values",
				k.GetSerialNumber(), k.GetVendor(), k.GetModel(), k.GetFirmwareVersion())
		}
		if len(k.GetSerialNumber()) != 12 {
			t.Errorf("ONU %s: serial %q: want the 12 characters of its discovery, kept when OMCI fills the rest", k.GetId(), k.GetSerialNumber())
		}
		ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: k.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		unis := 0
		for _, port := range ps.GetItems() {
			if port.GetType() == voltv1.PortType_PORT_TYPE_ETHERNET_UNI {
				unis++
			}
		}
		if unis != 2 {
			t.Errorf("ONU %s: %d UNI ports, want 2", k.GetSerialNumber(), unis)
		}
		if one == nil || s.mibSerial(k.GetId()) < s.mibSerial(one.GetId()) {
			one = k
		}
	}
	golden(t, "testdata/mib.golden", s.mib(one.GetId()))

	// The NBI shows the MIB and the counters; the OLT has neither.
	mib, err := s.nbi.GetDeviceMib(s.ctx(), &voltv1.ID{Id: one.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if len(mib.GetEntities()) < 50 || mib.GetVendor() != "PSMO" || mib.GetEquipmentId() != "PONSIM-ONU" {
		t.Errorf("NBI MIB: vendor %q equipment %q, %d entities", mib.GetVendor(), mib.GetEquipmentId(), len(mib.GetEntities()))
	}
	st, err := s.nbi.GetDeviceOmci(s.ctx(), &voltv1.ID{Id: one.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetSent() < uint64(len(mib.GetEntities())) || st.GetReceived() != st.GetSent() || st.GetTimeouts() != 0 {
		t.Errorf("NBI OMCI counters %v: want every request answered, none timed out", st)
	}
	if _, err := s.nbi.GetDeviceMib(s.ctx(), &voltv1.ID{Id: olt}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("MIB of the OLT: %v, want FailedPrecondition", err)
	}

	// Restart the ONU adapter: the stored MIBs are audited, not uploaded.
	before := p.face.OMCICounters().Sent
	s.onuAd.stop(t, "omci_onu adapter")
	s.startONUAdapter()
	// Reconcile after the restart reports the ONUs again; wait until every
	// ONU answered its audit.
	testkit.Eventually(t, "audit after the adapter restart", func() error {
		sent := p.face.OMCICounters().Sent - before
		if sent < 6 {
			return fmt.Errorf("%d OMCI responses since the restart, want one audit per ONU (6)", sent)
		}
		return nil
	})
	s.waitONUs(olt, 6, 2, omcionu.ReasonMibDownload)
	if sent := p.face.OMCICounters().Sent - before; sent != 6 {
		t.Errorf("%d OMCI responses after the restart, want 6 (one MIB data sync get per ONU, no upload)", sent)
	}
}

// mibSerial is the serial number in the stored ONU-G of dev: the golden
// file's ONU is the one with the lowest (the ONU ids the OLT hands out
// follow the order of discovery).
func (s *stack) mibSerial(dev string) string {
	var rec struct {
		Entities []struct {
			Class      int            `json:"class"`
			Attributes map[string]any `json:"attributes"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(s.mib(dev), &rec); err != nil {
		s.t.Fatal(err)
	}
	for _, e := range rec.Entities {
		if e.Class == 256 {
			sn, _ := e.Attributes["SerialNumber"].(string)
			return sn
		}
	}
	return ""
}

// mib is the stored MIB of an ONU, identity fields replaced by their
// names so that the golden does not depend on serial numbers.
func (s *stack) mib(dev string) []byte {
	s.t.Helper()
	kv, err := s.kv.Get(s.ctx(), "/volt/omci_onu/"+dev+"/mib")
	if err != nil {
		s.t.Fatalf("stored MIB of %s: %v", dev, err)
	}
	var v any
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		s.t.Fatal(err)
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	got = append(bytes.TrimSpace(got), '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs: %d lines, want %d", path, len(gl), len(wl))
	}
}
