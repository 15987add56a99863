package ofagent

import (
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// handle decodes one message and acts on it. Every failure is answered with
// an OpenFlow error; none closes the connection.
func (c *conn) handle(raw []byte) {
	m, err := ofp13.Decode(raw)
	if err != nil {
		e, ok := ofp13.AsError(err)
		if !ok {
			e = ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBadLen, "%v", err)
		}
		c.refuse(raw, e)
		return
	}
	if e := c.dispatch(raw, m); e != nil {
		c.refuse(raw, e)
	}
}

// dispatch handles a decoded message; an *ofp13.Error it returns is sent
// back for raw.
func (c *conn) dispatch(raw []byte, m ofp13.Message) *ofp13.Error {
	xid := m.Hdr().Xid
	switch m := m.(type) {
	case *ofp13.Hello:
		return nil // a second hello changes nothing
	case *ofp13.ErrorMsg:
		c.log.Info("controller sent an error", "xid", xid, "error", m.String(), "data_len", len(m.Data))
		return nil
	case *ofp13.EchoRequest:
		c.send(&ofp13.EchoReply{Header: ofp13.Header{Xid: xid}, Data: m.Data})
		return nil
	case *ofp13.EchoReply:
		return nil // lastRecv is all it is for
	case *ofp13.Experimenter:
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBadExperimenter,
			"experimenter %#x type %d not supported", m.Experimenter, m.ExpType)
	case *ofp13.FeaturesRequest:
		return c.features(xid)
	case *ofp13.GetConfigRequest:
		c.mu.Lock()
		r := &ofp13.GetConfigReply{Header: ofp13.Header{Xid: xid}, Flags: c.flags, MissSendLen: c.missSendLen}
		c.mu.Unlock()
		c.send(r)
		return nil
	case *ofp13.SetConfig:
		if m.Flags&^ofp13.ConfigFragMask != 0 || m.Flags&ofp13.ConfigFragMask == ofp13.ConfigFragMask {
			return ofp13.Errorf(ofp13.ErrTypeSwitchConfigFailed, ofp13.SwitchConfigFailedBadFlags, "flags %#x", m.Flags)
		}
		c.mu.Lock()
		c.flags, c.missSendLen = m.Flags, m.MissSendLen
		c.mu.Unlock()
		return nil
	case *ofp13.BarrierRequest:
		c.mods.wait()
		c.send(&ofp13.BarrierReply{Header: ofp13.Header{Xid: xid}})
		return nil
	case *ofp13.RoleRequest:
		role, gen, err := c.dp.setRole(c, m.Role, m.GenerationID)
		if err != nil {
			e, _ := ofp13.AsError(err)
			return e
		}
		c.log.Info("role set", "role", role.String(), "generation_id", gen)
		c.send(&ofp13.RoleReply{Header: ofp13.Header{Xid: xid}, Role: role, GenerationID: gen})
		return nil
	case *ofp13.GetAsyncRequest:
		c.mu.Lock()
		r := &ofp13.GetAsyncReply{Header: ofp13.Header{Xid: xid}, AsyncConfig: c.async}
		c.mu.Unlock()
		c.send(r)
		return nil
	case *ofp13.SetAsync:
		c.mu.Lock()
		c.async = m.AsyncConfig
		c.mu.Unlock()
		return nil
	case *ofp13.FlowMod, *ofp13.GroupMod, *ofp13.MeterMod, *ofp13.PortMod, *ofp13.TableMod, *ofp13.PacketOut:
		if c.getRole() == ofp13.RoleSlave {
			return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestIsSlave, "this controller is a slave")
		}
		return c.modify(raw, m)
	case ofp13.Multipart:
		if m.Hdr().Type != ofp13.TypeMultipartRequest {
			break
		}
		return c.multipart(raw, m)
	}
	return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestBadType, "a switch does not take %v", m.Hdr().Type)
}

// modify handles the messages that change the switch.
func (c *conn) modify(raw []byte, m ofp13.Message) *ofp13.Error {
	switch m := m.(type) {
	case *ofp13.FlowMod:
		return c.flowMod(raw, m)
	case *ofp13.GroupMod:
		return c.groupMod(raw, m)
	case *ofp13.MeterMod:
		return c.meterMod(raw, m)
	case *ofp13.PortMod:
		return c.portMod(m)
	case *ofp13.TableMod:
		return c.tableMod(m)
	case *ofp13.PacketOut:
		return c.packetOut(m)
	}
	return nil
}

// features answers OFPT_FEATURES_REQUEST from the logical device. The
// agent keeps no packet buffers, so n_buffers is 0 whatever the core says.
func (c *conn) features(xid uint32) *ofp13.Error {
	ld := c.dp.logicalDevice()
	r, err := ofp13.SwitchFeaturesFromProto(ld.GetSwitchFeatures())
	if err != nil {
		return ofp13.Errorf(ofp13.ErrTypeBadRequest, ofp13.BadRequestEPerm, "logical device features: %v", err)
	}
	r.Xid = xid
	r.DatapathID = ld.GetDatapathId()
	r.NBuffers = 0
	r.AuxiliaryID = 0
	if r.NTables == 0 {
		r.NTables = 1
	}
	c.send(r)
	return nil
}

// nTables is the logical device's table count.
func (c *conn) nTables() uint8 {
	n := c.dp.logicalDevice().GetSwitchFeatures().GetNTables()
	if n == 0 || n > 0xff {
		return 1
	}
	return uint8(n)
}
