// Package faults injects faults into the stack run as separate processes
// (Debian's etcd, `volt broker`, `volt core`, `volt ponsim`, both adapters)
// and checks that it converges: kill -9 of the core during activation and
// during flow-mods, etcd down during operations, an adapter killed while
// its OLT is deleted, a second device on an adopted OLT, a ponsim that
// shrank between two runs. Each test prints what it tried and what it
// measured (seed, kill points, convergence times).
package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// volt is the binary under test, built once by TestMain.
var volt string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "volt-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	volt = filepath.Join(dir, "volt")
	build := exec.Command("go", "build", "-o", volt, "../../cmd/volt")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build volt:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one daemon process that can be killed and started again with
// the same arguments.
type proc struct {
	t    testing.TB
	name string
	bin  string
	args []string

	mu   sync.Mutex // guards cmd, done and out
	cmd  *exec.Cmd
	done chan struct{}
	out  bytes.Buffer
}

type procWriter struct{ p *proc }

func (w procWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

func startProc(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, bin: bin, args: args}
	p.start()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			out := p.output()
			if len(out) > 6<<10 {
				out = "…" + out[len(out)-6<<10:]
			}
			t.Logf("%s output:\n%s", name, out)
		}
	})
	return p
}

func (p *proc) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = procWriter{p}, procWriter{p}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// outputLen and since let a test look at what a process logged after a
// point.
func (p *proc) outputLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Len()
}

func (p *proc) since(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n > p.out.Len() {
		return ""
	}
	return p.out.String()[n:]
}

// poll calls cond until it returns nil or the time is up; it returns how
// long it took.
func poll(t testing.TB, within time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < within {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %v", what, within, err)
	return 0
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// etcdProc runs Debian's etcd on reserved ports with its data in dir.
func etcdProc(t testing.TB, dir string) (*proc, string) {
	t.Helper()
	bin := testpeer.Program(t, "etcd", "apt-get install etcd-server")
	client, peer := testpeer.ReserveAddr(t), testpeer.ReserveAddr(t)
	p := startProc(t, "etcd", bin, "--name", "faults", "--data-dir", dir,
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "faults=http://"+peer, "--log-level", "error")
	waitTCP(t, client)
	return p, client
}

func waitTCP(t testing.TB, addr string) {
	t.Helper()
	poll(t, 30*time.Second, addr+" accepts connections", func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// stack is the whole system, one process per part.
type stack struct {
	t        testing.TB
	etcd     *proc
	etcdAddr string
	broker   *proc
	brokers  string
	core     *proc
	nbiAddr  string
	httpAddr string // the core's /metrics, /healthz, /readyz
	olta     *proc
	onua     *proc
	nbi      voltv1.VoltServiceClient
}

// newStack starts etcd, the broker, the core and both adapters.
func newStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{t: t}
	s.etcd, s.etcdAddr = etcdProc(t, t.TempDir())
	s.brokers = testpeer.ReserveAddr(t)
	s.broker = startProc(t, "broker", volt, "broker", "--listen", s.brokers, "--log-level", "warn")
	waitTCP(t, s.brokers)
	s.nbiAddr = testpeer.ReserveAddr(t)
	s.httpAddr = testpeer.ReserveAddr(t)
	s.core = startProc(t, "core", volt, "core", "--etcd", s.etcdAddr, "--brokers", s.brokers, "--nbi", s.nbiAddr, "--http", s.httpAddr, "--log-level", "info")
	waitTCP(t, s.nbiAddr)
	s.nbi = voltv1.NewVoltServiceClient(dial(t, s.nbiAddr))
	s.olta = startProc(t, "ponsim-olt", volt, "adapter", "ponsim-olt", "--brokers", s.brokers, "--grpc", "127.0.0.1:0", "--instance-id", "ponsim-olt-1", "--log-level", "info")
	s.onua = startProc(t, "ponsim-onu", volt, "adapter", "ponsim-onu", "--brokers", s.brokers, "--grpc", "127.0.0.1:0", "--instance-id", "ponsim-onu-1", "--log-level", "info")
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

// ponsim runs a simulated OLT with pons × onus ONUs.
func (s *stack) ponsim(pons, onus int, name string) (*proc, string) {
	s.t.Helper()
	addr := testpeer.ReserveAddr(s.t)
	p := startProc(s.t, "ponsim "+name, volt, "ponsim", "--grpc", addr, "--name", name,
		"--pon-ports", fmt.Sprint(pons), "--onus-per-pon", fmt.Sprint(onus), "--log-level", "warn")
	waitTCP(s.t, addr)
	return p, addr
}

func ponsimClient(t testing.TB, addr string) ponsimv1.PonSimClient {
	return ponsimv1.NewPonSimClient(dial(t, addr))
}

func (s *stack) createOLT(addr string) string {
	s.t.Helper()
	d, err := s.nbi.CreateDevice(ctxT(s.t, 10*time.Second), &voltv1.Device{Type: "ponsim_olt", HostAndPort: addr})
	if err != nil {
		s.t.Fatalf("create OLT at %s: %v", addr, err)
	}
	return d.GetId()
}

func (s *stack) device(id string) (*voltv1.Device, error) {
	return s.nbi.GetDevice(ctxT(s.t, 5*time.Second), &voltv1.ID{Id: id})
}

// converged checks that the OLT and its want ONUs are ENABLED/ACTIVE with
// no duplicate child, and its logical device has 1 NNI and want UNI
// ports, none twice.
func (s *stack) converged(oltID string, want int) error {
	ctx := ctxT(s.t, 10*time.Second)
	olt, err := s.nbi.GetDevice(ctx, &voltv1.ID{Id: oltID})
	if err != nil {
		return err
	}
	if olt.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED || olt.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE {
		return fmt.Errorf("OLT %s/%s", olt.GetAdminState(), olt.GetOperStatus())
	}
	all, err := s.nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{})
	if err != nil {
		return err
	}
	serials := map[string]bool{}
	roots, active, children := 0, 0, 0
	for _, d := range all.GetItems() {
		if d.GetRoot() {
			roots++
			continue
		}
		if d.GetParentId() != oltID {
			continue
		}
		children++
		if serials[d.GetSerialNumber()] {
			return fmt.Errorf("two children with serial %s", d.GetSerialNumber())
		}
		serials[d.GetSerialNumber()] = true
		if d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED && d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE {
			active++
		}
	}
	if children != want || active != want {
		return fmt.Errorf("%d children, %d ENABLED/ACTIVE, want %d", children, active, want)
	}
	for _, d := range all.GetItems() {
		if d.GetParentId() != oltID || d.GetRoot() {
			continue
		}
		ports, err := s.nbi.ListDevicePorts(ctx, &voltv1.ID{Id: d.GetId()})
		if err != nil {
			return err
		}
		if n := len(ports.GetItems()); n != 2 {
			return fmt.Errorf("ONU %s has %d ports, want UNI and PON", d.GetId(), n)
		}
	}
	if olt.GetLogicalDeviceId() == "" {
		return fmt.Errorf("OLT has no logical device")
	}
	lds, err := s.nbi.ListLogicalDevices(ctx, &emptypb.Empty{})
	if err != nil {
		return err
	}
	dpids := map[uint64]bool{}
	for _, ld := range lds.GetItems() {
		if dpids[ld.GetDatapathId()] {
			return fmt.Errorf("two logical devices with datapath id %016x", ld.GetDatapathId())
		}
		dpids[ld.GetDatapathId()] = true
	}
	if len(lds.GetItems()) > roots {
		return fmt.Errorf("%d logical devices for %d OLTs", len(lds.GetItems()), roots)
	}
	lps, err := s.nbi.ListLogicalDevicePorts(ctx, &voltv1.ID{Id: olt.GetLogicalDeviceId()})
	if err != nil {
		return err
	}
	nni, uni := 0, 0
	seen := map[uint32]bool{}
	for _, p := range lps.GetItems() {
		no := p.GetOfpPort().GetPortNo()
		if seen[no] {
			return fmt.Errorf("logical port %d twice", no)
		}
		seen[no] = true
		if p.GetRootPort() {
			nni++
		} else {
			uni++
		}
	}
	if nni != 1 || uni != want {
		return fmt.Errorf("%d NNI and %d UNI logical ports, want 1 and %d", nni, uni, want)
	}
	return nil
}

// say prints a line of the suite's report (also without -v).
func say(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	fmt.Fprintf(os.Stderr, "faults: %s: %s\n", t.Name(), strings.TrimSpace(line))
}

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// readyz returns the core's /readyz status code and body.
func (s *stack) readyz() (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + s.httpAddr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
