package testpeer_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"

	"github.com/openvolt/openvolt/internal/testpeer"
)

// A reserved port refuses connections, is no one else's (a socket without
// SO_REUSEADDR cannot bind it), and takes a Go listener, again and again.
func TestReserveAddr(t *testing.T) {
	addr := testpeer.ReserveAddr(t)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection before anything listened", addr)
	}
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	syscall.Close(fd)
	if err != syscall.EADDRINUSE {
		t.Errorf("plain bind of a reserved port: %v, want EADDRINUSE", err)
	}
	for range 2 { // a server that restarts
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on the reserved %s: %v", addr, err)
		}
		if _, err := testpeer.Reserve(t, port); err == nil {
			t.Error("reserved a port something listens on")
		}
		l.Close()
	}
}
