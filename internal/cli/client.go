package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Where a client command connects unless told otherwise.
const (
	DefaultServer  = "127.0.0.1:50057" // the core's NBI
	DefaultTimeout = 10 * time.Second
	// ServerEnv overrides DefaultServer; the --server flag overrides both.
	ServerEnv = "VOLT_SERVER"
)

// ClientOptions are the flags every client command takes to reach a
// component: the core's NBI or any daemon's LogService.
type ClientOptions struct {
	// Server is the gRPC target, HOST:PORT.
	Server string
	// Timeout bounds each call, connecting included.
	Timeout time.Duration
}

// AddFlags defines --server (default $VOLT_SERVER, else DefaultServer) and
// --timeout on fs.
func (o *ClientOptions) AddFlags(fs *pflag.FlagSet) {
	server := DefaultServer
	if env := os.Getenv(ServerEnv); env != "" {
		server = env
	}
	fs.StringVar(&o.Server, "server", server, "HOST:PORT of the component to talk to (env "+ServerEnv+")")
	fs.DurationVar(&o.Timeout, "timeout", DefaultTimeout, "time limit for each call, connecting included")
}

// Validate checks the flags.
func (o ClientOptions) Validate() error {
	if o.Server == "" {
		return errors.New("--server is empty")
	}
	host, port, err := net.SplitHostPort(o.Server)
	if err != nil || host == "" {
		return fmt.Errorf("invalid --server %q: want HOST:PORT, e.g. %s", o.Server, DefaultServer)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("invalid --server %q: the port must be a number 1-65535", o.Server)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, not %s", o.Timeout)
	}
	return nil
}

// connectTimeout bounds one connection attempt, the HTTP/2 handshake
// included, so that a server that accepts TCP but does not speak gRPC (a
// Kafka broker, a web server) fails fast instead of using up --timeout.
const connectTimeout = 2 * time.Second

// Dial returns a connection to o.Server. It does not wait for the server:
// the connection is made by the first call, which the call's context bounds.
// Calls that fail before reaching the server are marked so that Error can
// tell "cannot reach" from an Unavailable the server itself returned.
func (o ClientOptions) Dial() (*grpc.ClientConn, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cc, err := grpc.NewClient(o.Server,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: connectTimeout}),
		grpc.WithChainUnaryInterceptor(markUnreachableUnary),
		grpc.WithChainStreamInterceptor(markUnreachableStream),
	)
	if err != nil {
		return nil, fmt.Errorf("invalid --server %q: %s", o.Server, oneLine(status.Convert(err).Message()))
	}
	return cc, nil
}

// Call dials, runs fn with a context bounded by o.Timeout, closes the
// connection and returns fn's error as one line (see Error). Streaming
// commands that must outlive the timeout use Dial and Error instead.
func (o ClientOptions) Call(ctx context.Context, fn func(ctx context.Context, cc grpc.ClientConnInterface) error) error {
	cc, err := o.Dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	err = fn(ctx, cc)
	if status.Code(err) == codes.DeadlineExceeded && !isUnreachable(err) {
		// Who gave up is known here: our timer, or the server's own
		// deadline while ours still ran. The server's copy of our deadline
		// can end the call a moment before our timer fires: past our
		// deadline, it is ours either way.
		deadline, _ := ctx.Deadline()
		if ctx.Err() == context.DeadlineExceeded || !time.Now().Before(deadline) {
			return o.clientTimeout()
		}
		return serverGaveUp(status.Convert(err).Message())
	}
	return o.Error(err)
}

func isUnreachable(err error) bool {
	var u *unreachableError
	return errors.As(err, &u)
}

// serverGaveUp is the line for a DeadlineExceeded the server answered with.
func serverGaveUp(msg string) error {
	if genericDeadline(msg) {
		msg = "its own deadline passed (waiting for etcd or an adapter)"
	}
	return errors.New("DeadlineExceeded: the server gave up: " + oneLine(msg))
}

// clientTimeout is the line for a call that our own --timeout ended.
func (o ClientOptions) clientTimeout() error {
	return fmt.Errorf("no answer from %s within --timeout %s: the client gave up (the server may still complete the operation)", o.Server, o.Timeout)
}

// Error turns an error of a call into one line, in one voice: what the
// server answered starts with its gRPC code ("NotFound: unknown package
// \"foo\""; "DeadlineExceeded: the server gave up: …" when the server's own
// deadline passed, e.g. waiting for etcd or an adapter); what the client
// could not do says so without a code: "cannot reach HOST:PORT: connection
// refused", "HOST:PORT is not an OpenVOLT server: …", "no answer from
// HOST:PORT within --timeout 10s: the client gave up". Other errors pass
// through.
func (o ClientOptions) Error(err error) error {
	if err == nil {
		return nil
	}
	var u *unreachableError
	if errors.As(err, &u) {
		cause := dialCause(u.st.Message(), o.Server)
		if notGRPC(cause) {
			return fmt.Errorf("%s is not an OpenVOLT server: it took the connection but gave no gRPC answer within %s; is --server the NBI, by default %s?", o.Server, connectTimeout, DefaultServer)
		}
		return fmt.Errorf("cannot reach %s: %s", o.Server, cause)
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		if genericDeadline(st.Message()) {
			return o.clientTimeout()
		}
		return serverGaveUp(st.Message())
	case codes.Unimplemented:
		if svc, ok := strings.CutPrefix(st.Message(), "unknown service "); ok {
			return fmt.Errorf("%s is not an OpenVOLT server for this command: it does not serve %s; is --server the NBI, by default %s?", o.Server, svc, DefaultServer)
		}
	}
	return errors.New(st.Code().String() + ": " + oneLine(st.Message()))
}

// notGRPC reports whether a connection error says the peer accepted the
// connection but did not answer as an HTTP/2 (gRPC) server.
func notGRPC(cause string) bool {
	for _, s := range []string{"server preface", "http2", "HTTP/1", "frame", "handshake"} {
		if strings.Contains(cause, s) {
			return true
		}
	}
	return false
}

// genericDeadline reports whether a DeadlineExceeded message only restates
// the deadline (which message arrives depends on which side noticed first,
// and on whether the connection was up yet), as opposed to the server
// saying what it was waiting for.
func genericDeadline(msg string) bool {
	return msg == context.DeadlineExceeded.Error() || strings.HasPrefix(msg, "stream terminated by RST_STREAM") ||
		// gRPC's words when the deadline passes while it still connects.
		msg == context.DeadlineExceeded.Error()+" while waiting for connections to become ready"
}

// unreachableError marks an Unavailable error from a call that never reached
// the server. It keeps the status, so status.Code still sees Unavailable.
type unreachableError struct {
	st *status.Status
}

func (e *unreachableError) Error() string              { return e.st.Err().Error() }
func (e *unreachableError) GRPCStatus() *status.Status { return e.st }

// markUnreachable wraps err when the call failed as Unavailable without a
// transport stream: gRPC fills the peer only once a stream to the server
// exists.
func markUnreachable(err error, p *peer.Peer) error {
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable && p.Addr == nil {
		return &unreachableError{st: st}
	}
	return err
}

func markUnreachableUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	var p peer.Peer
	err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Peer(&p))...)
	return markUnreachable(err, &p)
}

func markUnreachableStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	var p peer.Peer
	s, err := streamer(ctx, desc, cc, method, append(opts, grpc.Peer(&p))...)
	return s, markUnreachable(err, &p)
}

// dialCause digs the useful part out of gRPC's connection error, e.g.
// `connection error: desc = "transport: Error while dialing: dial tcp
// 127.0.0.1:1: connect: connection refused"` becomes "connect: connection
// refused".
func dialCause(msg, server string) string {
	if _, quoted, ok := strings.Cut(msg, "desc = "); ok {
		if s, err := strconv.Unquote(quoted); err == nil {
			msg = s
		}
	}
	msg = strings.TrimPrefix(msg, "transport: ")
	msg = strings.TrimPrefix(msg, "Error while dialing: ")
	msg = strings.TrimPrefix(msg, "dial tcp "+server+": ")
	if msg == "name resolver error: produced zero addresses" {
		host, _, _ := net.SplitHostPort(server)
		msg = fmt.Sprintf("host %q has no address (DNS)", host)
	}
	return oneLine(msg)
}
