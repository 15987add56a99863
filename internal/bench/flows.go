package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
)

// FlowsConfig configures Flows.
type FlowsConfig struct {
	// Subscribers is how many UNIs get a subscriber.
	Subscribers int
	// Server is the NBI of a running stack and PonSim the address of the
	// simulated OLT to provision (it needs Subscribers ONUs); when Server is
	// empty Flows starts its own stack, with a ponsim of
	// ceil(Subscribers/64) PONs of up to 64 ONUs, in this process.
	Server string
	PonSim string
	// Concurrency is how many flow-mods are in flight (default 32).
	Concurrency int
	// Timeout bounds the whole run, activation included (default 10
	// minutes).
	Timeout time.Duration
	Logs    *logging.Registry
	// CPUProfile, when set, is a file that gets the CPU profile of the
	// measured part (pprof).
	CPUProfile string
	// OLTType is how the OLT is driven: stack.OLTType (ponsim_olt, the
	// default) or stack.OpenOLTType (openolt, over ponsim's openolt face).
	// With openolt the device flows reach ponsim as openolt flows (some
	// replicated per p-bit, the ONUs' configured over OMCI), so Seconds
	// ends when the NBI has taken every flow-mod, each of which waited
	// for the OLT adapter's FlowAdd; and the subscribers' UNIs exist only
	// once an adapter serves omci_onu (issue 15).
	OLTType string
}

// FlowsResult is what `volt bench flows` prints. Seconds runs from the
// first flow-mod to the moment every device flow the core made is in
// ponsim's tables (in-process; with --server, ponsim's tables cannot be
// read over its API, so PonSimChecked is false and Seconds ends when the
// NBI has taken every flow-mod).
type FlowsResult struct {
	Subscribers   int     `json:"subscribers"`
	LogicalFlows  int     `json:"logical_flows"`
	DeviceFlows   int     `json:"device_flows"`
	Seconds       float64 `json:"seconds"`
	FlowsPerS     float64 `json:"flows_per_s"`
	PonSimChecked bool    `json:"ponsim_checked"`
}

// ATT-like subscriber parameters.
const (
	flowsPerSubscriber = 7
	sVIDBase           = 1000 // S-tag of PON p: 1000 + p
	cVIDBase           = 100  // C-tag of ONU o: 100 + o
	techProfile        = 64
	maxONUsPerPON      = 64
)

// FlowsLayout is the ponsim Flows starts for n subscribers: PONs of up to
// 64 ONUs (more when ponsim.MaxPONPorts PONs would not do).
func FlowsLayout(n int) (pons, onusPerPON int) {
	onusPerPON = min(n, maxONUsPerPON)
	if n > ponsim.MaxPONPorts*maxONUsPerPON {
		onusPerPON = (n + ponsim.MaxPONPorts - 1) / ponsim.MaxPONPorts
	}
	return (n + onusPerPON - 1) / onusPerPON, onusPerPON
}

// Flows provisions ATT-like subscribers through the NBI and measures the
// time until their device flows are in ponsim.
func Flows(ctx context.Context, cfg FlowsConfig) (FlowsResult, error) {
	if cfg.Subscribers < 1 || cfg.Subscribers > ponsim.MaxPONPorts*ponsim.MaxONUsPerPON {
		return FlowsResult{}, fmt.Errorf("bench flows: --subscribers %d out of range 1..%d", cfg.Subscribers, ponsim.MaxPONPorts*ponsim.MaxONUsPerPON)
	}
	if cfg.Concurrency < 0 {
		return FlowsResult{}, fmt.Errorf("bench flows: --concurrency %d must not be negative", cfg.Concurrency)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 32
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Logs == nil {
		cfg.Logs = logging.Discard()
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if cfg.Server != "" {
		if cfg.PonSim == "" {
			return FlowsResult{}, errors.New("bench flows: --server needs --ponsim, the address of the OLT to provision")
		}
		return provisionFlows(ctx, cfg, cfg.Server, cfg.PonSim, nil)
	}

	dir, err := os.MkdirTemp("", "volt-bench-")
	if err != nil {
		return FlowsResult{}, err
	}
	defer os.RemoveAll(dir)
	pons, perPON := FlowsLayout(cfg.Subscribers)
	sim, err := ponsim.New(ponsim.Config{Name: "bench-flows", PONPorts: pons, ONUsPerPON: perPON, Logger: cfg.Logs.Logger("ponsim")})
	if err != nil {
		return FlowsResult{}, err
	}
	defer sim.Close()
	if oltType(cfg.OLTType) == stack.OpenOLTType {
		if _, err := face.Attach(sim, face.Config{Logger: cfg.Logs.Logger("ponsim/openolt")}); err != nil {
			return FlowsResult{}, err
		}
	}
	scfg := stack.Config{DataDir: dir, NBI: "127.0.0.1:0", EtcdListen: "http://127.0.0.1:0", BrokerListen: "127.0.0.1:0", Logs: cfg.Logs,
		OLTType: cfg.OLTType}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		res    FlowsResult
		runErr error
	)
	err = stack.Run(runCtx, scfg, func(a stack.Addrs) {
		defer stop()
		// The stack runs the core and the adapters; ponsim runs here, so
		// that its tables can be read.
		simCtx, simStop := context.WithCancel(runCtx)
		addrc, errc := make(chan string, 1), make(chan error, 1)
		go func() { errc <- sim.Serve(simCtx, "127.0.0.1:0", cfg.Logs, func(addr string) { addrc <- addr }) }()
		select {
		case addr := <-addrc:
			res, runErr = provisionFlows(runCtx, cfg, a.NBI, addr, sim)
			simStop()
			if err := <-errc; err != nil && runErr == nil {
				runErr = fmt.Errorf("ponsim: %w", err)
			}
		case err := <-errc:
			simStop()
			runErr = fmt.Errorf("ponsim: %w", err)
		}
	})
	if runErr != nil {
		return res, runErr
	}
	return res, err
}

// subscriber is one UNI to provision.
type subscriber struct {
	uni        uint32
	sVID, cVID uint64
}

func provisionFlows(ctx context.Context, cfg FlowsConfig, server, simAddr string, sim *ponsim.Sim) (FlowsResult, error) {
	cc, err := grpc.NewClient(server, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return FlowsResult{}, err
	}
	defer cc.Close()
	nbi := voltv1.NewVoltServiceClient(cc)

	// Activation, not measured.
	openOLT := oltType(cfg.OLTType) == stack.OpenOLTType
	oltID, err := stack.ProvisionType(ctx, nbi, oltType(cfg.OLTType), simAddr)
	if err != nil {
		return FlowsResult{}, err
	}
	if openOLT {
		if err := needONUAdapter(ctx, nbi); err != nil {
			return FlowsResult{}, err
		}
	}
	ldID, subs, err := waitUNIs(ctx, nbi, oltID, cfg.Subscribers)
	if err != nil {
		return FlowsResult{}, err
	}
	nni := portno.NNI(0)

	if cfg.CPUProfile != "" {
		stop, err := cpuProfile(cfg.CPUProfile)
		if err != nil {
			return FlowsResult{}, err
		}
		defer stop()
	}
	start := time.Now()
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000", // upstream
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000", // downstream
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",    // traps
	} {
		if err := meterMod(ctx, nbi, ldID, m); err != nil {
			return FlowsResult{}, err
		}
	}
	mods := []string{fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x88cc,actions=output:CONTROLLER", nni)}
	sTags := map[uint64]bool{}
	for _, s := range subs {
		if !sTags[s.sVID] {
			sTags[s.sVID] = true
			mods = append(mods, fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=%d,udp,udp_src=67,udp_dst=68,actions=output:CONTROLLER", nni, s.sVID))
		}
	}
	for _, s := range subs {
		mods = append(mods, SubscriberFlows(nni, s.uni, s.sVID, s.cVID)...)
	}
	if err := sendFlowMods(ctx, nbi, ldID, mods, cfg.Concurrency); err != nil {
		return FlowsResult{}, err
	}
	devs, err := deviceFlowIDs(ctx, nbi, oltID, cfg.Concurrency)
	if err != nil {
		return FlowsResult{}, err
	}
	checked := sim != nil && !openOLT
	if checked {
		if err := waitPonSim(ctx, sim, devs); err != nil {
			return FlowsResult{}, err
		}
	}
	secs := time.Since(start).Seconds()

	lf, err := nbi.ListLogicalDeviceFlows(ctx, &voltv1.ID{Id: ldID})
	if err != nil {
		return FlowsResult{}, err
	}
	total := 0
	for _, d := range devs {
		total += len(d.ids)
	}
	return FlowsResult{
		Subscribers:   len(subs),
		LogicalFlows:  len(lf.GetItems()),
		DeviceFlows:   total,
		Seconds:       round(secs, 3),
		FlowsPerS:     round(float64(len(lf.GetItems()))/secs, 1),
		PonSimChecked: checked,
	}, nil
}

// SubscriberFlows are the logical flows of an ATT-like subscriber on uni:
// EAPOL, DHCP and IGMP traps (tagged as the network expects), and
// unicast both ways in two tables. write_metadata carries C-tag << 48 |
// technology profile << 32 | port; downstream the C-tag under the S-tag
// is matched as metadata in table 0, and table 1 matches the metadata
// table 0 wrote (C-tags repeat on other PONs).
func SubscriberFlows(nni, uni uint32, sVID, cVID uint64) []string {
	up := cVID<<48 | techProfile<<32 | uint64(nni)
	down := cVID<<48 | techProfile<<32 | uint64(uni)
	return []string{
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=meter:3,push_vlan:0x8100,set_field:4091->vlan_vid,output:CONTROLLER", uni),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=untagged,udp,udp_src=68,udp_dst=67,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER", uni, cVID),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=untagged,ip,ip_proto=2,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER", uni, cVID),
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:%d->vlan_vid,write_metadata:%#x,goto_table:1", uni, cVID, up),
		fmt.Sprintf("table=1,priority=1000,in_port=%d,vlan_vid=%d,actions=push_vlan:0x88a8,set_field:%d->vlan_vid,output:%d", uni, cVID, sVID, nni),
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=%d,metadata=%d,actions=meter:2,pop_vlan,write_metadata:%#x,goto_table:1", nni, sVID, cVID, down),
		fmt.Sprintf("table=1,priority=1000,in_port=%d,vlan_vid=%d,metadata=%#x,actions=pop_vlan,output:%d", nni, cVID, down, uni),
	}
}

// waitUNIs waits until the OLT's logical device has n live UNIs and
// returns them as subscribers, in port order.
func waitUNIs(ctx context.Context, nbi voltv1.VoltServiceClient, oltID string, n int) (string, []subscriber, error) {
	for {
		ld, subs, err := unis(ctx, nbi, oltID)
		if err == nil && len(subs) >= n {
			return ld, subs[:n], nil
		}
		if err == nil {
			err = fmt.Errorf("%d UNIs of %d", len(subs), n)
		}
		select {
		case <-ctx.Done():
			return "", nil, fmt.Errorf("bench flows: waiting for the ONUs: %w (%v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func unis(ctx context.Context, nbi voltv1.VoltServiceClient, oltID string) (string, []subscriber, error) {
	olt, err := nbi.GetDevice(ctx, &voltv1.ID{Id: oltID})
	if err != nil {
		return "", nil, err
	}
	if olt.GetLogicalDeviceId() == "" {
		return "", nil, errors.New("no logical device yet")
	}
	ports, err := nbi.ListLogicalDevicePorts(ctx, &voltv1.ID{Id: olt.GetLogicalDeviceId()})
	if err != nil {
		return "", nil, err
	}
	const ofppsLive = 4
	var subs []subscriber
	for _, p := range ports.GetItems() {
		no := p.GetOfpPort().GetPortNo()
		if p.GetRootPort() || !portno.IsUNI(no) || p.GetOfpPort().GetState()&ofppsLive == 0 {
			continue
		}
		pon, onu, _ := portno.SplitUNI(no)
		subs = append(subs, subscriber{uni: no, sVID: sVIDBase + uint64(pon), cVID: cVIDBase + uint64(onu)})
	}
	slices.SortFunc(subs, func(a, b subscriber) int { return int(a.uni) - int(b.uni) })
	return olt.GetLogicalDeviceId(), subs, nil
}

func meterMod(ctx context.Context, nbi voltv1.VoltServiceClient, ldID, text string) error {
	m, err := flowtext.ParseMeter(text)
	if err != nil {
		return err
	}
	_, err = nbi.UpdateLogicalDeviceMeterTable(ctx, &voltv1.MeterModUpdate{Id: ldID, MeterMod: &openflowv1.MeterMod{
		Command: openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, Flags: m.GetFlags(), MeterId: m.GetMeterId(), Bands: m.GetBands(),
	}})
	if status.Code(err) == codes.AlreadyExists {
		return nil // an earlier run on the same stack (--server) made it
	}
	if err != nil {
		return fmt.Errorf("bench flows: %s: %w", text, err)
	}
	return nil
}

// sendFlowMods adds the flows with up to conc flow-mods in flight.
func sendFlowMods(ctx context.Context, nbi voltv1.VoltServiceClient, ldID string, mods []string, conc int) error {
	fms := make([]*openflowv1.FlowMod, len(mods))
	for i, text := range mods {
		f, err := flowtext.ParseFlow(text)
		if err != nil {
			return fmt.Errorf("bench flows: %s: %w", text, err)
		}
		fms[i] = &openflowv1.FlowMod{
			Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: f.GetTableId(), Priority: f.GetPriority(),
			Cookie: f.GetCookie(), OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions(),
		}
	}
	return forEach(ctx, len(fms), conc, func(ctx context.Context, i int) error {
		if _, err := nbi.UpdateLogicalDeviceFlowTable(ctx, &voltv1.FlowTableUpdate{Id: ldID, FlowMod: fms[i]}); err != nil {
			return fmt.Errorf("bench flows: %s: %w", mods[i], err)
		}
		return nil
	})
}

// forEach runs fn for 0..n-1 in conc goroutines and returns the first
// error; after an error the rest is skipped.
func forEach(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex // guards next and first
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range min(conc, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// deviceFlows are the ids of the flows the core made for one device.
type deviceFlows struct {
	id, serial string // serial: ponsim's name ("" for the OLT)
	ids        []uint64
}

// deviceFlowIDs reads the device flows of the OLT and its ONUs.
func deviceFlowIDs(ctx context.Context, nbi voltv1.VoltServiceClient, oltID string, conc int) ([]*deviceFlows, error) {
	kids, err := nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{ParentId: oltID})
	if err != nil {
		return nil, err
	}
	devs := []*deviceFlows{{id: oltID}}
	for _, k := range kids.GetItems() {
		devs = append(devs, &deviceFlows{id: k.GetId(), serial: k.GetSerialNumber()})
	}
	err = forEach(ctx, len(devs), conc, func(ctx context.Context, i int) error {
		d := devs[i]
		fl, err := nbi.ListDeviceFlows(ctx, &voltv1.ID{Id: d.id})
		if err != nil {
			return fmt.Errorf("bench flows: device flows of %s: %w", d.id, err)
		}
		for _, f := range fl.GetItems() {
			d.ids = append(d.ids, f.GetId())
		}
		slices.Sort(d.ids)
		return nil
	})
	return devs, err
}

// waitPonSim polls ponsim until each device has as many flows as the
// core made for it, then checks that they are the same flows.
func waitPonSim(ctx context.Context, sim *ponsim.Sim, devs []*deviceFlows) error {
	for {
		missing := ""
		for _, d := range devs {
			n, err := sim.FlowCount(d.serial)
			if err != nil {
				return err
			}
			if n != len(d.ids) {
				missing = fmt.Sprintf("device %s has %d flows in ponsim, %d in the core", d.id, n, len(d.ids))
				break
			}
		}
		if missing == "" {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench flows: waiting for ponsim: %w (%s)", ctx.Err(), missing)
		case <-time.After(5 * time.Millisecond):
		}
	}
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Go(func() {
			ft, err := sim.FlowTable(d.serial)
			if err != nil {
				mu.Lock()
				bad = append(bad, err.Error())
				mu.Unlock()
				return
			}
			var ids []uint64
			for _, f := range ft.GetFlows() {
				ids = append(ids, f.GetId())
			}
			slices.Sort(ids)
			if !slices.Equal(ids, d.ids) {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("device %s: ponsim has other flows than the core", d.id))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		return fmt.Errorf("bench flows: %s", bad[0])
	}
	return nil
}

// cpuProfile starts a CPU profile into path; stop ends it.
func cpuProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// needONUAdapter fails when no adapter serves the openolt adapter's ONUs
// (device type omci_onu): without one they never get UNI ports.
func needONUAdapter(ctx context.Context, nbi voltv1.VoltServiceClient) error {
	types, err := nbi.ListDeviceTypes(ctx, &emptypb.Empty{})
	if err != nil {
		return err
	}
	for _, t := range types.GetItems() {
		if t.GetId() == "omci_onu" {
			return nil
		}
	}
	return errors.New("bench flows --olt-type openolt: no adapter serves device type omci_onu, so the ONUs get no UNI ports to provision (the OMCI ONU adapter, issue 15)")
}
