package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
)

func newBenchFlowsCmd() *cobra.Command {
	var (
		cfg bench.FlowsConfig
	)
	cmd := logged(&cobra.Command{
		Use:   "flows",
		Short: "Measure the time from the first flow-mod until every subscriber's device flows are in ponsim",
		Long: `Start a whole stack in this process (a ponsim of ceil(N/64) PONs of up to 64
ONUs, or 16 PONs of more ONUs past 1,024), activate it, then provision N ATT-like subscribers through the NBI (7
logical flows each: EAPOL, DHCP and IGMP traps, upstream and downstream unicast
in two tables; plus the NNI traps and 3 meters) and wait until ponsim holds
every device flow the core made of them. The time runs from the first
flow-mod. With --server and --ponsim, use a running stack instead; ponsim's
tables cannot be read over its API then, so the time ends when the NBI has
taken every flow-mod (ponsim_checked: false).`,
		Args: cobra.NoArgs,
	}, true, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		return runBench(cmd, func() (bench.FlowsResult, error) { return bench.Flows(cmd.Context(), cfg) }, func(res bench.FlowsResult) string {
			return fmt.Sprintf("%d subscribers: %d logical flows, %d device flows in %.3f s (%.0f logical flows/s)",
				res.Subscribers, res.LogicalFlows, res.DeviceFlows, res.Seconds, res.FlowsPerS)
		})
	})
	fs := cmd.Flags()
	fs.IntVarP(&cfg.Subscribers, "subscribers", "n", 1024, "subscribers to provision")
	fs.IntVarP(&cfg.Concurrency, "concurrency", "c", 32, "flow-mods in flight")
	fs.StringVar(&cfg.Server, "server", "", "NBI of a running stack (default: start one in this process)")
	fs.StringVar(&cfg.PonSim, "ponsim", "", "with --server: the ponsim address of the OLT to provision")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "how long the whole run may take, activation included (default 10m)")
	fs.StringVar(&cfg.OLTType, "olt-type", stack.OLTType, "how the OLT is driven: ponsim_olt, or openolt (ponsim's openolt face, the openolt adapter)")
	return cmd
}
