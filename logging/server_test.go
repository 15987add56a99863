package logging_test

import (
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/logging"
)

// serve runs reg's LogService on a real gRPC server on a random loopback port
// and returns a client for it; both stop when the test ends.
func serve(t *testing.T, reg *logging.Registry) voltv1.LogServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	logging.Register(srv, reg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return voltv1.NewLogServiceClient(cc)
}

// component stands in for a running package: a goroutine that owns two
// loggers and writes one debug and one info line to each per step.
type component struct {
	step chan string
	done chan struct{}
}

func startComponent(t *testing.T, reg *logging.Registry) *component {
	c := &component{step: make(chan string), done: make(chan struct{})}
	dev, flow := reg.Logger("core/device"), reg.Logger("core/flow")
	go func() {
		defer close(c.done)
		for tag := range c.step {
			dev.Debug("device debug", "step", tag)
			dev.Info("device info", "step", tag)
			flow.Debug("flow debug", "step", tag)
			flow.Info("flow info", "step", tag)
			c.done <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		close(c.step)
		<-c.done
	})
	return c
}

// run makes the component log once and waits until it has.
func (c *component) run(tag string) {
	c.step <- tag
	<-c.done
}

// The point of the package: a running component's debug lines appear once
// the LogService turns its package to debug, and no other package changes.
func TestSetLevelOverGRPCReachesRunningLogger(t *testing.T) {
	reg, buf := logging.Capture("info")
	client := serve(t, reg)
	comp := startComponent(t, reg)

	comp.run("before")
	if got := buf.String(); strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "device info") {
		t.Fatalf("want info lines only before SetLogLevel, got:\n%s", got)
	}

	resp, err := client.SetLogLevel(t.Context(), &voltv1.SetLogLevelRequest{Package: "core/device", Level: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetLevels(); len(got) != 1 || got[0].GetPackage() != "core/device" || got[0].GetLevel() != "debug" {
		t.Errorf("SetLogLevel response = %v", got)
	}

	buf.Reset()
	comp.run("after")
	out := buf.String()
	if !strings.Contains(out, `level=DEBUG msg="device debug" pkg=core/device step=after`) {
		t.Errorf("core/device debug line missing after SetLogLevel:\n%s", out)
	}
	if strings.Contains(out, "flow debug") {
		t.Errorf("core/flow debug line shown though only core/device changed:\n%s", out)
	}
	if !strings.Contains(out, "flow info") {
		t.Errorf("core/flow info line missing:\n%s", out)
	}

	levels, err := client.GetLogLevels(t.Context(), &voltv1.GetLogLevelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"default": "info", "core/device": "debug", "core/flow": "info"}
	if len(levels.GetLevels()) != len(want) {
		t.Errorf("GetLogLevels = %v, want %v", levels.GetLevels(), want)
	}
	for _, l := range levels.GetLevels() {
		if want[l.GetPackage()] != l.GetLevel() {
			t.Errorf("GetLogLevels: %s=%s, want %s", l.GetPackage(), l.GetLevel(), want[l.GetPackage()])
		}
	}

	pkgs, err := client.ListPackages(t.Context(), &voltv1.ListPackagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pkgs.GetPackages(), ","); got != "core/device,core/flow" {
		t.Errorf("ListPackages = %s", got)
	}
}

func TestServerErrorCodes(t *testing.T) {
	reg := logging.Discard()
	reg.Logger("core/device")
	client := serve(t, reg)

	tests := []struct {
		name    string
		call    func() error
		code    codes.Code
		message string
	}{
		{
			name: "set invalid level",
			call: func() error {
				_, err := client.SetLogLevel(t.Context(), &voltv1.SetLogLevelRequest{Package: "core/device", Level: "verbose"})
				return err
			},
			code: codes.InvalidArgument, message: `invalid log level "verbose" (valid: debug, info, warn, error)`,
		},
		{
			name: "set unknown package",
			call: func() error {
				_, err := client.SetLogLevel(t.Context(), &voltv1.SetLogLevelRequest{Package: "foo", Level: "debug"})
				return err
			},
			code: codes.NotFound, message: `unknown package "foo"`,
		},
		{
			name: "get unknown package",
			call: func() error {
				_, err := client.GetLogLevels(t.Context(), &voltv1.GetLogLevelsRequest{Package: "foo"})
				return err
			},
			code: codes.NotFound, message: `unknown package "foo"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(tt.call())
			if st.Code() != tt.code || st.Message() != tt.message {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tt.code, tt.message)
			}
		})
	}
}
