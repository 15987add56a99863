package daemon

import (
	"errors"
	"sort"
	"strings"
	"sync"
)

// Readiness is a process's one answer to "ready?": the parts of the
// process report into it (a dependency reachable or not, their work
// started or not) and both /readyz and the gRPC health of each gRPC port
// read it. Parts are named "<component>/<what>" ("core/etcd",
// "core/serving"); a gRPC port follows the parts of its component.
type Readiness struct {
	mu    sync.Mutex        // guards parts
	parts map[string]string // part → why it is not ready ("" when ready)
}

// NewReadiness returns an empty Readiness: ready until a part says not.
func NewReadiness() *Readiness {
	return &Readiness{parts: make(map[string]string)}
}

// Set records a part's state: nil when ready, else why not.
func (r *Readiness) Set(part string, notReady error) {
	why := ""
	if notReady != nil {
		why = notReady.Error()
		if why == "" {
			why = "not ready"
		}
	}
	r.mu.Lock()
	r.parts[part] = why
	r.mu.Unlock()
}

// Remove forgets a part (a component that stopped on purpose).
func (r *Readiness) Remove(part string) {
	r.mu.Lock()
	delete(r.parts, part)
	r.mu.Unlock()
}

// Check returns nil when every part under prefix ("" for all, else a
// component name) is ready, or an error naming each part that is not, in
// order.
func (r *Readiness) Check(prefix string) error {
	r.mu.Lock()
	var down []string
	for p, why := range r.parts {
		if why != "" && (prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")) {
			down = append(down, p+": "+why)
		}
	}
	r.mu.Unlock()
	if len(down) == 0 {
		return nil
	}
	sort.Strings(down)
	return errors.New(strings.Join(down, "; "))
}
