package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// newOpenOLTStack starts etcd, the broker, the core, the openolt adapter
// and the OMCI ONU adapter, each its own process.
func newOpenOLTStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{t: t}
	s.etcd, s.etcdAddr = etcdProc(t, t.TempDir())
	s.brokers = testpeer.ReserveAddr(t)
	s.broker = startProc(t, "broker", volt, "broker", "--listen", s.brokers, "--log-level", "warn")
	waitTCP(t, s.brokers)
	s.nbiAddr = testpeer.ReserveAddr(t)
	s.httpAddr = testpeer.ReserveAddr(t) // not the default port: another package's core may hold it
	s.core = startProc(t, "core", volt, "core", "--etcd", s.etcdAddr, "--brokers", s.brokers, "--nbi", s.nbiAddr, "--http", s.httpAddr, "--log-level", "info")
	waitTCP(t, s.nbiAddr)
	s.nbi = voltv1.NewVoltServiceClient(dial(t, s.nbiAddr))
	s.olta = startProc(t, "openolt", volt, "adapter", "openolt", "--brokers", s.brokers, "--etcd", s.etcdAddr,
		"--grpc", "127.0.0.1:0", "--instance-id", "openolt-1", "--log-level", "info")
	s.onua = startProc(t, "omci-onu", volt, "adapter", "omci-onu", "--brokers", s.brokers, "--etcd", s.etcdAddr,
		"--grpc", "127.0.0.1:0", "--instance-id", "omci-onu-1", "--log-level", "info")
	poll(t, 60*time.Second, "both adapters registered", func() error {
		r, err := s.nbi.ListAdapters(ctxT(t, 5*time.Second), &emptypb.Empty{})
		if err != nil {
			return err
		}
		if len(r.GetItems()) < 2 {
			return fmt.Errorf("%d adapters", len(r.GetItems()))
		}
		return nil
	})
	return s
}

// activeONUs is how many children of the OLT are ENABLED/ACTIVE, with the
// live UNI logical ports of its logical device.
func (s *stack) activeONUs(oltID string) (int, []uint32, error) {
	ctx := ctxT(s.t, 10*time.Second)
	olt, err := s.nbi.GetDevice(ctx, &voltv1.ID{Id: oltID})
	if err != nil {
		return 0, nil, err
	}
	if olt.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE || olt.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE {
		return 0, nil, fmt.Errorf("OLT %s/%s", olt.GetOperStatus(), olt.GetConnectStatus())
	}
	active := 0
	for _, d := range s.children(oltID) {
		if d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED && d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE {
			active++
		}
	}
	if olt.GetLogicalDeviceId() == "" {
		return active, nil, nil
	}
	lps, err := s.nbi.ListLogicalDevicePorts(ctx, &voltv1.ID{Id: olt.GetLogicalDeviceId()})
	if err != nil {
		return 0, nil, err
	}
	var unis []uint32
	for _, p := range lps.GetItems() {
		if !p.GetRootPort() && p.GetOfpPort().GetState()&4 != 0 { // OFPPS_LIVE
			unis = append(unis, p.GetOfpPort().GetPortNo())
		}
	}
	slices.Sort(unis)
	return active, unis, nil
}

// subscribe sends an ATT-like subscriber's flows on uni.
func (s *stack) subscribe(ldID string, uni uint32) {
	s.t.Helper()
	_, onu, _ := portno.SplitUNI(uni)
	for _, text := range bench.SubscriberFlows(portno.NNI(0), uni, 1000, 100+uint64(onu)) {
		if err := s.addFlow(ctxT(s.t, 15*time.Second), ldID, text); err != nil {
			s.t.Fatalf("%s: %v", text, err)
		}
	}
}

// oltTable is the openolt face's OLT flow table in ponsim: flow ids (each
// openolt flow's id shifted, per replica) by cookie.
func oltTable(sim ponsimv1.PonSimClient) (map[uint64]bool, error) {
	ft, err := sim.GetFlowTable(context.Background(), &ponsimv1.DeviceRef{})
	if err != nil {
		return nil, err
	}
	ids := make(map[uint64]bool, len(ft.GetFlows()))
	for _, f := range ft.GetFlows() {
		ids[f.GetId()] = true
	}
	return ids, nil
}

// resources is what the openolt adapter keeps of the OLT in etcd: its
// resource ids (key → owner), tech-profile instances and flow records.
func resources(t testing.TB, kv kvstore.Store, oltID string) map[string]string {
	t.Helper()
	kvs, err := kv.List(ctxT(t, 10*time.Second), "/volt/openolt/"+oltID+"/")
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(kvs))
	for _, e := range kvs {
		if strings.HasSuffix(e.Key, "/signature") {
			continue
		}
		out[strings.TrimPrefix(e.Key, "/volt/openolt/"+oltID+"/")] = string(e.Value)
	}
	return out
}

// The openolt adapter and the OMCI ONU adapter as processes beside the
// core and ponsim's openolt face: an OLT with 4 ONUs is activated, 3
// subscribers get their flows, and the openolt adapter is killed (-9) and
// started again. Its resource ids, instances and flow records are the same
// afterwards, the OLT's flows are still in ponsim's table and the ONUs are
// still ACTIVE with every subscriber's logical flows; a fourth
// subscriber then gets ids none of the others hold (ponsim refuses a flow
// id in use), so the restarted adapter learnt the pools from etcd.
func TestOpenOLTAdapterKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	start := time.Now()
	s := newOpenOLTStack(t)
	_, simAddr := s.ponsim(1, 4, "openolt")
	sim := ponsimClient(t, simAddr)
	d, err := s.nbi.CreateDevice(ctxT(t, 10*time.Second), &voltv1.Device{Type: "openolt", HostAndPort: simAddr})
	if err != nil {
		t.Fatal(err)
	}
	olt := d.GetId()
	s.enable(olt)
	var unis []uint32
	took := poll(t, 40*time.Second, "4 ONUs ACTIVE with their UNIs", func() error {
		n, u, err := s.activeONUs(olt)
		if err != nil {
			return err
		}
		if n != 4 || len(u) != 4 {
			return fmt.Errorf("%d ONUs ACTIVE, %d live UNIs", n, len(u))
		}
		unis = u
		return nil
	})
	say(t, "OLT enabled to 4 ONUs ACTIVE: %v", took.Round(time.Millisecond))
	od, _ := s.device(olt)
	ld := od.GetLogicalDeviceId()
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		mc, err := flowtext.ParseMeter(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.nbi.UpdateLogicalDeviceMeterTable(ctxT(t, 10*time.Second), &voltv1.MeterModUpdate{Id: ld, MeterMod: &openflowv1.MeterMod{
			Command: openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, Flags: mc.GetFlags(), MeterId: mc.GetMeterId(), Bands: mc.GetBands()}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.addFlow(ctxT(t, 15*time.Second), ld, fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=1000,udp,udp_src=67,udp_dst=68,actions=output:CONTROLLER", portno.NNI(0))); err != nil {
		t.Fatal(err)
	}
	for _, uni := range unis[:3] {
		s.subscribe(ld, uni)
	}

	kv, err := kvstore.NewEtcd(ctxT(t, 10*time.Second), kvstore.Config{Endpoints: []string{s.etcdAddr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	// Each subscriber makes 5 OLT flows (EAPOL, DHCP, IGMP traps,
	// upstream and downstream), the NNI's DHCP trap one more.
	const oltFlows = 3*5 + 1
	var before map[string]string
	var table map[uint64]bool
	poll(t, 30*time.Second, "the subscribers' flows in the store and in ponsim", func() error {
		before = resources(t, kv, olt)
		n := 0
		for k := range before {
			if strings.HasPrefix(k, "flows/") {
				n++
			}
		}
		if n != oltFlows {
			return fmt.Errorf("%d flow records, want %d", n, oltFlows)
		}
		table, err = oltTable(sim)
		if err != nil {
			return err
		}
		if len(table) < oltFlows {
			return fmt.Errorf("ponsim's OLT table has %d flows, want at least %d", len(table), oltFlows)
		}
		return nil
	})
	say(t, "before the kill: %d keys of the OLT in etcd, %d flows in ponsim's OLT table", len(before), len(table))

	s.olta.kill()
	killed := time.Now()
	s.olta.start()
	poll(t, 30*time.Second, "the restarted adapter serves the OLT", func() error {
		n, u, err := s.activeONUs(olt)
		if err != nil {
			return err
		}
		if n != 4 || len(u) != 4 {
			return fmt.Errorf("%d ONUs ACTIVE, %d live UNIs", n, len(u))
		}
		return nil
	})
	// A flow-mod after the restart goes through the new process.
	s.subscribe(ld, unis[3])
	var after map[string]string
	poll(t, 30*time.Second, "the fourth subscriber's flows in ponsim", func() error {
		after = resources(t, kv, olt)
		now, err := oltTable(sim)
		if err != nil {
			return err
		}
		n := 0
		for k := range after {
			if strings.HasPrefix(k, "flows/") {
				n++
			}
		}
		if n != oltFlows+5 || len(now) < len(table)+5 {
			return fmt.Errorf("%d flow records, %d flows in ponsim", n, len(now))
		}
		for id := range table {
			if !now[id] {
				return fmt.Errorf("flow %#x left ponsim's OLT table", id)
			}
		}
		return nil
	})
	say(t, "adapter killed and restarted; fourth subscriber's flows in ponsim %v after the kill", time.Since(killed).Round(time.Millisecond))
	for k, v := range before {
		if after[k] != v {
			t.Errorf("after the restart %s = %q, before %q", k, after[k], v)
		}
	}
	resKeys, newKeys := 0, 0
	for k := range after {
		if strings.HasPrefix(k, "resources/") {
			resKeys++
		}
		if _, ok := before[k]; !ok {
			newKeys++
		}
	}
	if newKeys == 0 {
		t.Errorf("the fourth subscriber added no keys")
	}
	// The restarted adapter left the ONUs as they were: ACTIVE with their
	// UNIs, so no subscriber's logical flows went with a UNI port.
	n, u, err := s.activeONUs(olt)
	if err != nil || n != 4 || len(u) != 4 {
		t.Errorf("after the restart: %d ONUs ACTIVE, %d live UNIs (%v), want 4 and 4", n, len(u), err)
	}
	lf, err := s.nbi.ListLogicalDeviceFlows(ctxT(t, 10*time.Second), &voltv1.ID{Id: ld})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(lf.GetItems()), 4*7+1; got != want {
		t.Errorf("after the restart the logical device has %d flows, want %d", got, want)
	}
	say(t, "resource ids unchanged across the restart (%d resource keys, %d new for the fourth subscriber); whole test %v",
		resKeys, newKeys, time.Since(start).Round(time.Millisecond))
}
