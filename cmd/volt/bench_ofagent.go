package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/logging"
)

func newBenchOFAgentCmd() *cobra.Command {
	var (
		cfg bench.OFAgentConfig
	)
	cmd := logged(&cobra.Command{
		Use:   "ofagent",
		Short: "Measure flow-mods per second from one OpenFlow connection into the core, barrier-confirmed",
		Long: `Connect to an OpenFlow agent's passive listener as a controller and send N
subscriber-like flow-mods (in_port a UNI, IPv4 to a distinct address, push a
VLAN, output to the NNI), a barrier after every --batch, keeping --window
barriers unanswered; the clock stops at the last barrier reply, so every
flow-mod counted is stored by the core. The flows are deleted afterwards.
Without --addr, a whole stack starts in this process (embedded etcd and
broker, ponsim with 2 ONUs, adapters, core, agent); with --addr, the agent
of a running stack is used (volt up listens on 127.0.0.1:6634).`,
		Args: cobra.NoArgs,
	}, true, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		return runBench(cmd, func() (bench.OFAgentResult, error) { return bench.OFAgent(cmd.Context(), cfg) }, func(res bench.OFAgentResult) string {
			return fmt.Sprintf("%d flow-mods in %.3f s: %.0f flow-mods/s (barrier p50 %.1f ms, max %.1f ms)",
				res.FlowMods, res.Seconds, res.FlowModsPerS, res.BarrierP50Ms, res.BarrierMaxMs)
		})
	})
	fs := cmd.Flags()
	fs.StringVar(&cfg.Addr, "addr", "", "a running agent's passive listener, HOST:PORT (default: start a stack in this process)")
	fs.IntVarP(&cfg.Bench.FlowMods, "flow-mods", "n", 20000, "flow-mods to send")
	fs.IntVar(&cfg.Bench.Batch, "batch", 1000, "flow-mods between two barriers")
	fs.IntVar(&cfg.Bench.Window, "window", 4, "barriers that may be unanswered")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "how long the whole run may take (default 10m)")
	return cmd
}
