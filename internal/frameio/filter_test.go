package frameio

import (
	"testing"

	"golang.org/x/net/bpf"
)

func TestFilters(t *testing.T) {
	untagged := hexFrame(t, macs+eapolHdr)
	ctag := hexFrame(t, macs+"8100 a064"+eapolHdr)
	qinq := hexFrame(t, macs+"88a8 00c8 8100 0064 0800")
	runt := hexFrame(t, "ffff")
	tests := []struct {
		name   string
		filter Filter
		frame  []byte
		want   bool
	}{
		{"ethertype untagged", MatchEtherType(etEAPOL), untagged, true},
		{"ethertype under a tag", MatchEtherType(etEAPOL), ctag, true},
		{"ethertype other", MatchEtherType(etEAPOL), qinq, false},
		{"ethertype runt", MatchEtherType(etEAPOL), runt, false},
		{"vid outer", MatchVID(200), qinq, true},
		{"vid inner is not outer", MatchVID(100), qinq, false},
		{"vid untagged", MatchVID(0), untagged, false},
		{"func", FilterFunc(func(f []byte) bool { return len(f) == 2 }), runt, true},
	}
	for _, tt := range tests {
		if got := tt.filter.Match(tt.frame); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBPFErrors(t *testing.T) {
	// A load past the end of the frame rejects it rather than failing.
	f, err := BPF([]bpf.Instruction{bpf.LoadAbsolute{Off: 100, Size: 4}, bpf.RetConstant{Val: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Match(hexFrame(t, macs+eapolHdr)) {
		t.Error("out-of-bounds load matched")
	}
	if _, err := BPF(nil); err == nil {
		t.Error("BPF accepted an empty program")
	}
	if _, err := BPF([]bpf.Instruction{bpf.RetA{}, bpf.LoadAbsolute{Off: 0, Size: 1}}); err == nil {
		t.Error("BPF accepted a program that does not end in a return")
	}
	if _, err := BPFRaw([]bpf.RawInstruction{{Op: 0xffff}}); err == nil {
		t.Error("BPFRaw accepted an undecodable instruction")
	}
}
