package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/cli"
	"github.com/openvolt/openvolt/logging"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// serve runs register's services on a real gRPC server on a random loopback
// port until the test ends, and returns its address.
func serve(t *testing.T, register func(grpc.ServiceRegistrar)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	register(srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return lis.Addr().String()
}

// component serves a LogService over a registry with two packages, as a
// daemon does.
func component(t *testing.T) (*logging.Registry, string) {
	reg := logging.Discard()
	reg.Logger("core/device")
	reg.Logger("core/flow")
	return reg, serve(t, func(s grpc.ServiceRegistrar) { logging.Register(s, reg) })
}

// volt runs `volt log ARGS` in process and returns what it printed.
func volt(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := cli.NewLogCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestLogCommands(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list", []string{"list"},
			"PACKAGE       LEVEL\ndefault       info\ncore/device   info\ncore/flow     info\n"},
		{"get without package is all", []string{"get"},
			"PACKAGE       LEVEL\ndefault       info\ncore/device   info\ncore/flow     info\n"},
		{"get one", []string{"get", "--package", "core/flow"},
			"PACKAGE     LEVEL\ncore/flow   info\n"},
		{"get default", []string{"get", "--package", "default"},
			"PACKAGE   LEVEL\ndefault   info\n"},
		{"get json", []string{"get", "--package", "core/device", "-o", "json"},
			"[\n  {\n    \"package\": \"core/device\",\n    \"level\": \"info\"\n  }\n]\n"},
		{"list yaml", []string{"list", "-o", "yaml"},
			"- level: info\n  package: default\n- level: info\n  package: core/device\n- level: info\n  package: core/flow\n"},
		{"list format", []string{"list", "--format", "{{.Package}}={{.Level}}"},
			"default=info\ncore/device=info\ncore/flow=info\n"},
		{"set one", []string{"set", "debug", "--package", "core/device"},
			"PACKAGE       LEVEL\ncore/device   debug\n"},
		{"set all prints every level", []string{"set", "WARN", "-o", "json"},
			`[
  {
    "package": "default",
    "level": "warn"
  },
  {
    "package": "core/device",
    "level": "warn"
  },
  {
    "package": "core/flow",
    "level": "warn"
  }
]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := component(t)
			out, errOut, err := volt(t, append(tt.args, "--server", addr)...)
			if err != nil {
				t.Fatalf("volt log %s: %v", strings.Join(tt.args, " "), err)
			}
			if out != tt.want || errOut != "" {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", out, tt.want, errOut)
			}
		})
	}
}

// -o json is exactly an array of {"package", "level"} objects.
func TestLogJSONShape(t *testing.T) {
	_, addr := component(t)
	out, _, err := volt(t, "list", "-o", "json", "--server", addr)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]string
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(got) != 3 {
		t.Fatalf("got %d items, want 3: %v", len(got), got)
	}
	for _, m := range got {
		if len(m) != 2 || m["package"] == "" || m["level"] != "info" {
			t.Errorf("item %v is not {package, level}", m)
		}
	}
}

// set changes the running registry: the named package only, or everything.
func TestLogSetChangesComponent(t *testing.T) {
	reg, addr := component(t)
	if _, _, err := volt(t, "set", "debug", "--package", "core/device", "--server", addr); err != nil {
		t.Fatal(err)
	}
	if got, want := levels(t, reg), "default=info core/device=debug core/flow=info"; got != want {
		t.Errorf("after set one: %s, want %s", got, want)
	}
	if _, _, err := volt(t, "set", "error", "--server", addr); err != nil {
		t.Fatal(err)
	}
	if got, want := levels(t, reg), "default=error core/device=error core/flow=error"; got != want {
		t.Errorf("after set all: %s, want %s", got, want)
	}
}

func levels(t *testing.T, reg *logging.Registry) string {
	t.Helper()
	ls, err := reg.Levels("")
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, l := range ls {
		parts = append(parts, l.Package+"="+l.Level)
	}
	return strings.Join(parts, " ")
}

func TestServerFromEnv(t *testing.T) {
	_, addr := component(t)
	t.Setenv(cli.ServerEnv, addr)
	out, _, err := volt(t, "get", "--package", "core/flow", "--format", "{{.Level}}")
	if err != nil || out != "info\n" {
		t.Errorf("with %s=%s: %q, %v", cli.ServerEnv, addr, out, err)
	}
}

// blocking is a LogService that never answers GetLogLevels while the test
// runs (an answer when the call's deadline passes would race the client's
// own), and answers SetLogLevel with a server-side Unavailable.
type blocking struct {
	voltv1.UnimplementedLogServiceServer
	release chan struct{} // closed when the test ends
}

func (b blocking) GetLogLevels(context.Context, *voltv1.GetLogLevelsRequest) (*voltv1.GetLogLevelsResponse, error) {
	<-b.release
	return nil, status.Error(codes.Unavailable, "test over")
}

func (blocking) SetLogLevel(context.Context, *voltv1.SetLogLevelRequest) (*voltv1.SetLogLevelResponse, error) {
	return nil, status.Error(codes.Unavailable, "store is down")
}

// gaveUp is a LogService whose own deadline passes before the caller's: it
// answers DeadlineExceeded at once, with and without saying why.
type gaveUp struct {
	voltv1.UnimplementedLogServiceServer
}

func (gaveUp) GetLogLevels(context.Context, *voltv1.GetLogLevelsRequest) (*voltv1.GetLogLevelsResponse, error) {
	return nil, status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
}

func (gaveUp) SetLogLevel(context.Context, *voltv1.SetLogLevelRequest) (*voltv1.SetLogLevelResponse, error) {
	return nil, status.Error(codes.DeadlineExceeded, "etcd did not answer within 10s")
}

func TestLogErrors(t *testing.T) {
	_, addr := component(t)
	release := make(chan struct{})
	slow := serve(t, func(s grpc.ServiceRegistrar) { voltv1.RegisterLogServiceServer(s, blocking{release: release}) })
	t.Cleanup(func() { close(release) }) // before the server stops
	server := serve(t, func(s grpc.ServiceRegistrar) { voltv1.RegisterLogServiceServer(s, gaveUp{}) })
	closed := closedAddr(t)

	tests := []struct {
		name string
		args []string
		want string // the whole error line
	}{
		{"invalid level", []string{"set", "verbose", "--package", "core/device", "--server", addr},
			`InvalidArgument: invalid log level "verbose" (valid: debug, info, warn, error)`},
		{"unknown package on set", []string{"set", "debug", "--package", "foo", "--server", addr},
			`NotFound: unknown package "foo"`},
		{"unknown package on get", []string{"get", "--package", "foo", "--server", addr},
			`NotFound: unknown package "foo"`},
		{"nobody listening", []string{"list", "--server", closed},
			"cannot reach " + closed + ": connect: connection refused"},
		{"timeout", []string{"list", "--server", slow, "--timeout", "100ms"},
			"no answer from " + slow + " within --timeout 100ms: the client gave up (the server may still complete the operation)"},
		{"the server's deadline", []string{"list", "--server", server},
			"DeadlineExceeded: the server gave up: its own deadline passed (waiting for etcd or an adapter)"},
		{"the server's deadline, with its reason", []string{"set", "info", "--server", server},
			"DeadlineExceeded: the server gave up: etcd did not answer within 10s"},
		{"server says unavailable", []string{"set", "info", "--server", slow},
			"Unavailable: store is down"},
		{"bad output", []string{"list", "-o", "xml", "--server", addr},
			`invalid --output "xml" (valid: table, json, yaml)`},
		{"bad template", []string{"list", "--format", "{{.Package", "--server", addr},
			"invalid --format: template: format:1: unclosed action"},
		{"zero timeout", []string{"list", "--server", addr, "--timeout", "0s"},
			"--timeout must be positive, not 0s"},
		{"empty server", []string{"list", "--server", ""},
			"--server is empty"},
		{"mistyped subcommand", []string{"lst", "--server", addr},
			`unknown command "lst" for "log"`},
		{"missing level", []string{"set", "--server", addr},
			"accepts 1 arg(s), received 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := volt(t, tt.args...)
			if err == nil {
				t.Fatalf("no error; stdout %q", out)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			// One line from main; no usage dump, nothing printed by cobra.
			if out != "" || errOut != "" {
				t.Errorf("printed on error: stdout %q, stderr %q", out, errOut)
			}
		})
	}
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// --component reaches an adapter at the gRPC address it registered with the
// core at --server; "core" is the core itself.
func TestLogComponent(t *testing.T) {
	adapterReg := logging.Discard()
	adapterReg.Logger("adapter")
	adapterAddr := serve(t, func(s grpc.ServiceRegistrar) { logging.Register(s, adapterReg) })
	nbi := newFakeNBI()
	nbi.Adapters[0].AdminAddress = adapterAddr
	coreReg := logging.Discard()
	coreReg.Logger("core/device")
	core := serve(t, func(s grpc.ServiceRegistrar) {
		nbi.Register(s)
		logging.Register(s, coreReg)
	})

	out, errOut, err := volt(t, "set", "debug", "--package", "adapter", "--component", "ponsim_olt", "--server", core)
	if err != nil || out != "PACKAGE   LEVEL\nadapter   debug\n" || errOut != "" {
		t.Fatalf("set on the adapter: %v\n%s\nstderr %q", err, out, errOut)
	}
	if got, err := adapterReg.Levels("adapter"); err != nil || len(got) != 1 || got[0].Level != "debug" {
		t.Errorf("the adapter's level: %v %v", got, err)
	}
	out, _, err = volt(t, "list", "--component", "core", "--server", core, "--format", "{{.Package}}")
	if err != nil || out != "default\ncore/device\n" {
		t.Errorf("list on the core: %v\n%s", err, out)
	}
	// An adapter in one process with the core (volt up) shows that process's
	// levels, and says so.
	nbi.Adapters[0].AdminAddress = core
	out, errOut, err = volt(t, "list", "--component", "ponsim_olt", "--server", core, "--format", "{{.Package}}")
	if err != nil || out != "default\ncore/device\n" ||
		errOut != "volt log: ponsim_olt runs in one process with the core (volt up): these levels are that process's, shared by all its parts\n" {
		t.Errorf("list on an adapter in the core's process: %v\n%s\nstderr %q", err, out, errOut)
	}
	for args, want := range map[string]string{
		"nope":       `no component "nope": the core at ` + core + ` knows core, ponsim_olt, ponsim_onu`,
		"ponsim_onu": `adapter "ponsim_onu" registered no gRPC address; use --server`,
	} {
		if _, _, err := volt(t, "list", "--component", args, "--server", core); err == nil || err.Error() != want {
			t.Errorf("--component %s: %v, want %q", args, err, want)
		}
	}
}
