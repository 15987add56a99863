package openolt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// olt is one OLT the adapter drives.
type olt struct {
	h    *handler
	id   string
	addr string
	log  *slog.Logger
	keys string // <prefix>/openolt/<id>/

	conn    *grpc.ClientConn // nil when addr is no valid target
	connErr error
	cli     openolt.OpenoltClient

	// mu guards the fields below. Lock order: olt.mu, then pools.mu,
	// then onu.mu is never needed (onu fields are guarded by olt.mu).
	mu        sync.Mutex
	enabled   bool
	sess      *session
	info      *openolt.DeviceInfo
	res       *pools
	onus      map[onuKey]*onu
	bySerial  map[string]*onu
	signature uint32
	unknown   map[string]bool // unknown ONUs and interfaces already logged
	flows     *flowStore      // flows.go; nil until the pools are known
	// pendingStats are port counters waiting for the next report (stats.go).
	pendingStats map[uint32]*adapterv1.PortCounter
	// pendingFlows are flow counters waiting for the next report, by
	// device flow id (stats.go).
	pendingFlows map[uint64]*adapterv1.FlowCounter
	// lastStats are the latest port statistics of each port, by device
	// port number, for the KPIs (kpis.go).
	lastStats map[uint32]*openolt.PortStatistics

	byDevice sync.Map // ONU device id → *onu, a cache for the OMCI relay (omci.go)
}

type onuKey struct{ pon, id uint32 }

// onu is one ONU the OLT activated (or is activating). Fields guarded by
// olt.mu.
type onu struct {
	pon, id  uint32
	serial   string
	sn       *openolt.SerialNumber
	deviceID string // the child device; "" until the core answered
	active   bool   // the OLT reported it up
	resend   bool   // its flows must be sent again when it is up (after a reboot)
}

func newOLT(h *handler, id, addr string) *olt {
	o := &olt{
		h: h, id: id, addr: addr,
		log:      h.log.With("olt", id),
		keys:     fmt.Sprintf("/%s/openolt/%s/", strings.Trim(h.opts.Prefix, "/"), id),
		onus:     make(map[onuKey]*onu),
		bySerial: make(map[string]*onu),
		unknown:  make(map[string]bool),
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		o.connErr = fmt.Errorf("address %q: %w", addr, err)
		o.cli = openolt.NewOpenoltClient(nil)
		return o
	}
	o.conn = conn
	o.cli = openolt.NewOpenoltClient(conn)
	return o
}

func (o *olt) client() openolt.OpenoltClient { return o.cli }

func (o *olt) close() {
	if o.conn != nil {
		o.conn.Close()
	}
}

func (o *olt) reportKey() string { return o.id + "/report" }

func (o *olt) onuQueue(pon uint32, serial string) string {
	return o.id + "/onu/" + strconv.Itoa(int(pon)) + "/" + serial
}

func (o *olt) setEnabled(v bool) {
	o.mu.Lock()
	o.enabled = v
	o.mu.Unlock()
}

// logUnknown logs what once per OLT and says whether it did.
func (o *olt) logUnknown(what string, args ...any) {
	o.mu.Lock()
	seen := o.unknown[what]
	o.unknown[what] = true
	o.mu.Unlock()
	if !seen {
		o.log.Warn("indication for "+what+": ignored", args...)
	}
}

func oltEmpty() *openolt.Empty { return &openolt.Empty{} }

func serialString(sn *openolt.SerialNumber) string {
	return fmt.Sprintf("%s%X", sn.GetVendorId(), sn.GetVendorSpecific())
}

// serialFromString is the inverse of serialString: 4 vendor characters,
// then hex.
func serialFromString(s string) (*openolt.SerialNumber, error) {
	if len(s) < 4 {
		return nil, fmt.Errorf("serial %q: too short", s)
	}
	vs, err := hex.DecodeString(s[4:])
	if err != nil {
		return nil, fmt.Errorf("serial %q: %w", s, err)
	}
	return &openolt.SerialNumber{VendorId: []byte(s[:4]), VendorSpecific: vs}, nil
}

// macFor is a stable, locally administered MAC for an OLT that reports
// none (openolt's DeviceInfo has no MAC): the core derives the datapath id
// from it.
func macFor(serial string) string {
	sum := sha256.Sum256([]byte(serial))
	mac := net.HardwareAddr{0x0a, sum[0], sum[1], sum[2], sum[3], sum[4]}
	return mac.String()
}

func (o *olt) setState(ctx context.Context, oper voltv1.OperStatus, conn voltv1.ConnectStatus) error {
	_, err := o.h.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{DeviceId: o.id, OperStatus: oper, ConnectStatus: conn})
	if err != nil {
		return fmt.Errorf("olt %s state %s/%s: %w", o.id, oper, conn, err)
	}
	return nil
}

func (o *olt) setReason(ctx context.Context, reason string) error {
	_, err := o.h.core.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: o.id, Reason: reason})
	if err != nil {
		return fmt.Errorf("olt %s reason: %w", o.id, err)
	}
	return nil
}

// fail reports a failed adoption: the reason, then FAILED.
func (o *olt) fail(ctx context.Context, why error) error {
	reason := "adoption failed: " + why.Error()
	o.log.Warn("adoption failed", "err", why)
	return errors.Join(o.setReason(ctx, reason),
		o.setState(ctx, voltv1.OperStatus_OPER_STATUS_FAILED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE))
}

// describe tells the core what the OLT is.
func (o *olt) describe(ctx context.Context, info *openolt.DeviceInfo) error {
	_, err := o.h.core.DeviceUpdate(ctx, &voltv1.Device{
		Id:              o.id,
		Vendor:          info.GetVendor(),
		Model:           info.GetModel(),
		HardwareVersion: info.GetHardwareVersion(),
		FirmwareVersion: info.GetFirmwareVersion(),
		SerialNumber:    info.GetDeviceSerialNumber(),
		MacAddress:      macFor(info.GetDeviceSerialNumber() + "/" + info.GetDeviceId()),
	})
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("olt %s update: %w: %w", o.id, errGone, err)
	}
	if err != nil {
		return fmt.Errorf("olt %s update: %w", o.id, err)
	}
	return nil
}

// childDetected reports u to the core and remembers its device id.
func (o *olt) childDetected(ctx context.Context, u *onu) error {
	o.mu.Lock()
	pon, id, serial := u.pon, u.id, u.serial
	vendor := string(u.sn.GetVendorId())
	o.mu.Unlock()
	d, err := o.h.core.ChildDeviceDetected(ctx, &adapterv1.ChildDeviceDetectedRequest{
		ParentId:        o.id,
		ParentPortNo:    ponPort(pon),
		ChildDeviceType: ChildType,
		ChannelId:       pon,
		VendorId:        vendor,
		SerialNumber:    serial,
		OnuId:           id,
	}, msgbus.WithKey(o.id+"/"+serial))
	if err != nil {
		return fmt.Errorf("onu %s detected: %w", serial, err)
	}
	o.mu.Lock()
	u.deviceID = d.GetId()
	o.mu.Unlock()
	return nil
}

// setONUState reports the ONU's states to the core.
func (o *olt) setONUState(ctx context.Context, u *onu, oper voltv1.OperStatus, conn voltv1.ConnectStatus) error {
	o.mu.Lock()
	dev := u.deviceID
	o.mu.Unlock()
	if dev == "" {
		if err := o.childDetected(ctx, u); err != nil {
			return err
		}
		o.mu.Lock()
		dev = u.deviceID
		o.mu.Unlock()
	}
	_, err := o.h.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{DeviceId: dev, OperStatus: oper, ConnectStatus: conn},
		msgbus.WithKey(o.id+"/"+u.serial))
	if err != nil {
		return fmt.Errorf("onu %s state: %w", u.serial, err)
	}
	return nil
}

// onuList is a snapshot of the ONUs.
func (o *olt) onuList() []*onu {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*onu, 0, len(o.onus))
	for _, u := range o.onus {
		out = append(out, u)
	}
	return out
}

// deleteAll deletes the ONUs on the OLT (DeleteOnu), best effort, and
// drops everything the store holds for the OLT.
func (o *olt) deleteAll(ctx context.Context) error {
	if err := o.loadONUs(ctx); err != nil {
		o.log.Info("deleting an OLT whose state could not be read", "err", err)
	}
	for _, u := range o.onuList() {
		o.mu.Lock()
		req := &openolt.Onu{IntfId: u.pon, OnuId: u.id, SerialNumber: u.sn}
		o.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, o.h.opts.DialTimeout)
		_, err := o.cli.DeleteOnu(cctx, req)
		cancel()
		if err != nil && status.Code(err) != codes.NotFound {
			o.log.Info("DeleteOnu failed while deleting the OLT", "pon", u.pon, "onu_id", u.id, "err", err)
		}
	}
	if err := o.h.opts.KV.DeletePrefix(ctx, o.keys); err != nil {
		return fmt.Errorf("olt %s: dropping its resources: %w", o.id, err)
	}
	return nil
}

// loadONUs rebuilds the ONU table from the ONU ids in the store (with
// the pools when they are not known yet, from a stored DeviceInfo).
func (o *olt) loadONUs(ctx context.Context) error {
	o.mu.Lock()
	res := o.res
	o.mu.Unlock()
	if res == nil {
		return errors.New("resource pools not known")
	}
	for pon := range o.ponCount() {
		for id, serial := range res.Used(int(pon), PoolONU) {
			o.addONU(pon, id, serial)
		}
	}
	return nil
}

func (o *olt) ponCount() uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.info.GetPonPorts()
}

// addONU records ONU id on pon with serial, unless known.
func (o *olt) addONU(pon, id uint32, serial string) *onu {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u := o.bySerial[serial]; u != nil {
		return u
	}
	sn, err := serialFromString(serial)
	if err != nil {
		o.log.Warn("stored onu with a bad serial", "pon", pon, "onu_id", id, "err", err)
		return nil
	}
	u := &onu{pon: pon, id: id, serial: serial, sn: sn}
	o.onus[onuKey{pon, id}] = u
	o.bySerial[serial] = u
	return u
}

func (o *olt) onuByID(pon, id uint32) *onu {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.onus[onuKey{pon, id}]
}
