// Package e2e runs the volt binary as a user would: real processes, real
// ports, real etcd, and the real peers (grpcurl) where they are installed.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/testpeer"
)

// volt is the binary under test, built once by TestMain.
var volt string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "volt-e2e-")
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

// freeAddr returns a loopback address nothing listens on, kept for the
// test (testpeer.ReserveAddr) so that no other process takes it before the
// daemon given it binds it, or between a daemon's stop and restart.
func freeAddr(t testing.TB) string {
	t.Helper()
	return testpeer.ReserveAddr(t)
}

// run runs volt with args to completion and returns stdout, stderr and the
// exit code.
func run(t testing.TB, timeout time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, volt, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("volt %s did not finish within %v", strings.Join(args, " "), timeout)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// daemon is a volt process running in the background.
type daemon struct {
	cmd    *exec.Cmd
	stdout *lockedWriter
	stderr *lockedWriter
	done   chan error
}

func start(t testing.TB, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(volt, args...)
	d := &daemon{cmd: cmd, stdout: &lockedWriter{buf: &bytes.Buffer{}}, stderr: &lockedWriter{buf: &bytes.Buffer{}}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			// What the daemon said, for a failure that happened inside it.
			tail := func(w *lockedWriter) string {
				out := w.String()
				if len(out) > 8<<10 {
					out = "…" + out[len(out)-8<<10:]
				}
				return out
			}
			t.Logf("volt %s (pid %d)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), cmd.Process.Pid, tail(d.stdout), tail(d.stderr))
		}
	})
	return d
}

func (d *daemon) kill() {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Kill()
	<-d.done
	d.done <- nil // later kills return at once
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t testing.TB) {
	t.Helper()
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Errorf("daemon exit: %v\n%s", err, d.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("daemon did not stop on SIGINT")
	}
}

// waitTCP waits until addr accepts connections.
func waitTCP(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never accepted connections", addr)
}

// lockedWriter lets a test read a daemon's output while it writes.
type lockedWriter struct {
	mu  sync.Mutex // guards buf
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startListener occupies addr until the returned function is called.
func startListener(t testing.TB, addr string) func() {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return func() { l.Close() }
}
