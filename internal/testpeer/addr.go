package testpeer

import (
	"net"
	"strconv"
	"testing"
)

// ReserveAddr returns a loopback address ("127.0.0.1:port") for a server
// the test starts later, in its own process or another, and keeps the port
// for the test. Picking a free port and closing it is not enough: go test
// runs packages side by side, and another process may bind the port, or get
// it as a connection's local port, before the server binds it.
//
// On Linux the port stays bound, with SO_REUSEADDR and without listening,
// until the test ends: the kernel hands it to no one else, while a server
// that sets SO_REUSEADDR too (Go's listeners do) binds and listens there as
// usual, and again after a restart. Until one listens, a connection is
// refused as on any free port. Elsewhere the port is only free now.
func ReserveAddr(t testing.TB) string {
	t.Helper()
	addr, err := Reserve(t, 0)
	if err != nil {
		t.Fatalf("testpeer: reserve a loopback port: %v", err)
	}
	return addr
}

// Reserve is ReserveAddr for a given port (0: any); it fails when the port
// is not free.
func Reserve(t testing.TB, port int) (string, error) {
	t.Helper()
	p, release, err := reserve(port)
	if err != nil {
		return "", err
	}
	t.Cleanup(release)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}
