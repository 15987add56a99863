package route_test

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/route/routetest"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata")

// TestFixtures runs testdata/*.txt. A file is a topology and commands, each
// followed by its expected output, indented:
//
//	topology:
//	  olt olt1 nni=1 pon=2097153
//	  onu onu1 pon=2097153 uni=4112
//	ports
//	  …
//	route 4112 1
//	  onu1 4112 -> 3145728
//	  olt1 2097153 -> 1
//
// Lines starting with # are comments. A failure shows the difference; -update
// writes what the code does into the file, to be read and checked.
func TestFixtures(t *testing.T) {
	routetest.Golden(t, "testdata/*.txt", *update, run)
}

// run rebuilds the fixture text with the output the code gives.
func run(t *testing.T, text string) string {
	var (
		out      strings.Builder
		routes   *route.Routes
		buildErr error
	)
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i := 0; i < len(lines); {
		line := lines[i]
		i++
		if line == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			continue
		}
		// The block of indented lines that follows.
		var block []string
		for i < len(lines) && strings.HasPrefix(lines[i], "  ") {
			block = append(block, strings.TrimSpace(lines[i]))
			i++
		}
		out.WriteString(line + "\n")
		fields := strings.Fields(line)
		var result []string
		switch fields[0] {
		case "topology:":
			for _, b := range block {
				out.WriteString("  " + b + "\n")
			}
			snap, err := routetest.ParseSnapshot(strings.Join(block, "\n"))
			if err != nil {
				t.Fatalf("topology: %v", err)
			}
			routes, buildErr = route.Build(snap)
			continue
		case "ports":
			if buildErr != nil {
				result = []string{"error: " + buildErr.Error()}
				break
			}
			for _, p := range routes.Ports() {
				result = append(result, portLine(p))
			}
			result = append(result, fmt.Sprintf("%d routes", routes.Len()))
		case "route":
			if len(fields) != 3 {
				t.Fatalf("%q: want route IN OUT", line)
			}
			rt, err := routes.Route(port(t, fields[1]), port(t, fields[2]))
			if err != nil {
				if !errors.Is(err, route.ErrNoRoute) {
					t.Errorf("%s: %v does not wrap ErrNoRoute", line, err)
				}
				result = []string{"error: " + err.Error()}
				break
			}
			for _, h := range rt {
				result = append(result, fmt.Sprintf("%s %s -> %s", h.DeviceID, portName(h.Ingress), portName(h.Egress)))
			}
		default:
			t.Fatalf("unknown command %q", line)
		}
		for _, r := range result {
			out.WriteString("  " + r + "\n")
		}
	}
	return out.String()
}

func portLine(p route.Port) string {
	s := fmt.Sprintf("%d %s %s:%d", p.Number, p.Kind, p.DeviceID, p.DevicePort)
	if p.Kind == route.UNI && p.Unroutable == "" {
		s += fmt.Sprintf(" via %s:%d -> %s:%d", p.DeviceID, p.ONUPON, p.OLTID, p.OLTPON)
	}
	if p.Unroutable != "" {
		s += " unroutable: " + p.Unroutable
	}
	return s
}

func port(t *testing.T, s string) uint32 {
	switch s {
	case "ANY":
		return route.Any
	case "CONTROLLER":
		return route.Controller
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return uint32(n)
}

func portName(n uint32) string {
	switch n {
	case route.Any:
		return "ANY"
	case route.Controller:
		return "CONTROLLER"
	}
	return strconv.FormatUint(uint64(n), 10)
}
