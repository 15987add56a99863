package cli

import "testing"

func TestAttrText(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{float64(16842752), "16842752"},
		{float64(0), "0"},
		{1.5, "1.5"},
		{"BBSM", "BBSM"},
		{true, "true"},
	} {
		if got := attrText(c.in); got != c.want {
			t.Errorf("attrText(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
