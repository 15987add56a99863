package frameio

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// hexFrame builds a frame from hex with spaces and dots for readability.
func hexFrame(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", ".", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

const (
	macs     = "ffffffffffff 02000000000a"
	eapolHdr = "888e 0101 0000"
)

func TestTagTCI(t *testing.T) {
	tests := []struct {
		tag Tag
		tci uint16
	}{
		{Tag{TPID: TPIDCTag, PCP: 5, VID: 100}, 0xa064},
		{Tag{TPID: TPIDSTag, VID: 200}, 0x00c8},
		{Tag{TPID: TPIDCTag, PCP: 7, DEI: true, VID: 4095}, 0xffff},
		{Tag{TPID: TPIDCTag}, 0},
	}
	for _, tt := range tests {
		if got := tt.tag.TCI(); got != tt.tci {
			t.Errorf("%v.TCI() = %#04x, want %#04x", tt.tag, got, tt.tci)
		}
		if got := TagFromTCI(tt.tag.TPID, tt.tci); got != tt.tag {
			t.Errorf("TagFromTCI(%#04x, %#04x) = %v, want %v", tt.tag.TPID, tt.tci, got, tt.tag)
		}
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		name    string
		frame   string
		tags    []Tag
		et      uint16
		wantErr error
	}{
		{name: "untagged", frame: macs + eapolHdr, tags: []Tag{}, et: 0x888e},
		{name: "ctag", frame: macs + "8100 a064" + eapolHdr, tags: []Tag{{TPID: TPIDCTag, PCP: 5, VID: 100}}, et: 0x888e},
		{name: "qinq", frame: macs + "88a8 00c8 8100 0064" + eapolHdr,
			tags: []Tag{{TPID: TPIDSTag, VID: 200}, {TPID: TPIDCTag, VID: 100}}, et: 0x888e},
		{name: "legacy 0x9100", frame: macs + "9100 0001 0800", tags: []Tag{{TPID: TPIDQinQ, VID: 1}}, et: 0x0800},
		{name: "header only", frame: macs + "0800", tags: []Tag{}, et: 0x0800},
		{name: "short", frame: macs + "08", wantErr: ErrShortFrame},
		{name: "empty", frame: "", wantErr: ErrShortFrame},
		{name: "tag without tci", frame: macs + "8100", wantErr: ErrTruncatedTag},
		{name: "tag without inner type", frame: macs + "8100 0064", wantErr: ErrTruncatedTag},
		{name: "inner tag cut", frame: macs + "88a8 00c8 8100 00", wantErr: ErrTruncatedTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := hexFrame(t, tt.frame)
			tags, err := Tags(frame)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Tags err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(tags) != len(tt.tags) {
				t.Fatalf("Tags = %v, want %v", tags, tt.tags)
			}
			for i := range tags {
				if tags[i] != tt.tags[i] {
					t.Errorf("tag %d = %v, want %v", i, tags[i], tt.tags[i])
				}
			}
			if et, _ := EtherType(frame); et != tt.et {
				t.Errorf("EtherType = %#04x, want %#04x", et, tt.et)
			}
		})
	}
}

func TestPushPopTag(t *testing.T) {
	base := hexFrame(t, macs+eapolHdr)
	keep := bytes.Clone(base)
	c := Tag{TPID: TPIDCTag, PCP: 5, VID: 100}
	s := Tag{TPID: TPIDSTag, VID: 200}

	one, err := PushTag(base, c)
	if err != nil {
		t.Fatal(err)
	}
	two, err := PushTag(one, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := hexFrame(t, macs+"88a8 00c8 8100 a064"+eapolHdr); !bytes.Equal(two, want) {
		t.Fatalf("pushed = %x, want %x", two, want)
	}
	if !bytes.Equal(base, keep) {
		t.Fatal("PushTag modified its input")
	}

	gotS, inner, err := PopTag(two)
	if err != nil || gotS != s || !bytes.Equal(inner, one) {
		t.Fatalf("PopTag(two) = %v, %x, %v; want %v, %x", gotS, inner, err, s, one)
	}
	gotC, plain, err := PopTag(inner)
	if err != nil || gotC != c || !bytes.Equal(plain, base) {
		t.Fatalf("PopTag(one) = %v, %x, %v; want %v, %x", gotC, plain, err, c, base)
	}
	if _, _, err := PopTag(plain); !errors.Is(err, ErrNotTagged) {
		t.Errorf("PopTag(untagged) err = %v, want ErrNotTagged", err)
	}
	if _, _, err := PopTag(hexFrame(t, macs+"8100 00")); !errors.Is(err, ErrTruncatedTag) {
		t.Errorf("PopTag(truncated) err = %v, want ErrTruncatedTag", err)
	}
	if _, _, err := PopTag(base[:10]); !errors.Is(err, ErrShortFrame) {
		t.Errorf("PopTag(short) err = %v, want ErrShortFrame", err)
	}
}

func TestPushTagRejects(t *testing.T) {
	base := hexFrame(t, macs+eapolHdr)
	for _, tag := range []Tag{
		{TPID: 0x0800, VID: 1},
		{TPID: TPIDCTag, PCP: 8},
		{TPID: TPIDCTag, VID: 4096},
	} {
		if _, err := PushTag(base, tag); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("PushTag(%v) err = %v, want ErrInvalidTag", tag, err)
		}
	}
	if _, err := PushTag(base[:13], Tag{TPID: TPIDCTag}); !errors.Is(err, ErrShortFrame) {
		t.Errorf("PushTag(short) err = %v, want ErrShortFrame", err)
	}
}

func TestPad(t *testing.T) {
	short := hexFrame(t, macs+eapolHdr)
	padded := Pad(short)
	if len(padded) != MinFrameLen || !bytes.Equal(padded[:len(short)], short) ||
		!bytes.Equal(padded[len(short):], make([]byte, MinFrameLen-len(short))) {
		t.Fatalf("Pad = %x", padded)
	}
	long := make([]byte, 61)
	if got := Pad(long); &got[0] != &long[0] {
		t.Error("Pad copied a frame that needed no padding")
	}
}

// FuzzFrameTags checks the tag parser, push and pop on arbitrary bytes: they
// never panic, parse what they build, and undo each other.
func FuzzFrameTags(f *testing.F) {
	for _, s := range []string{
		"", "ffffffffffff02000000000a", macs + "0800", macs + eapolHdr,
		macs + "8100a064" + eapolHdr, macs + "88a800c881000064" + eapolHdr,
		macs + "8100", macs + "81000064", macs + "910000018100",
		macs + strings.Repeat("8100", 11) + "0800",
	} {
		f.Add(hexFrame(f, s), uint8(0), uint16(0xa064))
	}
	f.Fuzz(func(t *testing.T, frame []byte, tpidSel uint8, tci uint16) {
		n, et, err := walkTags(frame)
		tags, terr := Tags(frame)
		if (err == nil) != (terr == nil) || (err == nil && len(tags) != n) {
			t.Fatalf("walkTags = %d, %v; Tags = %v, %v", n, err, tags, terr)
		}
		if err == nil {
			off := macsLen + n*TagLen
			if got := uint16(frame[off])<<8 | uint16(frame[off+1]); got != et || IsTPID(et) {
				t.Fatalf("EtherType %#04x at %d, walkTags said %#04x", got, off, et)
			}
		}

		if outer, inner, err := PopTag(frame); err == nil {
			back, err := PushTag(inner, outer)
			if err != nil || !bytes.Equal(back, frame) {
				t.Fatalf("push(pop(f)) = %x, %v; want %x", back, err, frame)
			}
		}

		tag := TagFromTCI([]uint16{TPIDCTag, TPIDSTag, TPIDQinQ}[int(tpidSel)%3], tci)
		pushed, err := PushTag(frame, tag)
		if len(frame) < HeaderLen {
			if !errors.Is(err, ErrShortFrame) {
				t.Fatalf("PushTag(short) err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, inner, err := PopTag(pushed)
		if err != nil || got != tag || !bytes.Equal(inner, frame) {
			t.Fatalf("pop(push(f, %v)) = %v, %x, %v", tag, got, inner, err)
		}
		if p := Pad(frame); len(p) < MinFrameLen || !bytes.Equal(p[:len(frame)], frame) {
			t.Fatalf("Pad(%x) = %x", frame, p)
		}
	})
}
