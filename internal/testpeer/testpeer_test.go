package testpeer_test

import (
	"os/exec"
	"testing"

	"github.com/openvolt/openvolt/internal/testpeer"
)

// fakeT records what a helper did to a test.
type fakeT struct {
	testing.TB
	skipped, failed bool
}

// The helpers call only these; the embedded (nil) TB is never used.
func (f *fakeT) Helper()               {}
func (f *fakeT) Skip(...any)           { f.skipped = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }

func TestMissingProgram(t *testing.T) {
	const name = "volt-no-such-program"
	if _, err := exec.LookPath(name); err == nil {
		t.Fatalf("%s exists", name)
	}
	t.Setenv(testpeer.RequireEnv, "")
	f := &fakeT{}
	testpeer.Program(f, name, "nowhere")
	if !f.skipped || f.failed {
		t.Errorf("without %s: skipped %v failed %v, want a skip", testpeer.RequireEnv, f.skipped, f.failed)
	}
	t.Setenv(testpeer.RequireEnv, "1")
	f = &fakeT{}
	testpeer.Program(f, name, "nowhere")
	if !f.failed || f.skipped {
		t.Errorf("with %s: skipped %v failed %v, want a failure", testpeer.RequireEnv, f.skipped, f.failed)
	}
}

func TestPresentProgram(t *testing.T) {
	t.Setenv(testpeer.RequireEnv, "1")
	f := &fakeT{}
	if p := testpeer.Program(f, "sh", "coreutils"); p == "" || f.failed || f.skipped {
		t.Errorf("sh: path %q skipped %v failed %v", p, f.skipped, f.failed)
	}
}
