package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

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
component. --component picks one by name instead: "core" is the core at
--server, any other name an adapter registered with that core (volt adapter
list), reached at the gRPC address it registered. Levels are debug, info,
warn and error. The pseudo-package "default" is the level new packages
start at.`,
		Example: `  volt log list --server 127.0.0.1:50057
  volt log set debug --component ponsim_olt --package adapter`,
		// Runnable only so that a mistyped subcommand is an error, not help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// Runtime errors are one line from main, not a usage dump.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	target := &logTarget{client: &client}
	client.AddFlags(cmd.PersistentFlags())
	out.AddFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&target.component, "component", "",
		`component by name: "core", or an adapter the core at --server knows`)
	cmd.AddCommand(
		newLogListCommand(target, &out),
		newLogGetCommand(target, &out),
		newLogSetCommand(target, &out),
	)
	return cmd
}

func newLogListCommand(target *logTarget, out *OutputOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every package with its level, the default first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return getLevels(cmd, target, out, "")
		},
	}
}

func newLogGetCommand(target *logTarget, out *OutputOptions) *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:   "get [--package PACKAGE]",
		Short: "Show the level of one package, or of all without --package",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return getLevels(cmd, target, out, pkg)
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", `package to show ("default" for the level new packages start at)`)
	return cmd
}

func newLogSetCommand(target *logTarget, out *OutputOptions) *cobra.Command {
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
			return target.call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewLogServiceClient(cc).SetLogLevel(ctx,
					&voltv1.SetLogLevelRequest{Package: pkg, Level: args[0]})
				if err != nil {
					return err
				}
				target.noteSharedProcess(cmd, resp.GetLevels())
				return Print(cmd.OutOrStdout(), *out, resp.GetLevels(), levelColumns())
			})
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", `package to change ("default" for the level new packages start at)`)
	return cmd
}

func getLevels(cmd *cobra.Command, target *logTarget, out *OutputOptions, pkg string) error {
	if err := out.Validate(); err != nil {
		return err
	}
	return target.call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
		resp, err := voltv1.NewLogServiceClient(cc).GetLogLevels(ctx, &voltv1.GetLogLevelsRequest{Package: pkg})
		if err != nil {
			return err
		}
		if pkg == "" {
			target.noteSharedProcess(cmd, resp.GetLevels())
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

// logTarget is the component `volt log` talks to: the one at --server, or
// with --component an adapter the core at --server knows, at the address it
// registered.
type logTarget struct {
	client    *ClientOptions
	component string
}

// noteSharedProcess says on stderr when an adapter asked for by
// --component runs in one process with the core (volt up): its levels are
// that process's, shared by every part in it, which the core's packages in
// the list give away.
func (t *logTarget) noteSharedProcess(cmd *cobra.Command, levels []*voltv1.PackageLevel) {
	if t.component == "" || t.component == "core" {
		return
	}
	for _, l := range levels {
		if strings.HasPrefix(l.GetPackage(), "core/") {
			fmt.Fprintf(cmd.ErrOrStderr(), "volt log: %s runs in one process with the core (volt up): these levels are that process's, shared by all its parts\n", t.component)
			return
		}
	}
}

func (t *logTarget) call(ctx context.Context, fn func(ctx context.Context, cc grpc.ClientConnInterface) error) error {
	c := *t.client
	if t.component != "" && t.component != "core" {
		addr, err := adminAddress(ctx, c, t.component)
		if err != nil {
			return err
		}
		c.Server = addr
	}
	return c.Call(ctx, fn)
}

// adminAddress asks the core at c.Server where adapter id serves gRPC.
func adminAddress(ctx context.Context, c ClientOptions, id string) (string, error) {
	var addr string
	err := c.Call(ctx, func(ctx context.Context, cc grpc.ClientConnInterface) error {
		resp, err := voltv1.NewVoltServiceClient(cc).ListAdapters(ctx, &emptypb.Empty{})
		if err != nil {
			return err
		}
		names := []string{"core"}
		for _, a := range resp.GetItems() {
			if a.GetId() == id {
				if addr = a.GetAdminAddress(); addr == "" {
					return fmt.Errorf("adapter %q registered no gRPC address; use --server", id)
				}
				return nil
			}
			names = append(names, a.GetId())
		}
		return fmt.Errorf("no component %q: the core at %s knows %s", id, c.Server, strings.Join(names, ", "))
	})
	return addr, err
}
