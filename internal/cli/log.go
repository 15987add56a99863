package cli

import (
	"context"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// NewLogCommand returns `volt log`: show and change the log levels of one
// running component through its LogService.
func NewLogCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show and change the log levels of a running component",
		Long: `Show and change the log levels of a running component, per package.

Every volt daemon serves the LogService on its gRPC port; --server picks the
component. Levels are debug, info, warn and error. The pseudo-package
"default" is the level new packages start at.`,
		// Runnable only so that a mistyped subcommand is an error, not help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// Runtime errors are one line from main, not a usage dump.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	client.AddFlags(cmd.PersistentFlags())
	out.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newLogListCommand(&client, &out),
		newLogGetCommand(&client, &out),
		newLogSetCommand(&client, &out),
	)
	return cmd
}

func newLogListCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every package with its level, the default first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return getLevels(cmd, client, out, "")
		},
	}
}

func newLogGetCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:   "get [--package PACKAGE]",
		Short: "Show the level of one package, or of all without --package",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return getLevels(cmd, client, out, pkg)
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", `package to show ("default" for the level new packages start at)`)
	return cmd
}

func newLogSetCommand(client *ClientOptions, out *OutputOptions) *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:   "set LEVEL [--package PACKAGE]",
		Short: "Set the level of one package, or of every package and the default",
		Long: `Set the level of one package, or without --package of every package and
the default. Prints the resulting levels.`,
		Example: `  volt log set debug --package core/device
  volt log set info`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewLogServiceClient(cc).SetLogLevel(ctx,
					&voltv1.SetLogLevelRequest{Package: pkg, Level: args[0]})
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), *out, resp.GetLevels(), levelColumns())
			})
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", `package to change ("default" for the level new packages start at)`)
	return cmd
}

func getLevels(cmd *cobra.Command, client *ClientOptions, out *OutputOptions, pkg string) error {
	if err := out.Validate(); err != nil {
		return err
	}
	return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
		resp, err := voltv1.NewLogServiceClient(cc).GetLogLevels(ctx, &voltv1.GetLogLevelsRequest{Package: pkg})
		if err != nil {
			return err
		}
		return Print(cmd.OutOrStdout(), *out, resp.GetLevels(), levelColumns())
	})
}

func levelColumns() []Column[*voltv1.PackageLevel] {
	return []Column[*voltv1.PackageLevel]{
		{Header: "PACKAGE", Value: (*voltv1.PackageLevel).GetPackage},
		{Header: "LEVEL", Value: (*voltv1.PackageLevel).GetLevel},
	}
}
