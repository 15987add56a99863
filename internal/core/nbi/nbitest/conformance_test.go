package nbitest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/internal/core/nbi/nbitest"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/msgbus"
)

// target is an NBI to run the calls against, and how to make a device type
// known to it (an adapter registering).
type target struct {
	nbi          voltv1.VoltServiceClient
	registerType func(t *testing.T, typ string)
}

func fakeTarget(t *testing.T) target {
	f := nbitest.New()
	return target{nbi: nbitest.Dial(t, f.Serve(t)), registerType: func(_ *testing.T, typ string) {
		f.Lock()
		f.Types = append(f.Types, &voltv1.DeviceType{Id: typ, Adapter: typ})
		f.Unlock()
	}}
}

// realTarget is a core on a memory store and an in-process broker; a type
// is registered the way an adapter does it, over Kafka.
func realTarget(t *testing.T) target {
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- core.Run(ctx, core.Config{NBI: "127.0.0.1:0", KV: kvstore.NewMemory(), Brokers: b.Addrs(),
			AdapterTimeout: 2 * time.Second, Ready: func(addr string) { ready <- addr }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("core stopped with %v", err)
		}
	})
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("core stopped: %v", err)
	}
	return target{nbi: nbitest.Dial(t, addr), registerType: func(t *testing.T, typ string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: b.Addrs(), Name: typ + "-adapter", Key: adapter.DeviceKeyFunc()})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = adapterv1.NewCoreServiceClient(conn.To(core.DefaultTopic)).Register(ctx, &adapterv1.RegisterRequest{
			Adapter:     &voltv1.Adapter{Id: typ + "-adapter", Vendor: "test", Version: "1", Endpoint: typ},
			DeviceTypes: []*voltv1.DeviceType{{Id: typ, Adapter: typ + "-adapter"}},
		})
		if err != nil {
			t.Fatalf("register %s: %v", typ, err)
		}
	}}
}

// check is one call and how its answer must agree: the status code always,
// the message too when exact.
type check struct {
	name  string
	exact bool
	call  func(ctx context.Context, c voltv1.VoltServiceClient) error
}

// answers runs the checks in order on tg, registering the type "conf"
// before the checks from afterType on, and returns each answer.
func answers(t *testing.T, tg target, checks []check, afterType int) []*status.Status {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*status.Status
	for i, c := range checks {
		if i == afterType {
			tg.registerType(t, "conf")
		}
		out = append(out, status.Convert(c.call(ctx, tg.nbi)))
	}
	return out
}

// The fake answers what the clients ask as the core does: the same codes,
// and the same messages where the message is the core's (not found,
// already exists, bad input).
func TestFakeAnswersLikeTheCore(t *testing.T) {
	id := func(s string) *voltv1.ID { return &voltv1.ID{Id: s} }
	addFlow := &openflowv1.FlowMod{Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, Priority: 10}
	checks := []check{
		{"list devices", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			ds, err := c.ListDevices(ctx, &voltv1.ListDevicesRequest{})
			if err == nil && len(ds.GetItems()) != 0 {
				return fmt.Errorf("%d devices", len(ds.GetItems()))
			}
			return err
		}},
		{"get unknown device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.GetDevice(ctx, id("nope"))
			return err
		}},
		{"get without id", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.GetDevice(ctx, id(""))
			return err
		}},
		{"ports of unknown device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.ListDevicePorts(ctx, id("nope"))
			return err
		}},
		{"flows of unknown device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.ListDeviceFlows(ctx, id("nope"))
			return err
		}},
		{"enable unknown device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.EnableDevice(ctx, id("nope"))
			return err
		}},
		{"delete unknown device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.DeleteDevice(ctx, id("nope"))
			return err
		}},
		{"create of an unknown type", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.CreateDevice(ctx, &voltv1.Device{Type: "conf", MacAddress: "aa:bb:cc:dd:ee:01"})
			return err
		}},
		{"get unknown logical device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.GetLogicalDevice(ctx, id("nope"))
			return err
		}},
		{"flows of unknown logical device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.ListLogicalDeviceFlows(ctx, id("nope"))
			return err
		}},
		{"flow-mod to unknown logical device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.UpdateLogicalDeviceFlowTable(ctx, &voltv1.FlowTableUpdate{Id: "nope", FlowMod: addFlow})
			return err
		}},
		{"flow-mod without mod", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.UpdateLogicalDeviceFlowTable(ctx, &voltv1.FlowTableUpdate{Id: "nope"})
			return err
		}},
		{"port of unknown logical device", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.EnableLogicalDevicePort(ctx, &voltv1.LogicalPortID{LogicalDeviceId: "nope", PortId: "p"})
			return err
		}},
		{"events of an unknown payload", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			s, err := c.ReceiveChangeEvents(ctx, &voltv1.ReceiveChangeEventsRequest{Payloads: []string{"nope"}})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}},
		// The type is known from here on.
		{"create", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			d, err := c.CreateDevice(ctx, &voltv1.Device{Id: "conf1", Type: "conf", MacAddress: "aa:bb:cc:dd:ee:01"})
			if err == nil && (d.GetId() != "conf1" || d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_PREPROVISIONED) {
				return fmt.Errorf("created %v", d)
			}
			return err
		}},
		{"create again", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.CreateDevice(ctx, &voltv1.Device{Id: "conf1", Type: "conf", MacAddress: "aa:bb:cc:dd:ee:02"})
			return err
		}},
		{"get", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			d, err := c.GetDevice(ctx, id("conf1"))
			if err == nil && (d.GetType() != "conf" || d.GetMacAddress() != "aa:bb:cc:dd:ee:01") {
				return fmt.Errorf("got %v", d)
			}
			return err
		}},
		{"list by type", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			ds, err := c.ListDevices(ctx, &voltv1.ListDevicesRequest{Type: "conf"})
			if err == nil && len(ds.GetItems()) != 1 {
				return fmt.Errorf("%d devices", len(ds.GetItems()))
			}
			return err
		}},
		{"disable a pre-provisioned device", false, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.DisableDevice(ctx, id("conf1"))
			return err
		}},
		{"delete", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.DeleteDevice(ctx, id("conf1"))
			return err
		}},
		{"get deleted", true, func(ctx context.Context, c voltv1.VoltServiceClient) error {
			_, err := c.GetDevice(ctx, id("conf1"))
			return err
		}},
	}
	const afterType = 14
	real := answers(t, realTarget(t), checks, afterType)
	fake := answers(t, fakeTarget(t), checks, afterType)
	for i, c := range checks {
		r, f := real[i], fake[i]
		t.Logf("%s: %v %q", c.name, r.Code(), r.Message())
		if r.Code() != f.Code() || (c.exact && r.Message() != f.Message()) {
			t.Errorf("%s: fake answers %v %q, the core %v %q", c.name, f.Code(), f.Message(), r.Code(), r.Message())
		}
	}
}
