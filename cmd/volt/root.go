package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/openvolt/openvolt/internal/cli"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "volt",
		Short:         "OpenVOLT: a virtual OLT hardware abstraction",
		Long:          "OpenVOLT turns PON access hardware into one OpenFlow 1.3 switch per OLT.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		newVersionCmd(),
		newCoreCmd(),
		newPonsimCmd(),
		newOfagentCmd(),
		newBrokerCmd(),
		newUpCmd(),
		newBenchCmd(),
		newAdapterCmd(),
		cli.NewLogCommand(),
		cli.NewDeviceCommand(),
		cli.NewLogicalDeviceCommand(),
		cli.NewDeviceTypeCommand(),
		cli.NewEventsCommand(),
		cli.NewTechProfileCommand(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "volt %s (commit %s, %s %s/%s)\n",
				version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
