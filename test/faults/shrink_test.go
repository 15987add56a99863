package faults

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// upArgs runs `volt up --provision` with its data in dir and every port
// given or free.
func upArgs(dir, nbi, ponsim string, onus int) []string {
	return []string{"up", "--provision", "--data-dir", dir, "--nbi", nbi, "--http", "127.0.0.1:0",
		"--etcd-listen", "http://127.0.0.1:0", "--broker-listen", "127.0.0.1:0", "--ponsim", ponsim,
		"--onus-per-pon", fmt.Sprint(onus), "--ofagent-listen", "", "--controller", "127.0.0.1:1",
		"--log-level", "info"}
}

// interrupt stops a process the way Ctrl-C does and waits for it.
func (p *proc) interrupt(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		t.Errorf("%s did not stop on SIGINT", p.name)
	}
}

// ponsim shrinks between two `volt up` runs on one data directory (6 ONUs,
// then 2): the 4 ONUs it no longer has are not ACTIVE/REACHABLE, their
// logical ports are gone, and nothing keeps warning about them.
func TestShrunkPonsimLeavesNoGhost(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes")
	}
	dir, nbiAddr, simAddr := t.TempDir(), testpeer.ReserveAddr(t), testpeer.ReserveAddr(t)
	up := startProc(t, "volt up (6 ONUs)", volt, upArgs(dir, nbiAddr, simAddr, 6)...)
	waitTCP(t, nbiAddr)
	s := &stack{t: t, nbiAddr: nbiAddr}
	s.nbi = voltv1.NewVoltServiceClient(dial(t, nbiAddr))
	var olt string
	poll(t, 60*time.Second, "6 ONUs active", func() error {
		r, err := s.nbi.ListDevices(ctxT(t, 5*time.Second), &voltv1.ListDevicesRequest{})
		if err != nil {
			return err
		}
		for _, d := range r.GetItems() {
			if d.GetRoot() {
				olt = d.GetId()
			}
		}
		if olt == "" {
			return fmt.Errorf("no OLT yet")
		}
		return s.converged(olt, 6)
	})
	up.interrupt(t)

	up2 := startProc(t, "volt up (2 ONUs)", volt, upArgs(dir, nbiAddr, simAddr, 2)...)
	start := time.Now()
	waitTCP(t, nbiAddr)
	var ghosts []*voltv1.Device
	took := poll(t, 30*time.Second, "no ghost ONU", func() error {
		kids := s.children(olt)
		if len(kids) != 6 {
			return fmt.Errorf("%d ONUs in the core, want the 6 of the first run", len(kids))
		}
		active, gone := 0, 0
		ghosts = ghosts[:0]
		for _, d := range kids {
			switch {
			case d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE && d.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE:
				active++
			case d.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE && d.GetReason() != "":
				gone++
				ghosts = append(ghosts, d)
			}
		}
		if active != 2 || gone != 4 {
			return fmt.Errorf("%d ACTIVE/REACHABLE, %d UNREACHABLE with a reason; want 2 and 4", active, gone)
		}
		od, err := s.device(olt)
		if err != nil {
			return err
		}
		lps, err := s.nbi.ListLogicalDevicePorts(ctxT(t, 5*time.Second), &voltv1.ID{Id: od.GetLogicalDeviceId()})
		if err != nil {
			return err
		}
		if n := len(lps.GetItems()); n != 3 {
			return fmt.Errorf("%d logical ports, want 1 NNI and 2 UNIs", n)
		}
		return nil
	})
	say(t, "ponsim shrank from 6 to 2 ONUs: 4 ghosts UNREACHABLE %v after the second start (%s: %q)", took.Round(time.Millisecond), ghosts[0].GetSerialNumber(), ghosts[0].GetReason())
	_ = start
	mark := up2.outputLen()
	time.Sleep(6 * time.Second) // longer than any period that would repeat a warning
	for _, line := range strings.Split(up2.since(mark), "\n") {
		if !strings.Contains(line, "level=WARN") {
			continue
		}
		for _, g := range ghosts {
			if strings.Contains(line, g.GetId()) || strings.Contains(line, g.GetSerialNumber()) {
				t.Errorf("warnings about a ghost ONU keep coming after convergence: %s", line)
			}
		}
	}
}
