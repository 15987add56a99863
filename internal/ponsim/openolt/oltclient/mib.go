package oltclient

import (
	"context"
	"fmt"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// layer returns the layer of type T in p.
func layer[T any](p gopacket.Packet, lt gopacket.LayerType) (T, error) {
	var zero T
	l := p.Layer(lt)
	if l == nil {
		return zero, fmt.Errorf("oltclient: answer has no %v layer", lt)
	}
	v, ok := l.(T)
	if !ok {
		return zero, fmt.Errorf("oltclient: answer layer %v is %T", lt, l)
	}
	return v, nil
}

// MIBReset resets the ONU's MIB.
func (c *Client) MIBReset(ctx context.Context, onu ONU) error {
	p, err := c.Request(ctx, onu, omci.MibResetRequestType, &omci.MibResetRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: me.OnuDataClassID}})
	if err != nil {
		return err
	}
	r, err := layer[*omci.MibResetResponse](p, omci.LayerTypeMibResetResponse)
	if err != nil {
		return err
	}
	if r.Result != me.Success {
		return fmt.Errorf("oltclient: mib reset of onu %d/%d: %v", onu.PON, onu.ID, r.Result)
	}
	return nil
}

// MIBUpload uploads the ONU's MIB: a MIB upload, then one upload-next per
// command it announces. It returns the managed entities reported, in
// order; messages counts the requests sent.
func (c *Client) MIBUpload(ctx context.Context, onu ONU) (mes []me.ManagedEntity, messages int, err error) {
	p, err := c.Request(ctx, onu, omci.MibUploadRequestType, &omci.MibUploadRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: me.OnuDataClassID}})
	if err != nil {
		return nil, 0, err
	}
	messages++
	r, err := layer[*omci.MibUploadResponse](p, omci.LayerTypeMibUploadResponse)
	if err != nil {
		return nil, messages, err
	}
	for i := range r.NumberOfCommands {
		p, err := c.Request(ctx, onu, omci.MibUploadNextRequestType, &omci.MibUploadNextRequest{
			MeBasePacket:          omci.MeBasePacket{EntityClass: me.OnuDataClassID},
			CommandSequenceNumber: i})
		if err != nil {
			return mes, messages, err
		}
		messages++
		n, err := layer[*omci.MibUploadNextResponse](p, omci.LayerTypeMibUploadNextResponse)
		if err != nil {
			return mes, messages, err
		}
		mes = append(mes, n.ReportedME)
	}
	return mes, messages, nil
}

// Set sets attributes of one managed entity and checks the result.
func (c *Client) Set(ctx context.Context, onu ONU, class me.ClassID, inst uint16, attrs me.AttributeValueMap) error {
	mask, err := attrMask(class, attrs)
	if err != nil {
		return err
	}
	p, err := c.Request(ctx, onu, omci.SetRequestType, &omci.SetRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: class, EntityInstance: inst}, AttributeMask: mask, Attributes: attrs})
	if err != nil {
		return err
	}
	r, err := layer[*omci.SetResponse](p, omci.LayerTypeSetResponse)
	if err != nil {
		return err
	}
	if r.Result != me.Success {
		return fmt.Errorf("oltclient: set %v %d: %v", class, inst, r.Result)
	}
	return nil
}

// Create creates one managed entity and checks the result.
func (c *Client) Create(ctx context.Context, onu ONU, class me.ClassID, inst uint16, attrs me.AttributeValueMap) error {
	p, err := c.Request(ctx, onu, omci.CreateRequestType, &omci.CreateRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: class, EntityInstance: inst}, Attributes: attrs})
	if err != nil {
		return err
	}
	r, err := layer[*omci.CreateResponse](p, omci.LayerTypeCreateResponse)
	if err != nil {
		return err
	}
	if r.Result != me.Success {
		return fmt.Errorf("oltclient: create %v %d: %v", class, inst, r.Result)
	}
	return nil
}

// attrMask is the attribute mask naming attrs of class.
func attrMask(class me.ClassID, attrs me.AttributeValueMap) (uint16, error) {
	def, oerr := me.LoadManagedEntityDefinition(class, me.ParamData{EntityID: 0})
	if oerr.GetError() != nil {
		return 0, fmt.Errorf("oltclient: class %v: %w", class, oerr.GetError())
	}
	var mask uint16
	for name := range attrs {
		found := false
		for idx, a := range def.GetAttributeDefinitions() {
			if a.GetName() == name && idx > 0 {
				mask |= a.Mask
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("oltclient: class %v has no attribute %q", class, name)
		}
	}
	return mask, nil
}
