package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/daemon"
)

// newBenchCmd is `volt bench`: one subcommand per benchmark of the running
// system. Each prints its result with printBench, so that -o works alike
// for all; add new benchmarks to the AddCommand list.
func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark the system: one line of results, or -o json|yaml",
		Args:  cobra.NoArgs,
		// Checked before a benchmark runs, not after it.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			out, err := cmd.Flags().GetString("output")
			if err != nil {
				return err
			}
			return checkBenchOutput(out)
		},
	}
	cmd.PersistentFlags().StringP("output", "o", "table", "output format: table (one line), json or yaml")
	cmd.AddCommand(
		newBenchRPCCmd(),
		newBenchActivationCmd(),
		newBenchFlowsCmd(),
		newBenchOFAgentCmd(),
	)
	return cmd
}

func newBenchRPCCmd() *cobra.Command {
	var (
		cfg     bench.RPCConfig
		brokers string
	)
	cmd := &cobra.Command{
		Use:   "rpc",
		Short: "Measure round trips of unary calls over Kafka (msgbus) through a real broker",
		Long: `Measure unary round trips between a msgbus client and a msgbus server in
this process, every request and response going through the broker. With no
--brokers, an embedded broker is started on loopback. A raw franz-go
request/response loop (the floor: same broker, same producer tuning, same
keys, ~180-byte records, no envelope) runs first with the same calls and
concurrency; ratio is msgbus's throughput over the floor's, p50_ratio its
p50 over the floor's, cpu_ratio its CPU time per call (this process's,
the embedded broker included) over the floor's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Brokers = daemon.List(brokers)
			return runBench(cmd, func() (bench.RPCResult, error) { return bench.RPC(cmd.Context(), cfg) }, func(res bench.RPCResult) string {
				return fmt.Sprintf("%d calls, %d in flight: p50 %.1f µs, p99 %.1f µs, %.0f calls/s, %.1f µs CPU a call; raw franz-go floor: p50 %.1f µs, %.0f calls/s, %.1f µs CPU a call (throughput %.2f×, p50 %.2f×, CPU %.2f×)",
					res.Calls, res.Concurrency, res.P50us, res.P99us, res.CallsPerS, res.CPUusPerCall, res.FloorP50us, res.FloorCallsPerS, res.FloorCPUusPerCall, res.Ratio, res.P50Ratio, res.CPURatio)
			})
		},
	}
	fs := cmd.Flags()
	addBrokersFlag(fs, &brokers, "", "starts an embedded broker")
	fs.IntVarP(&cfg.Calls, "calls", "n", 10000, "measured calls")
	fs.IntVarP(&cfg.Concurrency, "concurrency", "c", 1, "calls in flight")
	fs.IntVar(&cfg.Keys, "keys", 1000, "distinct record keys (devices)")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "unmeasured calls first (default min(calls, 1000))")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "after the measured rounds, make as many calls through msgbus alone and write their CPU profile to this file")
	return cmd
}

// printBench writes a benchmark result as -o asks: JSON (one object), or
// the text the benchmark formats.
// runBench runs a benchmark and prints its result: one line of text, or
// the result as JSON with -o json.
func runBench[R any](cmd *cobra.Command, run func() (R, error), line func(R) string) error {
	res, err := run()
	if err != nil {
		return err
	}
	return printBench(cmd, res, func(w io.Writer) error {
		_, err := io.WriteString(w, line(res)+"\n")
		return err
	})
}

func printBench(cmd *cobra.Command, v any, text func(io.Writer) error) error {
	out, err := cmd.Flags().GetString("output")
	if err != nil {
		return err
	}
	if err := checkBenchOutput(out); err != nil {
		return err
	}
	switch out {
	case "json", "yaml":
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if out == "yaml" {
			if b, err = yaml.JSONToYAML(b); err != nil {
				return err
			}
		} else {
			b = append(b, '\n')
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	return text(cmd.OutOrStdout())
}

// checkBenchOutput accepts what every other command's -o takes (text is
// the old name of table).
func checkBenchOutput(out string) error {
	switch out {
	case "table", "text", "json", "yaml":
		return nil
	}
	return fmt.Errorf("invalid --output %q (valid: table, json, yaml)", out)
}
