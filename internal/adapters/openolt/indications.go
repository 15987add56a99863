package openolt

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

func ponPort(pon uint32) uint32 { return portno.OLTPON(pon) }

func operOf(s string) voltv1.OperStatus {
	if s == "up" {
		return voltv1.OperStatus_OPER_STATUS_ACTIVE
	}
	return voltv1.OperStatus_OPER_STATUS_DISCOVERED
}

// indication hands one indication to the queue it belongs in; it never
// blocks on the core.
func (o *olt) indication(ind *openolt.Indication) {
	switch d := ind.GetData().(type) {
	case *openolt.Indication_OltInd:
		up := d.OltInd.GetOperState() == "up"
		o.h.a.Submit(o.reportKey(), func(ctx context.Context) error { return o.oltState(ctx, up) })
	case *openolt.Indication_IntfOperInd:
		in := d.IntfOperInd
		o.h.a.Submit(o.reportKey(), func(ctx context.Context) error { return o.port(ctx, in.GetType(), in.GetIntfId(), in.GetOperState()) })
	case *openolt.Indication_IntfInd:
		// The PON's admin state; its oper state follows in IntfOperInd.
	case *openolt.Indication_OnuDiscInd:
		in := d.OnuDiscInd
		serial := serialString(in.GetSerialNumber())
		o.h.a.Submit(o.onuQueue(in.GetIntfId(), serial), func(ctx context.Context) error { return o.discovered(ctx, in) })
	case *openolt.Indication_OnuInd:
		in := d.OnuInd
		u := o.onuByID(in.GetIntfId(), in.GetOnuId())
		if u == nil {
			o.logUnknown(fmt.Sprintf("unknown onu %d on pon %d", in.GetOnuId(), in.GetIntfId()))
			return
		}
		up := in.GetOperState() == "up"
		o.h.a.Submit(o.onuQueue(u.pon, u.serial), func(ctx context.Context) error { return o.onuState(ctx, u, up) })
	case *openolt.Indication_PktInd:
		in := d.PktInd
		o.h.a.Submit(o.id+"/packets", func(ctx context.Context) error { return o.packetIn(ctx, in) })
	case *openolt.Indication_OmciInd:
		in := d.OmciInd
		u := o.onuByID(in.GetIntfId(), in.GetOnuId())
		if u == nil {
			o.logUnknown(fmt.Sprintf("omci from unknown onu %d on pon %d", in.GetOnuId(), in.GetIntfId()))
			return
		}
		o.omciIn(u, in.GetPkt())
	case *openolt.Indication_PortStats:
		o.portStats(d.PortStats)
	case *openolt.Indication_AlarmInd:
		o.alarmInd(d.AlarmInd)
	case *openolt.Indication_FlowStats:
		o.flowStats(d.FlowStats)
	}
}

// oltState follows the OLT indication: up makes the OLT ACTIVE and
// REACHABLE (and its NNI flows are sent again when the OLT lost them).
func (o *olt) oltState(ctx context.Context, up bool) error {
	if !up {
		o.log.Info("OLT indication: down")
		return nil
	}
	if err := o.setReason(ctx, ""); err != nil {
		return err
	}
	if err := o.setState(ctx, voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE); err != nil {
		return err
	}
	return o.resendFlows(ctx, nil)
}

// port reports an NNI or PON port.
func (o *olt) port(ctx context.Context, typ string, intf uint32, state string) error {
	var p *voltv1.Port
	switch typ {
	case "nni":
		if intf > 14 {
			o.logUnknown(fmt.Sprintf("nni %d beyond the port layout", intf))
			return nil
		}
		p = &voltv1.Port{PortNo: portno.NNI(intf), Label: fmt.Sprintf("nni-%d", intf), Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI}
	case "pon":
		if intf >= o.ponCount() {
			o.logUnknown(fmt.Sprintf("unknown pon interface %d", intf))
			return nil
		}
		p = &voltv1.Port{PortNo: ponPort(intf), Label: fmt.Sprintf("pon-%d", intf), Type: voltv1.PortType_PORT_TYPE_PON_OLT}
	default:
		o.logUnknown(fmt.Sprintf("interface type %q", typ), "intf_id", intf)
		return nil
	}
	p.AdminState = voltv1.AdminState_ADMIN_STATE_ENABLED
	p.OperStatus = operOf(state)
	if _, err := o.h.core.PortCreated(ctx, &adapterv1.PortCreatedRequest{DeviceId: o.id, Port: p}); err != nil {
		return fmt.Errorf("port %s: %w", p.GetLabel(), err)
	}
	return nil
}

// discovered handles an ONU discovery: an ONU id (the one it had, or a
// new one), the child device, then ActivateOnu. It runs in the ONU's
// queue.
func (o *olt) discovered(ctx context.Context, in *openolt.OnuDiscIndication) error {
	pon, sn := in.GetIntfId(), in.GetSerialNumber()
	serial := serialString(sn)
	if pon >= o.ponCount() {
		o.logUnknown(fmt.Sprintf("discovery on unknown pon %d", pon), "serial", serial)
		return nil
	}
	o.mu.Lock()
	u := o.bySerial[serial]
	res := o.res
	if u != nil && u.active {
		// Announced again while we thought it up: it was reset.
		u.active = false
		u.resend = true
	}
	o.mu.Unlock()
	if u != nil && u.pon != pon {
		o.logUnknown(fmt.Sprintf("onu %s moved from pon %d to %d", serial, u.pon, pon))
		return nil
	}
	if u == nil {
		ids, err := res.Get(ctx, int(pon), PoolONU, serial, 1)
		if err != nil {
			if status.Code(err) == codes.ResourceExhausted {
				o.logUnknown(err.Error(), "serial", serial)
				o.h.a.Submit(o.reportKey(), func(ctx context.Context) error { return o.setReason(ctx, err.Error()) })
				return nil
			}
			return err
		}
		u = o.addONU(pon, ids[0], serial)
		if u == nil {
			return errors.New("bad serial")
		}
	}
	if err := o.childDetected(ctx, u); err != nil {
		return err
	}
	o.mu.Lock()
	req := &openolt.Onu{IntfId: u.pon, OnuId: u.id, SerialNumber: u.sn}
	o.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.ActivateOnu(cctx, req); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("ActivateOnu %s as %d/%d: %w", serial, u.pon, u.id, err)
	}
	return nil
}

// onuState follows an ONU indication: up makes the child ACTIVE and
// REACHABLE (and sends its flows again after a reboot), down UNREACHABLE.
func (o *olt) onuState(ctx context.Context, u *onu, up bool) error {
	o.mu.Lock()
	u.active = up
	resend := up && u.resend
	u.resend = false
	o.mu.Unlock()
	if !up {
		if err := o.setONUState(ctx, u, voltv1.OperStatus_OPER_STATUS_DISCOVERED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE); err != nil {
			return err
		}
		return o.onuUpDown(ctx, u, false)
	}
	oper := voltv1.OperStatus_OPER_STATUS_ACTIVATING // the ONU's adapter makes it ACTIVE
	if o.h.opts.NoONUAdapter {
		oper = voltv1.OperStatus_OPER_STATUS_ACTIVE
	}
	if err := o.setONUState(ctx, u, oper, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE); err != nil {
		return err
	}
	if err := o.onuUpDown(ctx, u, true); err != nil {
		return err
	}
	if resend {
		return o.resendFlows(ctx, u)
	}
	return nil
}
