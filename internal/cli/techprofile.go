package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// DefaultTechnology is the technology `volt techprofile` commands name when
// --technology is not given (the one ponsim's openolt face reports).
const DefaultTechnology = "XGS-PON"

// NewTechProfileCommand returns `volt techprofile`: list, get, set and
// delete technology profiles (VOLTHA's tech-profile JSON) in the core's
// store.
func NewTechProfileCommand() *cobra.Command {
	cmd := resourceCommand("techprofile", "List, get, set and delete technology profiles",
		`Technology profiles, in VOLTHA's tech-profile JSON, stored by the core under
/volt/techprofiles/<technology>/<id>. A subscriber flow names its profile in
write_metadata bits 47-32; an OLT adapter instantiates it per UNI (a T-CONT,
a GEM port per priority queue). Id 64 of GPON and XGS-PON is built in until
one is set.`)
	cmd.Aliases = []string{"techprofiles", "tp"}
	cmd.AddCommand(newTPListCommand(), newTPGetCommand(), newTPSetCommand(), newTPDeleteCommand())
	return cmd
}

func tpColumns() []Column[*voltv1.TechProfile] {
	return []Column[*voltv1.TechProfile]{
		{Header: "TECHNOLOGY", Value: (*voltv1.TechProfile).GetTechnology},
		{Header: "ID", Value: func(p *voltv1.TechProfile) string { return strconv.FormatUint(uint64(p.GetId()), 10) }},
		{Header: "NAME", Value: (*voltv1.TechProfile).GetName},
		{Header: "BUILT-IN", Value: func(p *voltv1.TechProfile) string { return strconv.FormatBool(p.GetBuiltIn()) }},
	}
}

func tpFlag(cmd *cobra.Command, tech *string) {
	cmd.Flags().StringVar(tech, "technology", DefaultTechnology, "PON technology as the OLT names it (GPON, XGS-PON …)")
}

func tpID(arg string) (uint32, error) {
	id, err := strconv.ParseUint(arg, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("tech profile ID %q is not a number", arg)
	}
	return uint32(id), nil
}

func newTPListCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	var tech string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List technology profiles (all technologies unless --technology)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				resp, err := voltv1.NewVoltServiceClient(cc).ListTechProfiles(ctx, &voltv1.ListTechProfilesRequest{Technology: tech})
				if err != nil {
					return err
				}
				return Print(cmd.OutOrStdout(), out, resp.GetItems(), tpColumns())
			})
		},
	}
	cmd.Flags().StringVar(&tech, "technology", "", "only this technology")
	client.AddFlags(cmd.Flags())
	out.AddFlags(cmd.Flags())
	return cmd
}

func newTPGetCommand() *cobra.Command {
	var client ClientOptions
	var tech string
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Print a technology profile's JSON (what set takes)",
		Args:  needArgs("a tech profile ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := tpID(args[0])
			if err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				tp, err := voltv1.NewVoltServiceClient(cc).GetTechProfile(ctx, &voltv1.TechProfileID{Technology: tech, Id: id})
				if err != nil {
					return err
				}
				text := tp.GetJson()
				if !strings.HasSuffix(text, "\n") {
					text += "\n"
				}
				_, err = io.WriteString(cmd.OutOrStdout(), text)
				return err
			})
		},
	}
	tpFlag(cmd, &tech)
	client.AddFlags(cmd.Flags())
	return cmd
}

func newTPSetCommand() *cobra.Command {
	var client ClientOptions
	var out OutputOptions
	var tech, file string
	cmd := &cobra.Command{
		Use:   "set ID --file profile.json",
		Short: "Validate and store a technology profile (VOLTHA's JSON; --file - reads stdin)",
		Args:  needArgs("a tech profile ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			id, err := tpID(args[0])
			if err != nil {
				return err
			}
			if file == "" {
				return fmt.Errorf("techprofile set needs --file (the profile's JSON; - for stdin)")
			}
			var data []byte
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("reading the profile: %w", err)
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				tp, err := voltv1.NewVoltServiceClient(cc).SetTechProfile(ctx,
					&voltv1.TechProfile{Technology: tech, Id: id, Json: string(data)})
				if err != nil {
					return err
				}
				tp.Json = "" // the table, JSON or YAML says which; the text is the file
				return PrintOne(cmd.OutOrStdout(), out, tp, tpColumns())
			})
		},
	}
	tpFlag(cmd, &tech)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the profile's JSON file (- for stdin)")
	client.AddFlags(cmd.Flags())
	out.AddFlags(cmd.Flags())
	return cmd
}

func newTPDeleteCommand() *cobra.Command {
	var client ClientOptions
	var tech string
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a technology profile (a deleted default falls back to the built-in one)",
		Args:  needArgs("a tech profile ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := tpID(args[0])
			if err != nil {
				return err
			}
			return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
				_, err := voltv1.NewVoltServiceClient(cc).DeleteTechProfile(ctx, &voltv1.TechProfileID{Technology: tech, Id: id})
				return err
			})
		},
	}
	tpFlag(cmd, &tech)
	client.AddFlags(cmd.Flags())
	return cmd
}
