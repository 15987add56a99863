package cli

import "github.com/openvolt/openvolt/internal/openflow/flowtext"

// Flows, matches, group buckets and meter bands are shown as
// internal/openflow/flowtext renders them, in the manner of ovs-ofctl
// dump-flows; the same text is what add-flow reads and what the flow
// decomposer's fixtures are written in.
var (
	flowText       = flowtext.FormatFlow
	matchText      = flowtext.FormatMatch
	bucketsText    = flowtext.FormatBuckets
	meterFlagsText = flowtext.FormatMeterFlags
	bandsText      = flowtext.FormatBands
)
