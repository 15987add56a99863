package ponsim

import (
	"context"
	"sync"

	"google.golang.org/grpc"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// maxTableBytes bounds a request: an UpdateFlowTable of an OLT with
// MaxPONPorts × MaxONUsPerPON subscribers of a few flows each.
const maxTableBytes = 64 << 20

// Serve runs a simulator built from cfg on the gRPC address addr (with the
// health service, reflection and the LogService of logs) until ctx ends.
// ready, when set, is called with the bound address once it serves. A nil
// cfg.Logger becomes logs.Logger("ponsim").
// streamWorkers serve the calls of ponsim's gRPC port on goroutines that
// stay (an OLT's adapter relays every OMCI frame with a call of its own),
// rather than on a new one per call that grows its stack each time.
const streamWorkers = 8

func Serve(ctx context.Context, cfg Config, addr string, logs *logging.Registry, ready func(addr string)) error {
	if cfg.Logger == nil {
		cfg.Logger = logs.Logger("ponsim")
	}
	s, err := New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Serve(ctx, addr, logs, ready)
}

// Serve serves s on addr until ctx ends. It closes s when ctx ends (which
// ends the streams, so the gRPC server stops promptly) and when it returns.
// Use it instead of the function Serve to keep a hand on the Sim, e.g. to
// Connect its ports.
func (s *Sim) Serve(ctx context.Context, addr string, logs *logging.Registry, ready func(addr string)) error {
	defer s.Close()
	// A whole OLT table (thousands of subscribers) is one message.
	srv, err := daemon.ListenGRPC(addr, logs, grpc.MaxRecvMsgSize(maxTableBytes), grpc.NumStreamWorkers(streamWorkers))
	if err != nil {
		return err
	}
	if t := s.cfg.Telemetry; t != nil {
		srv.ReportTo(t.Ready(), "ponsim/"+s.cfg.Name)
	}
	s.Register(srv.Server())
	for _, f := range s.facesNow() {
		f.Register(srv.Server())
		defer f.Close()
	}

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		<-runCtx.Done()
		s.Close()
	})

	s.log.Info("ponsim serving", "grpc", srv.Addr(), "name", s.cfg.Name, "olt", s.olt.serial,
		"pon_ports", s.cfg.PONPorts, "onus_per_pon", s.cfg.ONUsPerPON)
	if ready != nil {
		ready(srv.Addr())
	}
	return srv.Serve(ctx)
}
