package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/internal/stack"
	"github.com/openvolt/openvolt/logging"
)

func newBenchActivationCmd() *cobra.Command {
	var (
		cfg     bench.ActivationConfig
		ponsims string
		memMiB  int
	)
	cmd := logged(&cobra.Command{
		Use:   "activation",
		Short: "Measure the time from enabling OLTs until every ONU is ACTIVE with its UNI logical port",
		Long: `Start a whole stack in this process (or use --server with the --ponsim
addresses of a running one), enable the OLTs, and wait until every ONU is ACTIVE
and every UNI logical port exists.`,
		Args: cobra.NoArgs,
	}, true, func(cmd *cobra.Command, reg *logging.Registry) error {
		cfg.Logs = reg
		cfg.PonSims = daemon.List(ponsims)
		if cfg.Server == "" { // a stack in this process
			if err := setStackMemoryLimit(memMiB, cfg.OLTs*cfg.PONPorts*cfg.ONUsPerPON); err != nil {
				return err
			}
		}
		return runBench(cmd, func() (bench.ActivationResult, error) { return bench.Activation(cmd.Context(), cfg) }, func(res bench.ActivationResult) string {
			out := fmt.Sprintf("%d OLTs, %d ONUs up on their OLTs in %.3f s, active in %.3f s (%.0f ONUs/s), RSS %.1f MiB (peak %.1f MiB)",
				res.OLTs, res.ONUs, res.UpSeconds, res.Seconds, res.ONUsPerS, res.CoreRSSMiB, res.PeakRSSMiB)
			if res.OMCIRequests > 0 {
				out += fmt.Sprintf(", %d OMCI requests (%.0f/s)", res.OMCIRequests, res.OMCIPerS)
			}
			return out
		})
	})
	fs := cmd.Flags()
	fs.IntVar(&cfg.OLTs, "olts", 1, "OLTs to enable")
	addMemoryLimitFlag(fs, &memMiB)
	fs.IntVar(&cfg.PONPorts, "pon-ports", 1, fmt.Sprintf("PON ports per OLT (1..%d)", ponsim.MaxPONPorts))
	fs.IntVar(&cfg.ONUsPerPON, "onus-per-pon", 4, fmt.Sprintf("ONUs per PON port (1..%d)", ponsim.MaxONUsPerPON))
	fs.StringVar(&cfg.Server, "server", "", "NBI of a running stack (default: start one in this process)")
	fs.StringVar(&ponsims, "ponsim", "", "with --server: the ponsim addresses of the OLTs to enable (comma-separated)")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "how long to wait for every ONU (default 5m)")
	fs.StringVar(&cfg.OLTType, "olt-type", stack.OLTType, "how the OLTs are driven: ponsim_olt, or openolt (ponsim's openolt face, the openolt adapter)")
	return cmd
}
