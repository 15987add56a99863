package core_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
	"github.com/openvolt/openvolt/internal/testkit"
)

func wantCode(t *testing.T, what string, err error, code codes.Code, substr string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Errorf("%s: got %v, want %s", what, err, code)
		return
	}
	if !strings.Contains(st.Message(), substr) {
		t.Errorf("%s: message %q does not mention %q", what, st.Message(), substr)
	}
	if strings.Contains(st.Message(), "\n") {
		t.Errorf("%s: message is not one line: %q", what, st.Message())
	}
}

func TestBadInput(t *testing.T) {
	s := newStack(t)
	c := ctx(t)
	startAdapter(t, s.brokers, "test_olt", 0, nil)

	_, err := s.nbi.GetDevice(c, &voltv1.ID{Id: "nope"})
	wantCode(t, "get unknown", err, codes.NotFound, `"nope"`)
	_, err = s.nbi.EnableDevice(c, &voltv1.ID{Id: "nope"})
	wantCode(t, "enable unknown", err, codes.NotFound, `"nope"`)
	_, err = s.nbi.ListDevicePorts(c, &voltv1.ID{Id: "nope"})
	wantCode(t, "ports of unknown", err, codes.NotFound, `"nope"`)
	_, err = s.nbi.GetLogicalDevice(c, &voltv1.ID{Id: "nope"})
	wantCode(t, "unknown logical device", err, codes.NotFound, `"nope"`)
	_, err = s.nbi.GetDevice(c, &voltv1.ID{})
	wantCode(t, "empty id", err, codes.InvalidArgument, "id")

	for _, tc := range []struct {
		name string
		dev  *voltv1.Device
		want string
	}{
		{"no type", &voltv1.Device{HostAndPort: "1.2.3.4:5"}, "type is required"},
		{"malformed type", &voltv1.Device{Type: "Bad Type!", HostAndPort: "1.2.3.4:5"}, "malformed"},
		{"no address", &voltv1.Device{Type: "test_olt"}, "address"},
		{"address without port", &voltv1.Device{Type: "test_olt", HostAndPort: "1.2.3.4"}, "HOST:PORT"},
		{"address with bad port", &voltv1.Device{Type: "test_olt", HostAndPort: "1.2.3.4:99999"}, "port"},
		{"malformed MAC", &voltv1.Device{Type: "test_olt", MacAddress: "zz:00"}, "MAC"},
		{"child through the NBI", &voltv1.Device{Type: "test_olt", HostAndPort: "1.2.3.4:5", ParentId: "x"}, "child"},
	} {
		_, err := s.nbi.CreateDevice(c, tc.dev)
		wantCode(t, tc.name, err, codes.InvalidArgument, tc.want)
	}

	id := s.createOLT("10.1.0.1:50060")
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "test_olt", HostAndPort: "10.1.0.1:50060"})
	wantCode(t, "same address", err, codes.AlreadyExists, "device "+id+" already has address 10.1.0.1:50060")
	// Two spellings of one address are one address.
	local := s.createOLT("localhost:50061")
	if d := s.device(local); d.GetHostAndPort() != "127.0.0.1:50061" && d.GetHostAndPort() != "[::1]:50061" {
		t.Errorf("localhost:50061 stored as %q, want the resolved IP:PORT", d.GetHostAndPort())
	}
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "test_olt", HostAndPort: s.device(local).GetHostAndPort()})
	wantCode(t, "same address, other spelling", err, codes.AlreadyExists, "device "+local+" already has address")
	// The type is checked first, then the address; nothing is stored.
	before := len(devicesOf(t, s))
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "nosuchtype", HostAndPort: "10.1.0.1:50060"})
	wantCode(t, "unknown type at an adopted address", err, codes.InvalidArgument, `unknown device type "nosuchtype"`)
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "test_olt", HostAndPort: "300.1.1.1:50060"})
	wantCode(t, "impossible address", err, codes.InvalidArgument, "300.1.1.1 is not an IP address")
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "test_olt", HostAndPort: "10.1.0.9:50060", ExtraArgs: strings.Repeat("x", 1<<20)})
	wantCode(t, "1 MB extra_args", err, codes.InvalidArgument, "extra_args is 1048576 bytes, more than the limit of 4096")
	if after := len(devicesOf(t, s)); after != before {
		t.Errorf("refused creates stored devices: %d before, %d after", before, after)
	}
	registerType(t, s.brokers, "other")
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "other", MacAddress: "AA:BB:CC:DD:EE:01"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "other", MacAddress: "aa:bb:cc:dd:ee:01"})
	wantCode(t, "same MAC in another case", err, codes.AlreadyExists, "aa:bb:cc:dd:ee:01")

	_, err = s.nbi.DisableDevice(c, &voltv1.ID{Id: id})
	wantCode(t, "disable pre-provisioned", err, codes.FailedPrecondition, "PREPROVISIONED")
	_, err = s.nbi.RebootDevice(c, &voltv1.ID{Id: id})
	wantCode(t, "reboot pre-provisioned", err, codes.FailedPrecondition, "PREPROVISIONED")
	if _, err := s.nbi.EnableDevice(c, &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	_, err = s.nbi.EnableDevice(c, &voltv1.ID{Id: id})
	wantCode(t, "enable enabled", err, codes.FailedPrecondition, "ENABLED")

	// A type no adapter ever registered is refused at create.
	_, err = s.nbi.CreateDevice(c, &voltv1.Device{Type: "nobody_serves_this", HostAndPort: "10.1.0.2:1"})
	wantCode(t, "create of an unserved type", err, codes.InvalidArgument, `unknown device type "nobody_serves_this"`)
}

func devicesOf(t *testing.T, s *stack) []*voltv1.Device {
	t.Helper()
	devs, err := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return devs.GetItems()
}

// An adapter that does not answer: DeadlineExceeded, but the enable was
// stored first (intent before hardware), survives a restart of the core,
// and the reconciler applies it once the adapter answers.
func TestAdapterDoesNotAnswer(t *testing.T) {
	brokers := startBroker(t)
	s := &stack{t: t, brokers: brokers}
	s.kv = kvstoretest.NewEtcdStore(t)
	s.nbi, s.stop = startCore(t, s.kv, brokers, 2*time.Second)
	block := make(chan struct{})
	mute := startAdapter(t, brokers, "test_olt", 0, block)
	id := s.createOLT("10.2.0.1:50060")
	_, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: id})
	wantCode(t, "enable with a mute adapter", err, codes.DeadlineExceeded, "stored")
	if mute.callCount("adopt") == 0 {
		t.Error("the adapter never saw the adopt")
	}
	if d := s.device(id); d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
		t.Errorf("after an unanswered enable the device is %s, want the stored intent ENABLED", d.GetAdminState())
	}
	// Restarting the core shows what was persisted: the intent.
	s.stop()
	s.nbi, s.stop = startCore(t, s.kv, brokers, 2*time.Second)
	if d := s.device(id); d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
		t.Errorf("persisted state after an unanswered enable: %s", d.GetAdminState())
	}
	// The adapter answers again: the reconciler brings the device up.
	close(block)
	testkit.Eventually(t, "the reconciler applies the stored enable", func() error {
		d := s.device(id)
		if n := mute.reconcileCount(id); n == 0 || d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE {
			return fmt.Errorf("reconciled %d times, oper %s", n, d.GetOperStatus())
		}
		return nil
	})
}

// Many NBI calls on many devices at once (run with -race).
func TestConcurrentCalls(t *testing.T) {
	s := newStack(t)
	startAdapter(t, s.brokers, "test_olt", 2, nil)
	startAdapter(t, s.brokers, "test_onu", 0, nil)
	const n = 12
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 10*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.nbi.CreateDevice(ctx(t), &voltv1.Device{Type: "test_olt", HostAndPort: fmt.Sprintf("10.3.0.%d:50060", i+1)})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = d.GetId()
			if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: d.GetId()}); err != nil {
				errs <- err
			}
			// Racing reads and a second, conflicting enable.
			for range 5 {
				if _, err := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{}); err != nil {
					errs <- err
				}
			}
			if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: d.GetId()}); status.Code(err) != codes.FailedPrecondition {
				errs <- fmt.Errorf("second enable: %v", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range ids {
		s.waitActive(id, 2)
	}
	// Disable and delete half of them concurrently.
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = s.nbi.DeleteDevice(ctx(t), &voltv1.ID{Id: id})
			} else {
				_, err = s.nbi.DisableDevice(ctx(t), &voltv1.ID{Id: id})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	all, err := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(all.GetItems()), n/2*3; got != want {
		t.Errorf("%d devices left, want %d (the disabled OLTs and their ONUs)", got, want)
	}
	for _, d := range all.GetItems() {
		if d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED {
			t.Errorf("device %s is %s, want DISABLED", d.GetId(), d.GetAdminState())
		}
	}
}
