package flowdecomp

import openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"

// tag is what is known of one VLAN tag: nil for a value not known.
type tag struct{ vid, pcp *openflowv1.MatchField }

var (
	untaggedVID = &openflowv1.MatchField{Type: fVID}
	anyVID      = &openflowv1.MatchField{Type: fVID, Value: ofpvidPresent, HasMask: true, Mask: ofpvidPresent}
	vid0        = &openflowv1.MatchField{Type: fVID, Value: ofpvidPresent}
	pcp0        = &openflowv1.MatchField{Type: fPCP}
)

// isUntagged reports whether mf matches only untagged frames.
func isUntagged(mf *openflowv1.MatchField) bool {
	return mf != nil && !mf.GetHasMask() && mf.GetValue() == 0
}

// after returns the match that a packet which matched fields satisfies once
// acts have run on it: what the next device on the route sees. Fields a
// set_field writes take the value written; the VLAN fields follow the
// outer tag through push_vlan (which copies the tag it covers, or is VID 0
// and PCP 0 on an untagged frame, as OpenFlow 1.3 says) and pop_vlan.
// What cannot be known (the tag under one the flow did not push) is left
// out of the match, unless inner (a metadata match: the inner VID) says.
func after(fields []*openflowv1.MatchField, acts []*openflowv1.Action, inner *openflowv1.MatchField) []*openflowv1.MatchField {
	if len(acts) == 0 {
		return fields
	}
	var (
		vid, pcp *openflowv1.MatchField
		others   = make([]*openflowv1.MatchField, 0, len(fields)+2)
	)
	for _, mf := range fields {
		switch mf.GetType() {
		case fVID:
			vid = mf
		case fPCP:
			pcp = mf
		default:
			others = append(others, mf)
		}
	}
	var stack []tag             // known tags, outermost last
	untagged := isUntagged(vid) // under the stack: no tag (else not known)
	if vid != nil && !untagged {
		stack = []tag{{vid, pcp}}
		if inner != nil {
			in := &openflowv1.MatchField{Type: fVID, Value: inner.GetValue()&vidMask | ofpvidPresent}
			stack = []tag{{vid: in}, {vid, pcp}}
		}
	}
	for _, a := range acts {
		switch x := a.GetAction().(type) {
		case *openflowv1.Action_PushVlan:
			var t tag
			switch {
			case len(stack) > 0:
				t = stack[len(stack)-1]
			case untagged:
				t = tag{vid0, pcp0}
			}
			stack = append(stack, t)
		case *openflowv1.Action_PopVlan:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			} else {
				untagged = false // a tag the match did not show was popped: what is under it is not known
			}
		case *openflowv1.Action_SetField:
			mf := x.SetField.GetField()
			switch mf.GetType() {
			case fVID, fPCP:
				if len(stack) == 0 { // setting a tag says there is one
					stack = append(stack, tag{})
					untagged = false
				}
				top := &stack[len(stack)-1]
				if mf.GetType() == fVID {
					top.vid = mf
				} else {
					top.pcp = mf
				}
			default:
				others = replace(others, mf)
			}
		}
	}
	switch {
	case len(stack) > 0:
		top := stack[len(stack)-1]
		if top.vid == nil {
			top.vid = anyVID
		}
		others = append(others, top.vid)
		if top.pcp != nil {
			others = append(others, top.pcp)
		}
	case untagged:
		others = append(others, untaggedVID)
	}
	return others
}

// replace sets mf in fields, in place of a field of its type or added.
func replace(fields []*openflowv1.MatchField, mf *openflowv1.MatchField) []*openflowv1.MatchField {
	for i, f := range fields {
		if f.GetType() == mf.GetType() {
			fields[i] = mf
			return fields
		}
	}
	return append(fields, mf)
}

// splitUp returns where the OLT's share of an upstream action list starts:
// at the push_vlan that gives the frame its second tag (the S-tag over the
// C-tag), so the ONU does what concerns the subscriber's own tag and the
// OLT adds the service tag. len(acts) when the ONU does it all.
func splitUp(fields []*openflowv1.MatchField, acts []*openflowv1.Action) int {
	depth := 0
	for _, mf := range fields {
		if mf.GetType() == fVID && !isUntagged(mf) {
			depth = 1
		}
	}
	for i, a := range acts {
		switch a.GetAction().(type) {
		case *openflowv1.Action_PushVlan:
			depth++
			if depth >= 2 {
				return i
			}
		case *openflowv1.Action_PopVlan:
			if depth > 0 {
				depth--
			}
		}
	}
	return len(acts)
}

// splitDown returns where the ONU's share of a downstream action list
// starts: after the first pop_vlan when the list pops two tags (the OLT
// takes off the S-tag), at 0 otherwise (the ONU does it all).
func splitDown(acts []*openflowv1.Action) int {
	first, pops := -1, 0
	for i, a := range acts {
		if _, ok := a.GetAction().(*openflowv1.Action_PopVlan); ok {
			pops++
			if first < 0 {
				first = i
			}
		}
	}
	if pops >= 2 {
		return first + 1
	}
	return 0
}

// pops reports whether acts has a pop_vlan.
func pops(acts []*openflowv1.Action) bool {
	for _, a := range acts {
		if _, ok := a.GetAction().(*openflowv1.Action_PopVlan); ok {
			return true
		}
	}
	return false
}
