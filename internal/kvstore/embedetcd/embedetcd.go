// Package embedetcd runs a single-member etcd inside the OpenVOLT process,
// for single-node deployments and for tests that want a real etcd without
// installing one. Clients reach it over its client URL like any other etcd.
package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"

	"github.com/openvolt/openvolt/internal/kvstore/internal/zapbridge"
)

// Defaults for Config.
const (
	DefaultClientURL    = "http://127.0.0.1:2379"
	DefaultReadyTimeout = 30 * time.Second
)

// Config configures an embedded etcd.
type Config struct {
	// DataDir holds etcd's WAL and database; it is created if missing.
	// Reusing it restarts the same member with its data.
	DataDir string
	// ClientURL is where clients connect, e.g. "http://127.0.0.1:2379".
	// Port 0 picks a free port; Endpoints reports the one chosen.
	// Empty means DefaultClientURL. Only http is supported.
	ClientURL string
	// PeerURL is the raft peer URL. A single member never dials it, so by
	// default it is a free port on 127.0.0.1.
	PeerURL string
	// ReadyTimeout bounds the wait for the member to serve; zero means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// UnsafeNoFsync skips fsync. It makes tests fast and loses data on a
	// crash, so never set it in production.
	UnsafeNoFsync bool
	// MaxTxnOps is the most operations the member takes in one
	// transaction (etcd's --max-txn-ops); zero means DefaultMaxTxnOps.
	// Give the same number to kvstore.Config.MaxTxnOps.
	MaxTxnOps int
	// Logger receives etcd's errors; nil discards them.
	Logger *slog.Logger

	// pickPort picks the peer port when PeerURL is empty (nil: freePort);
	// a test replaces it.
	pickPort func() (int, error)
}

// DefaultMaxTxnOps is the embedded member's limit of operations per
// transaction: larger than etcd's default (128), so that the core stores
// many flow-mods in one transaction.
const DefaultMaxTxnOps = 1024

// config is Config after defaults and parsing.
type config struct {
	Config
	client, peer *url.URL
}

func (c Config) parse() (config, error) {
	if c.DataDir == "" {
		return config{}, errors.New("embedetcd: DataDir is required")
	}
	if c.ClientURL == "" {
		c.ClientURL = DefaultClientURL
	}
	if c.PeerURL == "" {
		pick := c.pickPort
		if pick == nil {
			pick = freePort
		}
		port, err := pick()
		if err != nil {
			return config{}, fmt.Errorf("embedetcd: pick peer port: %w", err)
		}
		c.PeerURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	if c.ReadyTimeout < 0 {
		return config{}, fmt.Errorf("embedetcd: negative ReadyTimeout %v", c.ReadyTimeout)
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.MaxTxnOps < 0 {
		return config{}, fmt.Errorf("embedetcd: negative MaxTxnOps %d", c.MaxTxnOps)
	}
	if c.MaxTxnOps == 0 {
		c.MaxTxnOps = DefaultMaxTxnOps
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := parseURL("ClientURL", c.ClientURL)
	if err != nil {
		return config{}, err
	}
	peer, err := parseURL("PeerURL", c.PeerURL)
	if err != nil {
		return config{}, err
	}
	return config{Config: c, client: client, peer: peer}, nil
}

func parseURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: %s: %w", field, err)
	}
	if u.Scheme != "http" || u.Port() == "" {
		return nil, fmt.Errorf("embedetcd: %s %q: want http://host:port", field, raw)
	}
	return u, nil
}

// freePort asks the kernel for a free TCP port on loopback. Another
// process may take it before etcd binds; Start then picks another.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
	maxTxnOps int
	// closing silences the errors etcd logs about its own listeners
	// closing while it shuts down.
	closing   atomic.Bool
	closeOnce sync.Once
}

// Start starts etcd and waits until it serves clients. It fails if a URL's
// port is taken (the error matches syscall.EADDRINUSE), if ctx ends, or if
// the member is not ready within cfg.ReadyTimeout. A peer port it picked
// itself (empty PeerURL) that another process takes before etcd binds it
// is picked again.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	c, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	s := &Server{maxTxnOps: c.MaxTxnOps}

	e, err := embed.StartEtcd(s.etcdConfig(c))
	for try := 1; err != nil && cfg.PeerURL == "" && try < peerPortTries && inUse(err, c.peer.Host); try++ {
		next, perr := cfg.parse() // another free peer port
		if perr != nil {
			break
		}
		c = next
		e, err = embed.StartEtcd(s.etcdConfig(c))
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("embedetcd: client URL %s or peer URL %s: address already in use: %w",
				c.ClientURL, c.PeerURL, err)
		}
		return nil, fmt.Errorf("embedetcd: start (data dir %s): %w", c.DataDir, err)
	}
	s.etcd = e

	timer := time.NewTimer(c.ReadyTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.Close()
		if err == nil {
			err = errors.New("stopped before ready")
		}
		return nil, fmt.Errorf("embedetcd: serving on %s: %w", c.ClientURL, err)
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("embedetcd: not ready within %v (data dir %s)", c.ReadyTimeout, c.DataDir)
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("embedetcd: waiting for ready: %w", ctx.Err())
	}

	// Listener addresses, not the configured URL, so port 0 resolves.
	for _, l := range e.Clients {
		s.endpoints = append(s.endpoints, "http://"+l.Addr().String())
	}
	return s, nil
}

// The raft log kept in memory: a snapshot every snapshotCount entries,
// keeping snapshotCatchUp entries behind it.
const (
	snapshotCount   = 2000
	snapshotCatchUp = 500
)

// peerPortTries bounds the peer ports Start picks before it gives up.
const peerPortTries = 3

// etcdConfig is etcd's configuration for c.
func (s *Server) etcdConfig(c config) *embed.Config {
	ec := embed.NewConfig()
	ec.Name = "openvolt"
	ec.Dir = c.DataDir
	ec.ListenClientUrls = []url.URL{*c.client}
	ec.AdvertiseClientUrls = []url.URL{*c.client}
	ec.ListenPeerUrls = []url.URL{*c.peer}
	ec.AdvertisePeerUrls = []url.URL{*c.peer}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.EnableGRPCGateway = false // only the gRPC API is used
	ec.UnsafeNoFsync = c.UnsafeNoFsync
	ec.MaxTxnOps = uint(c.MaxTxnOps)
	// One member, no follower to catch up: raft's in-memory log is cut
	// short (etcd's defaults, 10,000 + 5,000 entries, held some 25 MiB
	// of the MIBs and device records 1,024 ONUs write).
	ec.SnapshotCount = snapshotCount
	ec.SnapshotCatchUpEntries = snapshotCatchUp
	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(
		zapbridge.New(c.Logger, zapcore.ErrorLevel, s.dropShutdownNoise))
	return ec
}

// inUse reports whether err is etcd failing to listen on hostPort because
// another socket has it.
func inUse(err error, hostPort string) bool {
	var op *net.OpError
	return errors.Is(err, syscall.EADDRINUSE) && errors.As(err, &op) && op.Addr != nil && op.Addr.String() == hostPort
}

// MaxTxnOps is the member's limit of operations per transaction, to give to
// kvstore.Config.MaxTxnOps.
func (s *Server) MaxTxnOps() int { return s.maxTxnOps }

// Endpoints returns the client URLs to give to kvstore.NewEtcd.
func (s *Server) Endpoints() []string {
	return append([]string(nil), s.endpoints...)
}

// Err delivers an error if etcd stops serving on its own. It is closed
// once Close has returned.
func (s *Server) Err() <-chan error {
	return s.etcd.Err()
}

// Close stops etcd, waiting for its goroutines. Close clients first:
// etcd waits up to its request timeout for open watch streams.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.etcd.Close()
	})
	return nil
}

// dropShutdownNoise drops the errors etcd logs when Close shuts its own
// listeners ("mux: server closed", "use of closed network connection").
func (s *Server) dropShutdownNoise(_ zapcore.Entry, fields map[string]any) bool {
	if !s.closing.Load() {
		return false
	}
	msg, _ := fields["error"].(string)
	for _, noise := range []string{"server closed", "Server closed", "use of closed network connection"} {
		if strings.Contains(msg, noise) {
			return true
		}
	}
	return false
}
