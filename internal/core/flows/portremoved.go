package flows

import (
	"context"
	"errors"
	"fmt"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/flowtable"
)

// PortRemoved deletes the logical flows that name a logical port that is
// gone: those matching it as in_port and those that output to it. They
// leave like any deleted flow: stored first, then a flow-removed event
// each (reason DELETE), so controllers that asked get OFPT_FLOW_REMOVED.
// A logical device that is gone, or flows that are gone already, are not
// an error.
func (m *Manager) PortRemoved(ctx context.Context, ldID string, portNo uint32) error {
	mods := []*openflowv1.FlowMod{{
		TableId:  flowtable.TableAll,
		Command:  openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE,
		OutPort:  flowtable.PortAny,
		OutGroup: flowtable.GroupAny,
		Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{{
			Type:  openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT,
			Value: uint64(portNo),
		}}},
	}, {
		TableId:  flowtable.TableAll,
		Command:  openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE,
		OutPort:  portNo,
		OutGroup: flowtable.GroupAny,
	}}
	errs, err := m.UpdateFlowTables(ctx, ldID, mods)
	if errors.Is(err, coreerr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("flows of removed port %d: %w", portNo, err)
	}
	return nil
}
