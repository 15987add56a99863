package stack

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// OLTType is the device type of a simulated OLT.
const OLTType = "ponsim_olt"

// Provision makes sure an OLT at addr exists and is enabled: it creates the
// device when none has that address and enables it unless it already is.
// Running it again on the same stack changes nothing, so a core that is
// not ready yet or too slow to answer (Unavailable, DeadlineExceeded) is
// tried again until ctx ends; any other error is returned at once.
func Provision(ctx context.Context, nbi voltv1.VoltServiceClient, addr string) (string, error) {
	return ProvisionType(ctx, nbi, OLTType, addr)
}

// ProvisionType is Provision for an OLT of device type oltType (OLTType,
// OpenOLTType).
func ProvisionType(ctx context.Context, nbi voltv1.VoltServiceClient, oltType, addr string) (string, error) {
	for {
		id, err := provisionOnce(ctx, nbi, oltType, addr)
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded:
		default:
			return id, err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func provisionOnce(ctx context.Context, nbi voltv1.VoltServiceClient, oltType, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	devs, err := nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{Type: oltType})
	if err != nil {
		return "", err
	}
	var dev *voltv1.Device
	for _, d := range devs.GetItems() {
		if d.GetHostAndPort() == addr {
			dev = d
		}
	}
	if dev == nil {
		if dev, err = nbi.CreateDevice(ctx, &voltv1.Device{Type: oltType, HostAndPort: addr}); err != nil {
			return "", fmt.Errorf("create OLT at %s: %w", addr, err)
		}
	}
	if dev.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
		if _, err := nbi.EnableDevice(ctx, &voltv1.ID{Id: dev.GetId()}); err != nil {
			return "", fmt.Errorf("enable OLT %s: %w", dev.GetId(), err)
		}
	}
	return dev.GetId(), nil
}

// Status counts what a stack shows through the NBI.
type Status struct {
	OLTs, ActiveOLTs   int
	ONUs, ActiveONUs   int
	LogicalDevices     int
	NNIPorts, UNIPorts int
	// UpONUs are the ONUs whose OLT reports them up (oper ACTIVE), ready
	// or not for service (an openolt OLT's ONUs before an ONU adapter
	// configures them).
	UpONUs int
}

func (s Status) String() string {
	return fmt.Sprintf("%d/%d %s and %d/%d %s active; %s with %s and %s",
		s.ActiveOLTs, s.OLTs, plural(s.OLTs, "OLT", "OLTs"), s.ActiveONUs, s.ONUs, plural(s.ONUs, "ONU", "ONUs"),
		count(s.LogicalDevices, "logical device", "logical devices"),
		count(s.NNIPorts, "NNI", "NNIs"), count(s.UNIPorts, "UNI port", "UNI ports"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func count(n int, one, many string) string { return fmt.Sprintf("%d %s", n, plural(n, one, many)) }

// Count reads the status of every device and logical device.
func Count(ctx context.Context, nbi voltv1.VoltServiceClient) (Status, error) {
	var s Status
	devs, err := nbi.ListDevices(ctx, &voltv1.ListDevicesRequest{})
	if err != nil {
		return s, err
	}
	for _, d := range devs.GetItems() {
		active := d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE && d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED
		if d.GetRoot() {
			s.OLTs++
			if active {
				s.ActiveOLTs++
			}
		} else {
			s.ONUs++
			if d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE {
				s.UpONUs++
			}
			if active {
				s.ActiveONUs++
			}
		}
	}
	lds, err := nbi.ListLogicalDevices(ctx, &emptypb.Empty{})
	if err != nil {
		return s, err
	}
	s.LogicalDevices = len(lds.GetItems())
	for _, ld := range lds.GetItems() {
		ports, err := nbi.ListLogicalDevicePorts(ctx, &voltv1.ID{Id: ld.GetId()})
		if err != nil {
			return s, err
		}
		for _, p := range ports.GetItems() {
			if p.GetRootPort() {
				s.NNIPorts++
			} else {
				s.UNIPorts++
			}
		}
	}
	return s, nil
}

// WaitFor polls Count until done accepts the status or ctx ends.
func WaitFor(ctx context.Context, nbi voltv1.VoltServiceClient, every time.Duration, done func(Status) bool) (Status, error) {
	for {
		s, err := Count(ctx, nbi)
		if err == nil && done(s) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return s, err
			}
			return s, fmt.Errorf("%w (%s)", ctx.Err(), s)
		case <-time.After(every):
		}
	}
}
