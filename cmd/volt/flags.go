package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// logged gives cmd the log flags (--log-level, --log-format) and a RunE
// that builds the process's log registry from them, then runs run with
// it. Quiet makes warn the default level: a benchmark's output is its
// result, not the stack's info lines.
func logged(cmd *cobra.Command, quiet bool, run func(cmd *cobra.Command, reg *logging.Registry) error) *cobra.Command {
	var logs daemon.LogFlags
	fs := cmd.Flags()
	logs.AddFlags(fs)
	if quiet {
		fs.Lookup("log-level").DefValue = "warn"
		_ = fs.Set("log-level", "warn")
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		reg, err := logs.Registry()
		if err != nil {
			return err
		}
		return run(cmd, reg)
	}
	return cmd
}

// addBrokersFlag registers --brokers (env VOLT_BROKERS) into brokers;
// def is the default, and what the usage says of an empty value.
func addBrokersFlag(fs *pflag.FlagSet, brokers *string, def, empty string) {
	usage := "Kafka brokers (comma-separated)"
	if empty != "" {
		usage += "; empty " + empty
	}
	fs.StringVar(brokers, "brokers", daemon.Env("VOLT_BROKERS", def), usage)
}

// addPerDeviceFlag registers --metrics-per-device.
func addPerDeviceFlag(fs *pflag.FlagSet, on *bool) {
	fs.BoolVar(on, "metrics-per-device", false, "label the flow, group and meter table metrics with each logical device (small deployments only: a series per device)")
}
