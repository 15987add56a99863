package cli

import (
	"bytes"
	"strings"
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

type pair struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

func pairColumns() []Column[pair] {
	return []Column[pair]{
		{Header: "NAME", Value: func(p pair) string { return p.Name }},
		{Header: "VALUE", Value: func(p pair) string { return strings.Repeat("*", p.Value) }},
	}
}

func TestPrintPlainStructs(t *testing.T) {
	items := []pair{{"alpha", 2}, {"a\tb", 0}}
	tests := []struct {
		name string
		opts OutputOptions
		want string
	}{
		{"table is the default", OutputOptions{},
			"NAME    VALUE\nalpha   **\na b     -\n"},
		{"json array", OutputOptions{Output: "json"},
			"[\n  {\n    \"name\": \"alpha\",\n    \"value\": 2\n  },\n  {\n    \"name\": \"a\\tb\",\n    \"value\": 0\n  }\n]\n"},
		{"yaml sequence", OutputOptions{Output: "YAML"},
			"- name: alpha\n  value: 2\n- name: \"a\\tb\"\n  value: 0\n"},
		{"template per item", OutputOptions{Format: "{{.Name}}:{{.Value}}"},
			"alpha:2\na\tb:0\n"},
		{"json template function", OutputOptions{Format: "{{json .}}"},
			"{\"name\":\"alpha\",\"value\":2}\n{\"name\":\"a\\tb\",\"value\":0}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, tt.opts, items, pairColumns()); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", buf.String(), tt.want)
			}
		})
	}
}

func TestPrintEmptyList(t *testing.T) {
	for opt, want := range map[string]string{"table": "NAME   VALUE\n", "json": "[]\n", "yaml": "[]\n"} {
		var buf bytes.Buffer
		if err := Print(&buf, OutputOptions{Output: opt}, nil, pairColumns()); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("-o %s of no items = %q, want %q", opt, buf.String(), want)
		}
	}
}

// Messages print as protojson: lowerCamelCase names, enum names, every field,
// and <> unescaped.
func TestPrintProtoMessages(t *testing.T) {
	port := &voltv1.Port{
		DeviceId: "olt<1>", PortNo: 1, Label: "nni", Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI,
		AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, RxPackets: 7,
	}
	cols := []Column[*voltv1.Port]{{Header: "LABEL", Value: (*voltv1.Port).GetLabel}}

	var one bytes.Buffer
	if err := PrintOne(&one, OutputOptions{Output: "json"}, port, cols); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"deviceId": "olt<1>"`, `"type": "PORT_TYPE_ETHERNET_NNI"`,
		`"adminState": "ADMIN_STATE_ENABLED"`, `"operStatus": "OPER_STATUS_UNSPECIFIED"`, `"rxPackets": "7"`, `"peers": []`} {
		if !strings.Contains(one.String(), want) {
			t.Errorf("PrintOne json lacks %s:\n%s", want, one.String())
		}
	}
	if !strings.HasPrefix(one.String(), "{\n") {
		t.Errorf("PrintOne json is not an object:\n%s", one.String())
	}

	var yml bytes.Buffer
	if err := Print(&yml, OutputOptions{Output: "yaml"}, []*voltv1.Port{port}, cols); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(yml.String(), "- ") || !strings.Contains(yml.String(), "  rxPackets: \"7\"\n") {
		t.Errorf("yaml:\n%s", yml.String())
	}

	var tmpl bytes.Buffer
	if err := Print(&tmpl, OutputOptions{Format: "{{.Label}} {{.AdminState}} {{.RxPackets}}"}, []*voltv1.Port{port}, cols); err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.String(), "nni ADMIN_STATE_ENABLED 7\n"; got != want {
		t.Errorf("template = %q, want %q", got, want)
	}
}

func TestOutputOptionsErrors(t *testing.T) {
	tests := []struct {
		opts OutputOptions
		want string
	}{
		{OutputOptions{Output: "xml"}, `invalid --output "xml" (valid: table, json, yaml)`},
		{OutputOptions{Output: "json", Format: "{{.Name}}"}, `--format cannot be combined with -o json`},
		{OutputOptions{Format: "{{.Name"}, `invalid --format: template: format:1: unclosed action`},
	}
	for _, tt := range tests {
		err := tt.opts.Validate()
		if err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%+v) = %v, want %q", tt.opts, err, tt.want)
		}
	}
	// Execution errors surface when printing, still as one line.
	err := Print(new(bytes.Buffer), OutputOptions{Format: "{{.Missing}}"}, []pair{{}}, pairColumns())
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "--format: ") {
		t.Errorf("bad field error = %v", err)
	}
}
