package oltclient

import (
	"context"
	"fmt"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/omci-lib-go/v2/meframe"
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

// Frame sends the request of type mt for one instance of class with
// attrs (meframe.GenFrame builds it) and returns the decoded answer.
func (c *Client) Frame(ctx context.Context, onu ONU, mt omci.MessageType, class me.ClassID, inst uint16, attrs me.AttributeValueMap, opts ...meframe.FrameOption) (gopacket.Packet, error) {
	ent, err := loadME(class, inst, attrs)
	if err != nil {
		return nil, err
	}
	b, err := meframe.GenFrame(ent, mt, append([]meframe.FrameOption{meframe.TransactionID(1)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("oltclient: encode %v %v: %w", mt, class, err)
	}
	resp, err := c.Raw(ctx, onu, b)
	if err != nil {
		return nil, err
	}
	p := gopacket.NewPacket(resp, omci.LayerTypeOMCI, gopacket.NoCopy)
	if el := p.ErrorLayer(); el != nil {
		return nil, fmt.Errorf("oltclient: decode answer to %v: %w", mt, el.Error())
	}
	return p, nil
}

func loadME(class me.ClassID, inst uint16, attrs me.AttributeValueMap) (*me.ManagedEntity, error) {
	ent, oerr := me.LoadManagedEntityDefinition(class, me.ParamData{EntityID: inst, Attributes: attrs})
	if oerr != nil && oerr.StatusCode() != me.Success {
		return nil, fmt.Errorf("oltclient: class %v: %w", class, oerr.GetError())
	}
	return ent, nil
}

// Set sets attributes of one managed entity and checks the result.
func (c *Client) Set(ctx context.Context, onu ONU, class me.ClassID, inst uint16, attrs me.AttributeValueMap) error {
	mask, err := attrMask(class, attrs)
	if err != nil {
		return err
	}
	p, err := c.Frame(ctx, onu, omci.SetRequestType, class, inst, attrs, meframe.AttributeMask(mask))
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
	p, err := c.Frame(ctx, onu, omci.CreateRequestType, class, inst, attrs)
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
	defs, oerr := me.GetAttributesDefinitions(class)
	if oerr != nil && oerr.StatusCode() != me.Success {
		return 0, fmt.Errorf("oltclient: class %v: %w", class, oerr.GetError())
	}
	var mask uint16
	for name := range attrs {
		found := false
		for idx, d := range defs {
			if d.Name == name && idx > 0 {
				mask |= d.Mask
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("oltclient: class %v has no attribute %q", class, name)
		}
	}
	return mask, nil
}
