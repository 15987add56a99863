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
	root.Version = versionLine() // volt --version, the same line as volt version
	root.SetVersionTemplate("{{.Version}}\n")
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
		cli.NewKpisCommand(),
		cli.NewAlarmsCommand(),
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
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return err
		},
	}
}

func versionLine() string {
	return fmt.Sprintf("volt %s (commit %s, %s %s/%s)", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
