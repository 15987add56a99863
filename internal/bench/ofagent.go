package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/ofagent"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
)

// OFAgentConfig configures `volt bench ofagent`.
type OFAgentConfig struct {
	// Addr is a running agent's passive listener (volt up listens on
	// 127.0.0.1:6634). Empty: start a stack in this process (one ponsim of
	// one PON with two ONUs, the agent listening on a free port).
	Addr string
	// Bench is what to send; its Addr is filled in.
	Bench FlowMods
	// CPUProfile, when set, gets the CPU profile of the measured part.
	CPUProfile string
	// Timeout bounds the whole run, the stack's start included. Default
	// 10m.
	Timeout time.Duration
	Logs    *logging.Registry
}

// OFAgent measures barrier-confirmed flow-mods per second from one
// OpenFlow connection through the agent into the core.
func OFAgent(ctx context.Context, cfg OFAgentConfig) (OFAgentResult, error) {
	if cfg.Bench.FlowMods < 0 || cfg.Bench.Batch < 0 || cfg.Bench.Window < 0 {
		return OFAgentResult{}, fmt.Errorf("bench ofagent: -n %d, --batch %d, --window %d: none may be negative",
			cfg.Bench.FlowMods, cfg.Bench.Batch, cfg.Bench.Window)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Logs == nil {
		cfg.Logs = logging.Discard()
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if cfg.Addr != "" {
		return runOFBench(ctx, cfg, cfg.Addr)
	}

	dir, err := os.MkdirTemp("", "volt-bench-")
	if err != nil {
		return OFAgentResult{}, err
	}
	defer os.RemoveAll(dir)
	scfg := stack.Config{
		DataDir: dir, NBI: "127.0.0.1:0", EtcdListen: "http://127.0.0.1:0", BrokerListen: "127.0.0.1:0",
		PonSims: []stack.PonSim{{Name: "bench-ofagent", GRPC: "127.0.0.1:0", PONPorts: 1, ONUsPerPON: 2}},
		Logs:    cfg.Logs,
		OFAgent: func(ctx context.Context, nbi string, ready func(string)) error {
			return ofagent.Run(ctx, ofagent.Config{Server: nbi, Listen: "127.0.0.1:0", Logs: cfg.Logs, Ready: ready})
		},
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		res    OFAgentResult
		runErr error
	)
	err = stack.Run(runCtx, scfg, func(a stack.Addrs) {
		defer stop()
		if runErr = provisionOne(runCtx, a); runErr == nil {
			res, runErr = runOFBench(runCtx, cfg, a.OFListen)
		}
	})
	if runErr != nil {
		return res, runErr
	}
	return res, err
}

// provisionOne brings the stack's one OLT and its ONUs up.
func provisionOne(ctx context.Context, a stack.Addrs) error {
	cc, err := grpc.NewClient(a.NBI, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	nbi := voltv1.NewVoltServiceClient(cc)
	if _, err := stack.Provision(ctx, nbi, a.PonSims[0]); err != nil {
		return err
	}
	_, err = stack.WaitFor(ctx, nbi, 50*time.Millisecond, func(s stack.Status) bool {
		return s.ActiveONUs == 2 && s.UNIPorts == 2 && s.NNIPorts == 1
	})
	return err
}

func runOFBench(ctx context.Context, cfg OFAgentConfig, addr string) (OFAgentResult, error) {
	bc := cfg.Bench
	bc.Addr = addr
	if bc.FlowMods == 0 {
		bc.FlowMods = 20000
	}
	bc.Cleanup = true
	if cfg.CPUProfile != "" {
		stop, err := cpuProfile(cfg.CPUProfile)
		if err != nil {
			return OFAgentResult{}, err
		}
		defer stop()
	}
	res, err := controllerLoad(ctx, bc)
	if err != nil {
		return res, fmt.Errorf("bench ofagent: %w", err)
	}
	if res.Errors > 0 {
		return res, fmt.Errorf("bench ofagent: %d flow-mods refused, the first with %s", res.Errors, res.FirstError)
	}
	return res, nil
}
