package frameio

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Filter decides which received frames a subscriber sees. Match may run on
// several goroutines at once (a memory port filters on its senders'
// goroutines), must not modify frame and must not keep it after returning.
type Filter interface {
	Match(frame []byte) bool
}

// FilterFunc adapts a Go predicate to a Filter.
type FilterFunc func(frame []byte) bool

// Match calls f.
func (f FilterFunc) Match(frame []byte) bool { return f(frame) }

// BPF returns a Filter that runs a classic BPF program in userspace on the
// frame as frameio delivers it, with the VLAN tags the kernel stripped put
// back: a program that looks at offset 12 sees the outer TPID. The frame
// matches when the program returns a non-zero length.
//
// Linux ancillary loads (vlan_avail, vlan_tci and the like, which libpcap emits
// for "vlan N" on Linux) are not supported and make BPF fail: the tag is in the
// frame, so test it there.
func BPF(prog []bpf.Instruction) (Filter, error) {
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("frameio: BPF program: %w", err)
	}
	return bpfFilter{vm: vm}, nil
}

// BPFRaw is BPF for a program in its assembled form, such as the output of
// tcpdump -dd.
func BPFRaw(raw []bpf.RawInstruction) (Filter, error) {
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, errors.New("frameio: BPF program: undecodable instructions")
	}
	return BPF(prog)
}

// bpfFilter is safe for concurrent use: bpf.VM keeps no state between runs.
type bpfFilter struct{ vm *bpf.VM }

func (f bpfFilter) Match(frame []byte) bool {
	n, err := f.vm.Run(frame)
	return err == nil && n > 0
}

// MatchEtherType returns a Filter for frames whose EtherType, after any VLAN
// tags, is et.
func MatchEtherType(et uint16) Filter {
	return FilterFunc(func(frame []byte) bool {
		got, err := EtherType(frame)
		return err == nil && got == et
	})
}

// MatchVID returns a Filter for frames whose outer VLAN tag has VID vid.
func MatchVID(vid uint16) Filter {
	return FilterFunc(func(frame []byte) bool {
		t, ok := OuterTag(frame)
		return ok && t.VID == vid
	})
}
