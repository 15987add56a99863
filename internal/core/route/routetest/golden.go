package routetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Golden runs each file matching pattern through run, which rebuilds the
// file's text with the output the code gives, and compares the two. A
// failure shows the difference; with update, the file is rewritten with
// what the code does, to be read and checked.
func Golden(t *testing.T, pattern string, update bool, run func(t *testing.T, text string) string) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no fixtures match %s", pattern)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := string(data)
			got := run(t, want)
			if got == want {
				return
			}
			if update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			t.Errorf("%s (-want +got):\n%s", file, cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
		})
	}
}
