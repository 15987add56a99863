// Package cli holds the volt client commands: one file per resource, and the
// pieces they share (output.go: -o and --format; client.go: dialing and error
// lines).
//
// A resource command reads like this:
//
//	var client cli.ClientOptions
//	var out cli.OutputOptions
//	client.AddFlags(cmd.Flags())
//	out.AddFlags(cmd.Flags())
//	RunE: func(cmd *cobra.Command, _ []string) error {
//		if err := out.Validate(); err != nil {
//			return err
//		}
//		return client.Call(cmd.Context(), func(ctx context.Context, cc grpc.ClientConnInterface) error {
//			resp, err := voltv1.NewVoltServiceClient(cc).ListDevices(ctx, &voltv1.ListDevicesRequest{})
//			if err != nil {
//				return err
//			}
//			return cli.Print(cmd.OutOrStdout(), out, resp.GetItems(), deviceColumns())
//		})
//	}
package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/pflag"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"
)

// Output formats for -o.
const (
	OutputTable = "table"
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// protoJSON is how every message is shown: lowerCamelCase names, enum names,
// and every field, so that scripts find the same keys whatever the values.
var protoJSON = protojson.MarshalOptions{EmitUnpopulated: true}

// OutputOptions are the -o and --format flags every list and get command
// takes.
type OutputOptions struct {
	// Output is table (the default), json or yaml.
	Output string
	// Format, when set, is a Go template applied to each item in place of
	// the table; each result is followed by a newline.
	Format string
}

// AddFlags defines -o/--output and --format on fs.
func (o *OutputOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Output, "output", "o", OutputTable, "output format: table, json or yaml")
	fs.StringVar(&o.Format, "format", "", "Go template applied to each item, with the protobuf Go field names, e.g. '{{.Id}}';\n"+
		"enums print their full names ({{.AdminState}} is ADMIN_STATE_ENABLED), {{short .AdminState}} prints\n"+
		"them as the table does (ENABLED); {{json .}} prints the item as -o json does")
}

// Validate checks the flags before any call is made, so a typo in a template
// does not cost a round trip.
func (o OutputOptions) Validate() error {
	switch o.output() {
	case OutputTable, OutputJSON, OutputYAML:
	default:
		return fmt.Errorf("invalid --output %q (valid: table, json, yaml)", o.Output)
	}
	if o.Format == "" {
		return nil
	}
	if o.output() != OutputTable {
		return fmt.Errorf("--format cannot be combined with -o %s", o.Output)
	}
	_, err := o.template()
	return err
}

func (o OutputOptions) output() string {
	if o.Output == "" {
		return OutputTable
	}
	return strings.ToLower(o.Output)
}

func (o OutputOptions) template() (*template.Template, error) {
	t, err := template.New("format").Funcs(template.FuncMap{"json": templateJSON, "short": templateShort}).Parse(o.Format)
	if err != nil {
		return nil, fmt.Errorf("invalid --format: %s", oneLine(err.Error()))
	}
	return t, nil
}

// Column is one table column: a header and how to show an item's cell. An
// empty cell shows as "-" so that columns stay aligned for awk.
type Column[T any] struct {
	Header string
	Value  func(T) string
}

// Print writes a list: a table with a header (or one --format line per item),
// a JSON array, or a YAML sequence. Protobuf messages are shown as protojson.
func Print[T any](w io.Writer, o OutputOptions, items []T, columns []Column[T]) error {
	return write(w, o, items, columns, true)
}

// PrintOne writes a single item: a one-row table, a JSON object or a YAML
// mapping. Use it for get commands that name one resource.
func PrintOne[T any](w io.Writer, o OutputOptions, item T, columns []Column[T]) error {
	return write(w, o, []T{item}, columns, false)
}

func write[T any](w io.Writer, o OutputOptions, items []T, columns []Column[T], list bool) error {
	if err := o.Validate(); err != nil {
		return err
	}
	switch o.output() {
	case OutputJSON, OutputYAML:
		b, err := marshalJSON(items, list)
		if err != nil {
			return err
		}
		if o.output() == OutputYAML {
			if b, err = yaml.JSONToYAML(b); err != nil {
				return fmt.Errorf("yaml output: %w", err)
			}
		}
		_, err = w.Write(b)
		return err
	}
	if o.Format != "" {
		return printTemplate(w, o, items)
	}
	return printTable(w, items, columns)
}

// marshalJSON renders items as indented JSON: an array when list is set,
// otherwise the one item. protojson's output is deliberately unstable in its
// spacing, so each item is re-encoded through encoding/json.
func marshalJSON[T any](items []T, list bool) ([]byte, error) {
	raws := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		b, err := itemJSON(it)
		if err != nil {
			return nil, err
		}
		raws = append(raws, b)
	}
	var v any = raws
	if !list && len(raws) == 1 {
		v = raws[0]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // flows and templates contain < and >; keep them readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("json output: %w", err)
	}
	return buf.Bytes(), nil
}

func itemJSON(v any) ([]byte, error) {
	if m, ok := v.(proto.Message); ok {
		b, err := protoJSON.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("json output: %w", err)
		}
		if b, err = humanJSON(b); err != nil {
			return nil, fmt.Errorf("json output: %w", err)
		}
		return b, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("json output: %w", err)
	}
	return b, nil
}

// templateJSON is the template function json: {{json .}} or {{json .Peers}}.
func templateJSON(v any) (string, error) {
	b, err := itemJSON(v)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// templateShort is the template function short: an enum as the table
// shows it ({{short .AdminState}} is ENABLED); anything else as it is.
func templateShort(v any) string {
	if e, ok := v.(protoreflect.Enum); ok {
		return enumName(e)
	}
	return fmt.Sprint(v)
}

func printTemplate[T any](w io.Writer, o OutputOptions, items []T) error {
	t, err := o.template()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, it := range items {
		if err := t.Execute(&buf, it); err != nil {
			return fmt.Errorf("--format: %s", oneLine(err.Error()))
		}
		buf.WriteByte('\n')
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func printTable[T any](w io.Writer, items []T, columns []Column[T]) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	cells := make([]string, len(columns))
	for i, c := range columns {
		cells[i] = c.Header
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	for _, it := range items {
		for i, c := range columns {
			cells[i] = cell(c.Value(it))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cell keeps a value on its line and in its column.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
