package omcisim

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{SerialNumber: "PSMO0001"},
		{SerialNumber: "psmo00000001"},
		{SerialNumber: "PSMO0000000Z"},
		{SerialNumber: "PSMO00000001", UNIs: 9},
		{SerialNumber: "PSMO00000001", TConts: -1},
		{SerialNumber: "PSMO00000001", EquipmentID: "an equipment id far too long"},
	} {
		if _, err := New(cfg, Hooks{}); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestMIBResetAndUpload(t *testing.T) {
	for _, tc := range []struct {
		unis, tconts int
		want         int // upload next messages
	}{
		{unis: 1, want: 195},
		{unis: 4, want: 249},
		{unis: 4, tconts: 4, want: 177},
	} {
		c := newOLT(t, Config{UNIs: tc.unis, TConts: tc.tconts}, Hooks{})
		if r := c.mibReset(); r.Result != me.Success {
			t.Fatalf("MIB reset: %v", r.Result)
		}
		mes := c.upload()
		if len(mes) != tc.want {
			t.Errorf("%d UNIs, %d T-CONTs: %d upload next messages, want %d", tc.unis, tc.tconts, len(mes), tc.want)
		}
		if mes[0].GetClassID() != me.OnuDataClassID {
			t.Errorf("first uploaded ME is %v, want ONU data", mes[0].GetClassID())
		}
		count := map[me.ClassID]map[uint16]bool{}
		for _, m := range mes {
			if count[m.GetClassID()] == nil {
				count[m.GetClassID()] = map[uint16]bool{}
			}
			count[m.GetClassID()][m.GetEntityID()] = true
		}
		tconts := tc.tconts
		if tconts == 0 {
			tconts = 8
		}
		for class, n := range map[me.ClassID]int{
			me.PhysicalPathTerminationPointEthernetUniClassID: tc.unis,
			me.UniGClassID:             tc.unis,
			me.TContClassID:            tconts,
			me.TrafficSchedulerClassID: tconts,
			me.PriorityQueueClassID:    8*tconts + 8*tc.unis,
			me.SoftwareImageClassID:    2,
			me.AniGClassID:             1,
			me.Onu2GClassID:            1,
			me.IpHostConfigDataClassID: 1,
			me.CircuitPackClassID:      2,
		} {
			if len(count[class]) != n {
				t.Errorf("%d UNIs: %d instances of %v uploaded, want %d", tc.unis, len(count[class]), class, n)
			}
		}
		// Past the end: an empty entry, not silence.
		out, err := c.onu.Handle(c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(uint16(len(mes)))))
		if err != nil || len(out) != 1 || out[0][2] != byte(omci.MibUploadNextResponseType) {
			t.Errorf("upload next past the end: %x, %v", out, err)
		}
	}
}

// TestUploadMatchesMIB checks the fast upload next encoder against the MIB as omci-lib-go decodes
// it: every readable attribute of every instance arrives with its value.
func TestUploadMatchesMIB(t *testing.T) {
	c := newOLT(t, Config{UNIs: 2}, Hooks{})
	got := FormatUpload(c.upload())
	c.onu.mu.Lock()
	var want []me.ManagedEntity
	add := func(e *entity) {
		av := me.AttributeValueMap{}
		for i := range e.lay.attrs {
			if a := &e.lay.attrs[i]; a.read && !a.table {
				av[a.def.Name] = a.value(e.get(a))
			}
		}
		m, _ := me.NewManagedEntity(e.lay.def, me.ParamData{EntityID: e.inst, Attributes: av})
		want = append(want, *m)
	}
	add(c.onu.mib.find(me.OnuDataClassID, 0))
	for i := range c.onu.mib.ents {
		if e := &c.onu.mib.ents[i]; e.lay.id != me.OnuDataClassID {
			add(e)
		}
	}
	c.onu.mu.Unlock()
	if diff := cmp.Diff(FormatUpload(want), got); diff != "" {
		t.Errorf("upload differs from the MIB (-mib +upload):\n%s", diff)
	}
}

func TestMIBUploadGolden(t *testing.T) {
	c := newOLT(t, Config{UNIs: 4}, Hooks{})
	c.mibReset()
	got := FormatUpload(c.upload())
	path := filepath.Join("testdata", "mib_upload_4uni.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("MIB upload differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestGet(t *testing.T) {
	c := newOLT(t, Config{UNIs: 4}, Hooks{})
	for _, tc := range []struct {
		name        string
		class       me.ClassID
		inst, mask  uint16
		result      me.Results
		mask2       uint16 // attribute mask of the answer
		unsupported uint16
		failed      uint16
		attrs       me.AttributeValueMap
	}{
		{name: "ONU-G vendor and serial", class: me.OnuGClassID, mask: 0xa000, mask2: 0xa000,
			attrs: me.AttributeValueMap{me.OnuG_VendorId: []byte("PSMO"), me.OnuG_SerialNumber: []byte{'P', 'S', 'M', 'O', 0, 0, 0, 1}}},
		{name: "software image 1", class: me.SoftwareImageClassID, inst: 1, mask: 0x7000, mask2: 0x7000,
			attrs: me.AttributeValueMap{me.SoftwareImage_IsCommitted: uint8(0), me.SoftwareImage_IsActive: uint8(0), me.SoftwareImage_IsValid: uint8(1)}},
		{name: "T-CONT alloc id", class: me.TContClassID, inst: TContID(0), mask: 0x8000, mask2: 0x8000,
			attrs: me.AttributeValueMap{me.TCont_AllocId: uint16(0xffff)}},
		{name: "too large for one frame", class: me.OnuGClassID, mask: 0xe000, result: me.AttributeFailure, mask2: 0xc000, failed: 0x2000},
		{name: "attribute the class lacks", class: me.OnuDataClassID, mask: 0xc000, result: me.AttributeFailure, mask2: 0x8000, unsupported: 0x4000},
		{name: "unknown instance", class: me.TContClassID, inst: 0x0999, mask: 0x8000, result: me.UnknownInstance},
		{name: "unknown class", class: 4242, mask: 0x8000, result: me.UnknownEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := &omci.OMCI{TransactionID: 0x1234, MessageType: omci.GetRequestType, DeviceIdentifier: omci.BaselineIdent}
			req := rawRequest(hdr, tc.class, tc.inst, []byte{byte(tc.mask >> 8), byte(tc.mask)})
			out, err := c.onu.Handle(req)
			if err != nil || len(out) != 1 {
				t.Fatalf("Handle: %d frames, %v", len(out), err)
			}
			if out[0][0] != 0x12 || out[0][1] != 0x34 {
				t.Errorf("TCI %x, want 1234", out[0][:2])
			}
			if tc.result == me.UnknownEntity || tc.result == me.UnknownInstance {
				if out[0][2] != byte(omci.GetResponseType) || me.Results(out[0][8]) != tc.result {
					t.Errorf("answer %x, want get response with result %v", out[0][:9], tc.result)
				}
				return
			}
			_, l := decode(t, out[0])
			r, ok := l.(*omci.GetResponse)
			if !ok {
				t.Fatalf("answer %T", l)
			}
			if r.Result != tc.result || r.AttributeMask != tc.mask2 || r.UnsupportedAttributeMask != tc.unsupported || r.FailedAttributeMask != tc.failed {
				t.Errorf("result %v mask %#x unsupported %#x failed %#x, want %v %#x %#x %#x",
					r.Result, r.AttributeMask, r.UnsupportedAttributeMask, r.FailedAttributeMask, tc.result, tc.mask2, tc.unsupported, tc.failed)
			}
			for name, v := range tc.attrs {
				if diff := cmp.Diff(v, r.Attributes[name]); diff != "" {
					t.Errorf("%s: %s", name, diff)
				}
			}
		})
	}
}

// rawRequest builds a baseline request by hand (for classes omci-lib-go cannot encode).
func rawRequest(h *omci.OMCI, class me.ClassID, inst uint16, contents []byte) []byte {
	b := make([]byte, 44)
	b[0], b[1], b[2], b[3] = byte(h.TransactionID>>8), byte(h.TransactionID), byte(h.MessageType), byte(omci.BaselineIdent)
	b[4], b[5], b[6], b[7] = byte(class>>8), byte(class), byte(inst>>8), byte(inst)
	copy(b[8:40], contents)
	b[43] = 40
	return b
}

// TestGetFastPathMatchesLibrary compares the direct get encoder with omci-lib-go's.
func TestGetFastPathMatchesLibrary(t *testing.T) {
	c := newOLT(t, Config{UNIs: 1}, Hooks{})
	c.onu.mu.Lock()
	defer c.onu.mu.Unlock()
	n := 0
	for i := range c.onu.mib.ents {
		e := &c.onu.mib.ents[i]
		if !e.lay.supports(me.Get) {
			continue
		}
		for j := range e.lay.attrs {
			a := &e.lay.attrs[j]
			h := header{tid: 7, mt: byte(me.Get) | me.AR, class: e.lay.id, inst: e.inst}
			fast := getFrame(&h, e, a.mask)
			if fast == nil {
				continue
			}
			resp := &omci.GetResponse{MeBasePacket: h.base(), Result: me.Success, AttributeMask: a.mask,
				Attributes: me.AttributeValueMap{a.def.Name: a.value(e.get(a))}}
			lib, err := encode(7, omci.GetResponseType, false, resp)
			if err != nil {
				t.Fatalf("%s.%s: %v", e.lay.name, a.def.Name, err)
			}
			if diff := cmp.Diff(lib, fast); diff != "" {
				t.Errorf("%s.%s: fast get differs from omci-lib-go (-lib +fast):\n%s", e.lay.name, a.def.Name, diff)
			}
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d attributes compared", n)
	}
}

func TestSetCreateDeleteSyncCounter(t *testing.T) {
	var changed int
	c := newOLT(t, Config{UNIs: 1}, Hooks{Changed: func() { changed++ }})
	if got := c.mibDataSync(); got != 0 {
		t.Fatalf("MIB data sync after power-up %d, want 0", got)
	}
	steps := []struct {
		name   string
		do     func() me.Results
		want   me.Results
		sync   uint8
		change int
	}{
		{"set T-CONT alloc id", func() me.Results {
			r, _ := c.set(me.TContClassID, TContID(0), me.AttributeValueMap{me.TCont_AllocId: uint16(1024)})
			return r.Result
		}, me.Success, 1, 1},
		{"create GEM port", func() me.Results {
			return c.create(me.GemPortNetworkCtpClassID, 0x0400, gemAttrs(1024, TContID(0))).Result
		}, me.Success, 2, 2},
		{"create it again", func() me.Results {
			return c.create(me.GemPortNetworkCtpClassID, 0x0400, gemAttrs(1024, TContID(0))).Result
		}, me.InstanceExists, 2, 2},
		{"create another with the same GEM port id", func() me.Results {
			return c.create(me.GemPortNetworkCtpClassID, 0x0401, gemAttrs(1024, TContID(0))).Result
		}, me.ParameterError, 2, 2},
		{"set ONU2-G security mode (no service change)", func() me.Results {
			r, _ := c.set(me.Onu2GClassID, 0, me.AttributeValueMap{me.Onu2G_SecurityMode: uint8(1)})
			return r.Result
		}, me.Success, 3, 2},
		{"delete GEM port", func() me.Results { return c.delete(me.GemPortNetworkCtpClassID, 0x0400).Result }, me.Success, 4, 3},
		{"delete it again", func() me.Results { return c.delete(me.GemPortNetworkCtpClassID, 0x0400).Result }, me.UnknownInstance, 4, 3},
		{"delete an ONU-created ME", func() me.Results { return c.rawResult(omci.DeleteRequestType, me.TContClassID, TContID(0)) }, me.NotSupported, 4, 3},
		{"create an ONU-created ME", func() me.Results { return c.rawResult(omci.CreateRequestType, me.TContClassID, TContID(9)) }, me.NotSupported, 4, 3},
	}
	for _, s := range steps {
		if got := s.do(); got != s.want {
			t.Errorf("%s: result %v, want %v", s.name, got, s.want)
		}
		if got := c.mibDataSync(); got != s.sync {
			t.Errorf("%s: MIB data sync %d, want %d", s.name, got, s.sync)
		}
		if changed != s.change {
			t.Errorf("%s: Changed called %d times, want %d", s.name, changed, s.change)
		}
	}
	// The sync counter wraps from 255 to 1, never 0.
	c.set(me.OnuDataClassID, 0, me.AttributeValueMap{me.OnuData_MibDataSync: uint8(255)})
	if got := c.mibDataSync(); got != 255 {
		t.Fatalf("MIB data sync set to 255 reads %d", got)
	}
	c.set(me.TContClassID, TContID(1), me.AttributeValueMap{me.TCont_AllocId: uint16(1025)})
	if got := c.mibDataSync(); got != 1 {
		t.Errorf("MIB data sync after 255 is %d, want 1", got)
	}
}

// rawResult sends a hand-built request (one omci-lib-go refuses to build) and returns the result.
func (c *olt) rawResult(mt omci.MessageType, class me.ClassID, inst uint16) me.Results {
	c.t.Helper()
	out, err := c.onu.Handle(rawRequest(&omci.OMCI{TransactionID: c.nextTID(), MessageType: mt}, class, inst, nil))
	if err != nil || len(out) != 1 || out[0][2] != byte(mt)&^me.AR|me.AK {
		c.t.Fatalf("%v: %x, %v", mt, out, err)
	}
	return me.Results(out[0][8])
}

func gemAttrs(port, tcont uint16) me.AttributeValueMap {
	return me.AttributeValueMap{
		me.GemPortNetworkCtp_PortId:                                       port,
		me.GemPortNetworkCtp_TContPointer:                                 tcont,
		me.GemPortNetworkCtp_Direction:                                    uint8(3),
		me.GemPortNetworkCtp_TrafficManagementPointerForUpstream:          upstreamQueueID(&Config{QueuesPerTCont: 8}, 0, 0),
		me.GemPortNetworkCtp_PriorityQueuePointerForDownStream:            uint16(0),
		me.GemPortNetworkCtp_TrafficDescriptorProfilePointerForUpstream:   uint16(0),
		me.GemPortNetworkCtp_TrafficDescriptorProfilePointerForDownstream: uint16(0),
		me.GemPortNetworkCtp_EncryptionKeyRing:                            uint8(0),
	}
}

func TestSetErrors(t *testing.T) {
	c := newOLT(t, Config{UNIs: 1}, Hooks{})
	hdr := &omci.OMCI{TransactionID: 9, MessageType: omci.SetRequestType}
	for _, tc := range []struct {
		name     string
		class    me.ClassID
		inst     uint16
		contents []byte
		result   me.Results
		failed   uint16
		unsupp   uint16
	}{
		{"read-only attribute", me.OnuGClassID, 0, []byte{0x80, 0, 'X', 'X', 'X', 'X'}, me.ParameterError, 0, 0},
		{"attribute the class lacks", me.OnuDataClassID, 0, []byte{0x40, 0, 1}, me.AttributeFailure, 0, 0x4000},
		{"unknown instance", me.TContClassID, 0x8099, []byte{0x80, 0, 4, 0}, me.UnknownInstance, 0, 0},
		{"unknown class", 4242, 0, []byte{0x80, 0, 4, 0}, me.UnknownEntity, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.mibDataSync()
			out, err := c.onu.Handle(rawRequest(hdr, tc.class, tc.inst, tc.contents))
			if err != nil || len(out) != 1 {
				t.Fatalf("Handle: %d frames, %v", len(out), err)
			}
			if out[0][2] != byte(omci.SetResponseType) || me.Results(out[0][8]) != tc.result {
				t.Fatalf("answer %x, want set response with result %v", out[0][:9], tc.result)
			}
			if tc.result == me.AttributeFailure {
				_, l := decode(t, out[0])
				r := l.(*omci.SetResponse)
				if r.FailedAttributeMask != tc.failed || r.UnsupportedAttributeMask != tc.unsupp {
					t.Errorf("failed %#x unsupported %#x, want %#x %#x", r.FailedAttributeMask, r.UnsupportedAttributeMask, tc.failed, tc.unsupp)
				}
			}
			if got := c.mibDataSync(); got != before {
				t.Errorf("MIB data sync moved %d → %d on a failed set", before, got)
			}
		})
	}
}

func TestLockUnlockHooksAndAlarms(t *testing.T) {
	type ev struct {
		uni    int
		locked bool
	}
	var evs []ev
	var c *olt
	c = newOLT(t, Config{UNIs: 4}, Hooks{UNIAdmin: func(u int, l bool) {
		evs = append(evs, ev{u, l})
		// Hooks run without the ONU's lock: calling back into it must not deadlock.
		if got := c.onu.Service().UNIs[u].AdminLocked; got != l {
			t.Errorf("UNIAdmin(%d, %v) but Service says locked=%v", u, l, got)
		}
	}})
	alarmsOf := func(frames [][]byte) map[uint16]bool {
		t.Helper()
		got := map[uint16]bool{}
		for _, f := range frames {
			hdr, l := decode(t, f)
			a, ok := l.(*omci.AlarmNotificationMsg)
			if !ok || hdr.TransactionID != 0 || a.EntityClass != me.PhysicalPathTerminationPointEthernetUniClassID {
				t.Fatalf("notification %T tid %d", l, hdr.TransactionID)
			}
			got[a.EntityInstance] = a.AlarmBitmap[0]&0x80 != 0
		}
		return got
	}
	// Lock the ONU, then each PPTP: the ONU-G lock locks all four UNIs at once.
	_, more := c.set(me.OnuGClassID, 0, me.AttributeValueMap{me.OnuG_AdministrativeState: uint8(1)})
	if diff := cmp.Diff(map[uint16]bool{0x101: true, 0x102: true, 0x103: true, 0x104: true}, alarmsOf(more)); diff != "" {
		t.Errorf("ONU-G lock alarms: %s", diff)
	}
	for u := range 4 {
		if _, more := c.set(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u), me.AttributeValueMap{
			me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: uint8(1)}); len(more) != 0 {
			t.Errorf("PPTP %d lock under a locked ONU-G sent %d notifications", u, len(more))
		}
	}
	_, more = c.set(me.OnuGClassID, 0, me.AttributeValueMap{me.OnuG_AdministrativeState: uint8(0)})
	if len(more) != 0 {
		t.Errorf("ONU-G unlock with PPTPs locked sent %d notifications", len(more))
	}
	// Unlock each PPTP: its LOS clears.
	for u := range 4 {
		_, more := c.set(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u), me.AttributeValueMap{
			me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: uint8(0)})
		if diff := cmp.Diff(map[uint16]bool{PPTPID(u): false}, alarmsOf(more)); diff != "" {
			t.Errorf("PPTP %d unlock alarms: %s", u, diff)
		}
	}
	want := []ev{{0, true}, {1, true}, {2, true}, {3, true}, {0, false}, {1, false}, {2, false}, {3, false}}
	if diff := cmp.Diff(want, evs, cmp.AllowUnexported(ev{})); diff != "" {
		t.Errorf("UNIAdmin calls (-want +got):\n%s", diff)
	}
	// Link loss while unlocked raises LOS; get all alarms reports it.
	if got := alarmsOf(c.onu.SetUNILoss(2, true)); !got[PPTPID(2)] || len(got) != 1 {
		t.Errorf("SetUNILoss(2, true): %v", got)
	}
	if got := c.onu.SetUNILoss(2, true); len(got) != 0 {
		t.Errorf("SetUNILoss again sent %d notifications", len(got))
	}
	l, _ := c.do(c.frame(omci.GetAllAlarmsRequestType, me.OnuDataClassID, 0, nil, meframe.RetrievalMode(0)))
	if r, ok := l.(*omci.GetAllAlarmsResponse); !ok || r.NumberOfCommands != 1 {
		t.Fatalf("get all alarms: %v", l)
	}
	l, _ = c.do(c.frame(omci.GetAllAlarmsNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(0)))
	if r, ok := l.(*omci.GetAllAlarmsNextResponse); !ok || r.AlarmEntityInstance != PPTPID(2) || r.AlarmBitMap[0] != 0x80 {
		t.Errorf("get all alarms next: %v", l)
	}
	if s := c.onu.Service(); !s.UNIs[2].LinkLoss || s.UNIs[2].AdminLocked {
		t.Errorf("service UNI 2: %+v", s.UNIs[2])
	}
	// The PPTP's operational state follows: disabled while LOS, enabled again when the link is back.
	opState := func() uint8 {
		r := c.get(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(2), 0x0400)
		v, _ := r.Attributes[me.PhysicalPathTerminationPointEthernetUni_OperationalState].(uint8)
		return v
	}
	if got := opState(); got != 1 {
		t.Errorf("operational state with LOS %d, want 1 (disabled)", got)
	}
	if got := alarmsOf(c.onu.SetUNILoss(2, false)); got[PPTPID(2)] || len(got) != 1 {
		t.Errorf("SetUNILoss(2, false): %v", got)
	}
	if got := opState(); got != 0 {
		t.Errorf("operational state after the link is back %d, want 0", got)
	}
}

func TestRebootAndResetRestoreFactoryMIB(t *testing.T) {
	var locks []bool
	var changed, rebooted int
	c := newOLT(t, Config{UNIs: 1}, Hooks{
		UNIAdmin: func(_ int, l bool) { locks = append(locks, l) },
		Changed:  func() { changed++ },
		Rebooted: func() { rebooted++ },
	})
	factory := c.onu.DumpMIB()
	for _, how := range []string{"mib reset", "reboot request", "Reboot"} {
		locks, changed = nil, 0
		c.set(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(0), me.AttributeValueMap{
			me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: uint8(1)})
		c.set(me.TContClassID, TContID(0), me.AttributeValueMap{me.TCont_AllocId: uint16(1024)})
		c.create(me.GemPortNetworkCtpClassID, 0x0400, gemAttrs(1024, TContID(0)))
		switch how {
		case "mib reset":
			c.mibReset()
		case "reboot request":
			l, _ := c.do(c.frame(omci.RebootRequestType, me.OnuGClassID, 0, nil))
			if r, ok := l.(*omci.RebootResponse); !ok || r.Result != me.Success {
				t.Fatalf("reboot: %v", l)
			}
		case "Reboot":
			c.onu.Reboot()
		}
		if diff := cmp.Diff(factory, c.onu.DumpMIB()); diff != "" {
			t.Errorf("%s: MIB is not the factory MIB:\n%s", how, diff)
		}
		if diff := cmp.Diff([]bool{true, false}, locks); diff != "" {
			t.Errorf("%s: UNIAdmin: %s", how, diff)
		}
		if changed != 3 { // T-CONT set, GEM create, reset
			t.Errorf("%s: Changed %d times, want 3", how, changed)
		}
		if s := c.onu.Service(); len(s.TConts)+len(s.GemPorts) != 0 {
			t.Errorf("%s: service left: %+v", how, s)
		}
	}
	if rebooted != 1 {
		t.Errorf("Rebooted called %d times, want 1 (only for the OMCI reboot request)", rebooted)
	}
}

func TestUnsupportedAndMalformed(t *testing.T) {
	c := newOLT(t, Config{UNIs: 1}, Hooks{})
	good := c.frame(omci.MibResetRequestType, me.OnuDataClassID, 0, nil)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name      string
		req       []byte
		malformed bool
		answer    byte       // message type of the answer, 0 for none
		result    me.Results // of the answer
	}{
		{"empty", nil, true, 0, 0},
		{"short header", good[:6], true, 0, 0},
		{"short baseline", good[:30], true, byte(omci.MibResetResponseType), me.ProcessingError},
		{"bad baseline length field", mut(func(b []byte) []byte { b[43] = 41; return b }), true, byte(omci.MibResetResponseType), me.ProcessingError},
		{"bad device identifier", mut(func(b []byte) []byte { b[3] = 0x0c; return b }), true, 0, 0},
		{"a response, not a request", mut(func(b []byte) []byte { b[2] = byte(omci.MibResetResponseType); return b }), true, 0, 0},
		{"transaction id 0", mut(func(b []byte) []byte { b[0], b[1] = 0, 0; return b }), true, 0, 0},
		{"unknown message type", mut(func(b []byte) []byte { b[2] = me.AR | 3; return b }), true, me.AK | 3, me.NotSupported},
		{"test (not implemented)", mut(func(b []byte) []byte { b[2] = me.AR | byte(me.Test); b[4], b[5] = 1, 0; return b }), false, me.AK | byte(me.Test), me.NotSupported},
		{"MIB reset on the wrong class", mut(func(b []byte) []byte { b[4], b[5] = 1, 0; return b }), false, byte(omci.MibResetResponseType), me.NotSupported},
		{"extended, length past the end", []byte{0, 1, byte(omci.GetRequestType), 0x0b, 1, 0, 0, 0, 0, 9, 0x80}, true, byte(omci.GetResponseType), me.ProcessingError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.onu.Counters()
			out, err := c.onu.Handle(tc.req)
			if got := errors.Is(err, ErrMalformed); got != tc.malformed {
				t.Errorf("error %v, malformed %v", err, tc.malformed)
			}
			if got := c.onu.Counters().Malformed - before.Malformed; (got == 1) != tc.malformed {
				t.Errorf("malformed counter moved by %d", got)
			}
			if tc.answer == 0 {
				if len(out) != 0 {
					t.Errorf("answered %x", out)
				}
				return
			}
			if len(out) != 1 || out[0][2] != tc.answer {
				t.Fatalf("answer %x, want message type %#x", out, tc.answer)
			}
			res := out[0][8]
			if out[0][3] == byte(omci.ExtendedIdent) {
				res = out[0][10]
			}
			if me.Results(res) != tc.result {
				t.Errorf("result %v, want %v", me.Results(res), tc.result)
			}
		})
	}
}

func TestExtendedGet(t *testing.T) {
	c := newOLT(t, Config{UNIs: 1}, Hooks{})
	req := c.frame(omci.GetRequestType, me.OnuGClassID, 0, me.AttributeValueMap{
		me.OnuG_VendorId: []byte("    "), me.OnuG_Version: make([]byte, 14), me.OnuG_SerialNumber: make([]byte, 8)},
		meframe.AttributeMask(0xe000), meframe.FrameFormat(omci.ExtendedIdent))
	l, _ := c.do(req)
	r, ok := l.(*omci.GetResponse)
	if !ok || r.Result != me.Success || r.AttributeMask != 0xe000 {
		t.Fatalf("extended get: %v", l)
	}
	if diff := cmp.Diff([]byte("PSMO"), r.Attributes[me.OnuG_VendorId]); diff != "" {
		t.Error(diff)
	}
}

func TestConcurrentHandle(t *testing.T) {
	c := newOLT(t, Config{UNIs: 4}, Hooks{})
	reqs := [][]byte{
		c.frame(omci.MibUploadRequestType, me.OnuDataClassID, 0, nil),
		c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(3)),
		c.frame(omci.SetRequestType, me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(1), me.AttributeValueMap{
			me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: uint8(1)}, meframe.AttributeMask(0x0800)),
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if _, err := c.onu.Handle(reqs[(g+i)%len(reqs)]); err != nil {
					t.Error(err)
					return
				}
				_ = c.onu.Service()
			}
		})
	}
	wg.Wait()
	if got := c.onu.Counters().Requests; got != 800 {
		t.Errorf("%d requests counted, want 800", got)
	}
}

// TestUploadIsASnapshot: a set during a MIB upload does not change what the upload reports
// (G.988: the ONU uploads a snapshot of the MIB taken when the upload began).
func TestUploadIsASnapshot(t *testing.T) {
	c := newOLT(t, Config{UNIs: 1}, Hooks{})
	l, _ := c.do(c.frame(omci.MibUploadRequestType, me.OnuDataClassID, 0, nil))
	n := l.(*omci.MibUploadResponse).NumberOfCommands
	c.set(me.TContClassID, TContID(0), me.AttributeValueMap{me.TCont_AllocId: uint16(1024)})
	c.create(me.GemPortNetworkCtpClassID, 0x0400, gemAttrs(1024, TContID(0)))
	for seq := range n {
		l, _ := c.do(c.frame(omci.MibUploadNextRequestType, me.OnuDataClassID, 0, nil, meframe.SequenceNumberCountOrSize(seq)))
		m := l.(*omci.MibUploadNextResponse).ReportedME
		switch m.GetClassID() {
		case me.GemPortNetworkCtpClassID:
			t.Errorf("GEM port created during the upload was uploaded")
		case me.TContClassID:
			if v, err := m.GetAttribute(me.TCont_AllocId); err == nil && m.GetEntityID() == TContID(0) && v != uint16(0xffff) {
				t.Errorf("T-CONT alloc id set during the upload uploaded as %v", v)
			}
		case me.OnuDataClassID:
			if v, _ := m.GetAttribute(me.OnuData_MibDataSync); v != uint8(0) {
				t.Errorf("MIB data sync uploaded as %v, want the 0 of the snapshot", v)
			}
		}
	}
	if got := c.onu.UploadCount(); got != int(n)+1 {
		t.Errorf("a new upload would have %d messages, want %d (one more for the GEM port)", got, n+1)
	}
}
