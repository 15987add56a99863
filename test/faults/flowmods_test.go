package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// cookies returns the cookies of a flow list.
func cookies(fs *openflowv1.Flows) map[uint64]bool {
	out := make(map[uint64]bool, len(fs.GetItems()))
	for _, f := range fs.GetItems() {
		out[f.GetCookie()] = true
	}
	return out
}

// tableCookies returns the cookies of the flows of a ponsim table.
func tableCookies(ft *ponsimv1.FlowTable) map[uint64]bool {
	out := make(map[uint64]bool, len(ft.GetFlows()))
	for _, f := range ft.GetFlows() {
		out[f.GetCookie()] = true
	}
	return out
}

// The core is killed (SIGKILL) while 4 senders send 500 flow-adds, at a
// seeded point. After its restart every acknowledged flow is in the
// logical table and in the device flows of the OLT and of its ONU; a flow
// not acknowledged is either everywhere or nowhere.
func TestCoreKilledDuringFlowMods(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	const total, senders = 500, 4
	s := newStack(t)
	_, simAddr := s.ponsim(2, 8, "flows")
	sim := ponsimClient(t, simAddr)
	olt := s.createOLT(simAddr)
	s.enable(olt)
	poll(t, 30*time.Second, "activation", func() error { return s.converged(olt, 16) })
	od, _ := s.device(olt)
	ld := od.GetLogicalDeviceId()
	kids := s.children(olt)
	onuOf := make(map[uint64]string) // cookie → ONU device id
	mods := make([]*openflowv1.FlowMod, total)
	for i := range total {
		k := kids[i%len(kids)]
		uni := k.GetProxyAddress().GetChannelId()<<12 | k.GetProxyAddress().GetOnuId()<<4
		cookie := uint64(i + 1)
		f, err := flowtext.ParseFlow(fmt.Sprintf("table=0,cookie=%d,priority=%d,in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:%d->vlan_vid,output:1",
			cookie, 1000+i, uni, 100+i%3000))
		if err != nil {
			t.Fatal(err)
		}
		onuOf[cookie] = k.GetId()
		mods[i] = &openflowv1.FlowMod{Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: f.GetTableId(), Priority: f.GetPriority(),
			Cookie: f.GetCookie(), OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions()}
	}
	sd := seed(t)
	killAfter := 50 + rand.New(rand.NewPCG(sd, 7)).IntN(total-100)

	var (
		mu    sync.Mutex // guards acked
		acked = make(map[uint64]bool)
		n     atomic.Int64
		next  atomic.Int64
		wg    sync.WaitGroup
		kill  = make(chan struct{})
		once  sync.Once
	)
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				select {
				case <-kill:
					return // the core is gone: the rest is never sent
				default:
				}
				_, err := s.nbi.UpdateLogicalDeviceFlowTable(ctxT(t, 10*time.Second), &voltv1.FlowTableUpdate{Id: ld, FlowMod: mods[i]})
				if err != nil {
					continue
				}
				mu.Lock()
				acked[mods[i].GetCookie()] = true
				mu.Unlock()
				if n.Add(1) == int64(killAfter) {
					once.Do(func() { s.core.kill(); close(kill) })
				}
			}
		})
	}
	wg.Wait()
	once.Do(func() { s.core.kill(); close(kill) })
	sent := min(int(next.Load()), total)
	killed := time.Now()
	s.core.start()
	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	say(t, "seed %d: core killed after %d acknowledged flow-adds (%d sent of %d)", sd, nAcked, sent, total)

	var halves int
	poll(t, 30*time.Second, "acknowledged flows everywhere after the restart", func() error {
		lf, err := s.nbi.ListLogicalDeviceFlows(ctxT(t, 10*time.Second), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		logical := cookies(lf)
		df, err := s.nbi.ListDeviceFlows(ctxT(t, 10*time.Second), &voltv1.ID{Id: olt})
		if err != nil {
			return err
		}
		oltFlows := cookies(df)
		onuFlows := make(map[string]map[uint64]bool)
		for _, k := range kids {
			f, err := s.nbi.ListDeviceFlows(ctxT(t, 10*time.Second), &voltv1.ID{Id: k.GetId()})
			if err != nil {
				return err
			}
			onuFlows[k.GetId()] = cookies(f)
		}
		// What ponsim itself holds: the OLT's table and each ONU's.
		simOLT, err := sim.GetFlowTable(ctxT(t, 10*time.Second), &ponsimv1.DeviceRef{})
		if err != nil {
			return err
		}
		inSimOLT := tableCookies(simOLT)
		inSimONU := make(map[string]map[uint64]bool)
		for _, k := range kids {
			ft, err := sim.GetFlowTable(ctxT(t, 10*time.Second), &ponsimv1.DeviceRef{SerialNumber: k.GetSerialNumber()})
			if err != nil {
				return err
			}
			inSimONU[k.GetId()] = tableCookies(ft)
		}
		halves = 0
		for c := uint64(1); c <= total; c++ {
			in := []bool{logical[c], oltFlows[c], onuFlows[onuOf[c]][c], inSimOLT[c], inSimONU[onuOf[c]][c]}
			all, none := !slices.Contains(in, false), !slices.Contains(in, true)
			if acked[c] && !all {
				return fmt.Errorf("acknowledged flow %d: logical %v, OLT %v, ONU %v, ponsim OLT %v, ponsim ONU %v", c, in[0], in[1], in[2], in[3], in[4])
			}
			if !all && !none {
				halves++
			}
		}
		if halves > 0 {
			return fmt.Errorf("%d unacknowledged flows half applied", halves)
		}
		return nil
	})
	say(t, "after the restart (%v): all %d acknowledged flows in the logical table, the OLT's and the ONUs' device flows and ponsim's tables; none half applied",
		time.Since(killed).Round(time.Millisecond), nAcked)
}
