package openolt

import (
	"context"
	"fmt"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// ChildDeviceLost follows the core's delete of an ONU: the OLT forgets the
// ONU (DeleteOnu: its flows, schedulers and activation go, and it is
// discovered again while it is on the PON), its ONU id is freed, and this
// adapter forgets it. The core calls it once the ONU's device is gone, so
// the rediscovery makes a new device. The ONU's flows and tech-profile
// instances went with its logical port before (the core's delete removes
// them first).
func (h *handler) ChildDeviceLost(ctx context.Context, d *voltv1.Device) error {
	o := h.lookup(d.GetParentId())
	if o == nil {
		return nil // the OLT is gone or not ours: nothing held
	}
	u := o.onuByDevice(d.GetId())
	if u == nil {
		return nil
	}
	return h.a.Do(ctx, o.onuQueue(u.pon, u.serial), func(ctx context.Context) error { return o.removeONU(ctx, u) })
}

// removeONU deletes an ONU at the OLT and frees its id. It runs in the
// ONU's queue, before the discovery DeleteOnu causes.
func (o *olt) removeONU(ctx context.Context, u *onu) error {
	o.mu.Lock()
	req := &openolt.Onu{IntfId: u.pon, OnuId: u.id, SerialNumber: u.sn}
	res := o.res
	o.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	_, err := o.cli.DeleteOnu(cctx, req)
	cancel()
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("DeleteOnu %s (%d/%d): %w", u.serial, u.pon, u.id, err)
	}
	if res != nil {
		if err := res.Free(ctx, int(u.pon), PoolONU, u.id); err != nil {
			return fmt.Errorf("onu %s: %w", u.serial, err)
		}
	}
	o.mu.Lock()
	if o.onus[onuKey{u.pon, u.id}] == u {
		delete(o.onus, onuKey{u.pon, u.id})
	}
	if o.bySerial[u.serial] == u {
		delete(o.bySerial, u.serial)
	}
	dev := u.deviceID
	o.mu.Unlock()
	o.byDevice.Delete(dev)
	o.log.Info("onu deleted", "serial", u.serial, "pon", u.pon, "onu_id", u.id)
	return nil
}
