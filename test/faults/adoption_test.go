package faults

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// forward serves a second address for target: every connection to it is
// relayed there, so one ponsim answers at two addresses that no address
// normalisation can tell apart.
func forward(t *testing.T, target string) string {
	t.Helper()
	addr := testpeer.ReserveAddr(t)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards conns
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(out, in); out.Close() })
			wg.Go(func() { _, _ = io.Copy(in, out); in.Close() })
		}
	})
	return addr
}

// A second device that reaches an OLT already adopted (same serial
// number) turns FAILED with a reason naming the original; the original,
// its ONUs and its logical device are untouched, also when the duplicate
// is deleted.
func TestSecondDeviceOnAdoptedOLT(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	s := newStack(t)
	_, simAddr := s.ponsim(1, 4, "dup")
	orig := s.createOLT(simAddr)
	s.enable(orig)
	poll(t, 30*time.Second, "original active", func() error { return s.converged(orig, 4) })

	alias := forward(t, simAddr)
	dup := s.createOLT(alias)
	s.enable(dup)
	took := poll(t, 15*time.Second, "duplicate FAILED naming the original", func() error {
		d, err := s.device(dup)
		if err != nil {
			return err
		}
		if d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_FAILED || !strings.Contains(d.GetReason(), orig) {
			return fmt.Errorf("duplicate %s, reason %q", d.GetOperStatus(), d.GetReason())
		}
		return nil
	})
	d, _ := s.device(dup)
	say(t, "second device at %s (same ponsim as %s): FAILED after %v: %s", alias, simAddr, took.Round(time.Millisecond), d.GetReason())
	if err := s.converged(orig, 4); err != nil {
		t.Errorf("original after the duplicate: %v", err)
	}
	if n := len(s.children(dup)); n != 0 {
		t.Errorf("the duplicate has %d ONUs", n)
	}
	if _, err := s.nbi.DeleteDevice(ctxT(t, 15*time.Second), &voltv1.ID{Id: dup}); err != nil {
		t.Fatalf("delete the duplicate: %v", err)
	}
	// Deleting it must not take the original's ONUs or ports: they stay
	// as they are for as long as we look.
	for range 3 {
		time.Sleep(time.Second) // watching for a change that must not come
		if err := s.converged(orig, 4); err != nil {
			t.Fatalf("original after deleting the duplicate: %v", err)
		}
	}
	say(t, "duplicate deleted: the original keeps 4 ONUs ACTIVE and 1+4 logical ports")
}

// The OLT adapter is killed, one of two OLTs is deleted meanwhile, and the
// adapter restarts: nothing of the deleted OLT is left in the adapter (it
// logs nothing about it), and the other OLT and its flows are untouched.
func TestOLTDeletedWhileAdapterDown(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	s := newStack(t)
	_, simA := s.ponsim(1, 2, "gone")
	_, simB := s.ponsim(1, 2, "stays")
	a, b := s.createOLT(simA), s.createOLT(simB)
	s.enable(a)
	s.enable(b)
	poll(t, 30*time.Second, "both active", func() error {
		if err := s.converged(a, 2); err != nil {
			return err
		}
		return s.converged(b, 2)
	})
	ob, _ := s.device(b)
	kid := s.children(b)[0]
	uni := kid.GetProxyAddress().GetChannelId()<<12 | kid.GetProxyAddress().GetOnuId()<<4
	if err := s.addFlow(ctxT(t, 10*time.Second), ob.GetLogicalDeviceId(), fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:101->vlan_vid,output:1", uni)); err != nil {
		t.Fatal(err)
	}
	flowsOf := func(id string) int {
		f, err := s.nbi.ListDeviceFlows(ctxT(t, 5*time.Second), &voltv1.ID{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(f.GetItems())
	}
	poll(t, 10*time.Second, "the other OLT's flow pushed", func() error {
		if flowsOf(b) == 0 {
			return fmt.Errorf("no device flows")
		}
		return nil
	})
	before := flowsOf(b)

	s.olta.kill()
	start := time.Now()
	if _, err := s.nbi.DeleteDevice(ctxT(t, 30*time.Second), &voltv1.ID{Id: a}); err != nil {
		t.Fatalf("delete the OLT while its adapter is down: %v", err)
	}
	say(t, "OLT adapter killed; OLT deleted in %v", time.Since(start).Round(time.Millisecond))
	mark := s.olta.outputLen()
	s.olta.start()
	took := poll(t, 30*time.Second, "the other OLT after the adapter's restart", func() error { return s.converged(b, 2) })
	say(t, "adapter restarted: the other OLT converged after %v", took.Round(time.Millisecond))
	time.Sleep(3 * time.Second) // a session left behind would log within this
	if out := s.olta.since(mark); strings.Contains(out, a) {
		t.Errorf("the restarted adapter still works for the deleted OLT %s:\n%s", a, out)
	}
	if after := flowsOf(b); after != before {
		t.Errorf("the other OLT has %d device flows, had %d", after, before)
	}
	if _, err := s.device(a); !isNotFound(err) {
		t.Errorf("deleted OLT: %v", err)
	}
	say(t, "no session left for the deleted OLT; the other OLT keeps its %d device flows", before)
}
