package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// seed is VOLT_FAULTS_SEED, or the time: printed, so a run can be repeated.
func seed(t *testing.T) uint64 {
	if v := os.Getenv("VOLT_FAULTS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("VOLT_FAULTS_SEED=%q: %v", v, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

const (
	pons        = 4
	onusPerPON  = 32
	onus        = pons * onusPerPON
	killPoints  = 10
	convergeMax = 30 * time.Second
)

func (s *stack) enable(id string) {
	s.t.Helper()
	if _, err := s.nbi.EnableDevice(ctxT(s.t, 15*time.Second), &voltv1.ID{Id: id}); err != nil {
		s.t.Fatalf("enable %s: %v", id, err)
	}
}

// deleteAll deletes the OLT and waits until no device and no logical
// device is left.
func (s *stack) deleteOLT(id string) {
	s.t.Helper()
	poll(s.t, 60*time.Second, "delete the OLT", func() error {
		_, err := s.nbi.DeleteDevice(ctxT(s.t, 15*time.Second), &voltv1.ID{Id: id})
		if err != nil && !isNotFound(err) {
			return err
		}
		devs, err := s.nbi.ListDevices(ctxT(s.t, 5*time.Second), &voltv1.ListDevicesRequest{})
		if err != nil {
			return err
		}
		if n := len(devs.GetItems()); n != 0 {
			d := devs.GetItems()[0]
			return fmt.Errorf("%d devices left, such as %s (parent %q, %s/%s, reason %q)", n, d.GetId(), d.GetParentId(), d.GetAdminState(), d.GetOperStatus(), d.GetReason())
		}
		return nil
	})
}

// The core is killed (SIGKILL) at killPoints moments spread over the
// activation of 128 ONUs, from a printed seed; each time, after a restart,
// the OLT, 128 ONUs ENABLED/ACTIVE and 1 + 128 logical ports, nothing
// twice, within 30 s.
func TestCoreKilledDuringActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: processes and minutes")
	}
	s := newStack(t)
	_, simAddr := s.ponsim(pons, onusPerPON, "act")
	sd := seed(t)
	rng := rand.New(rand.NewPCG(sd, sd>>1))

	// Undisturbed, for the span the kill points fall in.
	start := time.Now()
	id := s.createOLT(simAddr)
	s.enable(id)
	poll(t, 60*time.Second, "undisturbed activation", func() error { return s.converged(id, onus) })
	span := time.Since(start)
	say(t, "seed %d (VOLT_FAULTS_SEED repeats it); undisturbed activation of %d ONUs: %v", sd, onus, span.Round(time.Millisecond))
	s.deleteOLT(id)

	var worst time.Duration
	for i := range killPoints {
		at := span*time.Duration(i)/killPoints + time.Duration(rng.Int64N(int64(span/killPoints)))
		id := s.createOLT(simAddr)
		s.enable(id)
		time.Sleep(at) // the kill point, not an assertion
		s.core.kill()
		killed := time.Now()
		s.core.start()
		poll(t, convergeMax+5*time.Second, fmt.Sprintf("converge after kill %d at %v", i+1, at), func() error {
			return s.converged(id, onus)
		})
		took := time.Since(killed)
		if took > convergeMax {
			t.Errorf("kill %d at %v: converged after %v, want ≤ %v", i+1, at, took, convergeMax)
		}
		worst = max(worst, took)
		say(t, "kill %d: %v after enable; converged %v after the kill", i+1, at.Round(time.Millisecond), took.Round(time.Millisecond))
		s.deleteOLT(id)
	}
	say(t, "%d kill points, worst convergence %v (limit %v)", killPoints, worst.Round(time.Millisecond), convergeMax)
}
