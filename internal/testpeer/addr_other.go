//go:build !linux

package testpeer

import "net"

// reserve finds that 127.0.0.1:port is free and lets it go: other systems
// do not let a listener share a port with a bound socket.
func reserve(port int) (int, func(), error) {
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		return 0, nil, err
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p, func() {}, nil
}
