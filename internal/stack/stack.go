// Package stack runs the whole system in one process: embedded etcd, the
// embedded Kafka-protocol broker, the core, one or more simulated OLTs and
// the adapters of their OLT type (both PONSIM adapters, or the openolt
// adapter over ponsim's openolt face), each talking over its real transport. `volt up` and
// `volt bench activation` use it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/logging"
)

// PonSim is one simulated OLT of the stack.
type PonSim struct {
	Name       string
	GRPC       string // listen address
	PONPorts   int
	ONUsPerPON int
	// NNIIface and UNIIfaces bind its ports to network interfaces (root).
	NNIIface  string
	UNIIfaces []string
}

// Config says what to run and where.
type Config struct {
	DataDir      string
	NBI          string
	EtcdListen   string
	BrokerListen string
	PonSims      []PonSim
	// OLTType is the device type the simulated OLTs are driven as:
	// OLTType (ponsim_olt, the default) or OpenOLTType (openolt, through
	// ponsim's openolt face). It picks the adapters (Adapters).
	OLTType string
	// OFAgent, when set, runs the OpenFlow agent against the NBI (set by
	// `volt up`; the agent's own tests run this stack, so stack cannot
	// import it).
	OFAgent func(ctx context.Context, nbi string, ready func(listenAddr string)) error
	Logs    *logging.Registry
	// Telemetry is the process's metrics registry and readiness, shared
	// by every part; HTTP, when set, is where the stack serves it
	// (/metrics, /healthz, /readyz). Telemetry nil with HTTP set: the
	// stack makes one.
	Telemetry *daemon.Telemetry
	HTTP      string
}

// Addrs are where the parts of a running stack listen.
type Addrs struct {
	NBI     string
	Brokers []string
	PonSims []string // in the order of Config.PonSims
	// OFListen is where the OpenFlow agent listens ("" without one).
	OFListen string
	// HTTP is where /metrics, /healthz and /readyz are served ("" if not).
	HTTP string
}

// Run runs the stack until ctx ends or a part fails; ready is called once
// every part serves. It returns the first part's error.
func Run(ctx context.Context, cfg Config, ready func(Addrs)) error {
	if cfg.Logs == nil {
		cfg.Logs = logging.Discard()
	}
	adapters, err := Adapters(cfg.OLTType)
	if err != nil {
		return err
	}
	// A simulator too large for the port layout fails before the rest
	// starts.
	for _, ps := range cfg.PonSims {
		if err := ps.config(nil).Validate(); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.HTTP != "" && cfg.Telemetry == nil {
		cfg.Telemetry = daemon.NewTelemetry()
	}
	ready = startingUntilReady(cfg.Telemetry, ready)
	httpAddr, stopHTTP, err := cfg.Telemetry.ServeHTTP(ctx, cfg.HTTP, cfg.Logs.Logger("daemon"))
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	defer stopHTTP()

	kv, closeKV, err := startEtcd(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeKV()
	b, err := broker.Start(ctx, broker.Config{Listen: cfg.BrokerListen, Partitions: 3, Logger: cfg.Logs.Logger("broker")})
	if err != nil {
		return err
	}
	defer b.Close()
	addrs := Addrs{Brokers: b.Addrs(), HTTP: httpAddr}

	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(name string, err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			errOnce.Do(func() { firstErr = fmt.Errorf("%s: %w", name, err) })
		}
		cancel()
	}
	defer wg.Wait()
	// start runs one part and waits until it is ready or has failed.
	start := func(name string, run func(ready func(string)) error) (string, error) {
		readyc := make(chan string, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := run(func(addr string) { readyc <- addr })
			fail(name, err)
		}()
		select {
		case addr := <-readyc:
			return addr, nil
		case <-ctx.Done():
			wg.Wait()
			if firstErr != nil {
				return "", firstErr
			}
			return "", ctx.Err()
		}
	}

	addrs.NBI, err = start("core", func(ready func(string)) error {
		return core.Run(ctx, core.Config{
			NBI:       cfg.NBI,
			KV:        kv,
			Brokers:   addrs.Brokers,
			Logs:      cfg.Logs,
			Ready:     ready,
			Telemetry: cfg.Telemetry,
		})
	})
	if err != nil {
		return err
	}
	for _, ps := range cfg.PonSims {
		addr, err := start("ponsim "+ps.Name, func(ready func(string)) error {
			return runPonSim(ctx, ps, cfg.OLTType, cfg.Logs, cfg.Telemetry, ready)
		})
		if err != nil {
			return err
		}
		addrs.PonSims = append(addrs.PonSims, addr)
	}
	acfg := adapter.Config{Brokers: addrs.Brokers, Logs: cfg.Logs, Telemetry: cfg.Telemetry}
	for _, a := range adapters {
		if _, err := start(a.Name, func(ready func(string)) error {
			c := acfg
			c.Ready = ready
			return a.Run(ctx, c, kv)
		}); err != nil {
			return err
		}
	}
	if cfg.OFAgent != nil {
		addrs.OFListen, err = start("ofagent", func(ready func(string)) error {
			return cfg.OFAgent(ctx, addrs.NBI, ready)
		})
		if err != nil {
			return err
		}
	}
	if ready != nil {
		ready(addrs)
	}
	<-ctx.Done()
	wg.Wait()
	return firstErr
}

// config is the simulator's Config, logging to logs (nil: none).
func (ps PonSim) config(logs *logging.Registry) ponsim.Config {
	c := ponsim.Config{Name: ps.Name, PONPorts: ps.PONPorts, ONUsPerPON: ps.ONUsPerPON}
	if logs != nil {
		c.Logger = logs.Logger("ponsim")
	}
	return c
}

// runPonSim serves one simulated OLT, bound to its interfaces if any.
func runPonSim(ctx context.Context, ps PonSim, oltType string, logs *logging.Registry, tel *daemon.Telemetry, ready func(string)) error {
	c := ps.config(logs)
	c.Telemetry = tel
	sim, err := ponsim.New(c)
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := attachFaces(sim, oltType, logs); err != nil {
		return err
	}
	ports, err := sim.BindInterfaces(ps.NNIIface, ps.UNIIfaces, logs.Logger("frameio"))
	if err != nil {
		return err
	}
	defer ports.Close()
	return sim.Serve(ctx, ps.GRPC, logs, ready)
}

// startingUntilReady marks the stack not ready in tel until every part
// serves (ready is called), and returns the ready to call then.
func startingUntilReady(tel *daemon.Telemetry, ready func(Addrs)) func(Addrs) {
	if tel == nil {
		return ready
	}
	tel.Ready().Set("stack/started", errors.New("starting the parts"))
	return func(a Addrs) {
		tel.Ready().Set("stack/started", nil)
		if ready != nil {
			ready(a)
		}
	}
}
