// Package testpeer finds what tests against real peers need: a program
// (kcat, etcdctl, grpcurl, ovs-ofctl, os-ken…), root for network
// namespaces and AF_PACKET sockets, or a loopback port to tell a server
// to listen on (ReserveAddr).
//
// Where one is missing the test skips and says what to install, so a
// developer without Open vSwitch can still run the rest. With
// VOLT_REQUIRE_PEERS set (CI sets it) it fails instead: a missing install
// step in CI is an error, never a quiet skip.
package testpeer

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that turns skips into failures.
const RequireEnv = "VOLT_REQUIRE_PEERS"

// Required reports whether missing peers fail tests instead of skipping them.
func Required() bool { return os.Getenv(RequireEnv) != "" }

// Missing skips the test, or fails it when peers are required, with why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s is set: CI must install it)", why, RequireEnv)
		return
	}
	t.Skip(why)
}

// Program returns the path of the named program; install says how to get
// it ("apt-get install kcat"). A missing program is Missing.
func Program(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not installed ("+install+")")
	}
	return p
}

// Python3 returns Debian's own python3 with the given module importable;
// the python3 first on PATH may be another one, without Debian's packages.
func Python3(t testing.TB, module, install string) string {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import "+module).Run(); err != nil {
		Missing(t, python+" cannot import "+module+" ("+install+")")
	}
	return python
}

// Root is Missing unless the test runs as root; why says what needs it.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: "+why)
	}
}
