package techprofile

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/openvolt/openvolt/internal/kvstore"
)

// Entry is one profile as stored: its key, the JSON as it was set, and the
// decoded profile.
type Entry struct {
	Technology string
	ID         uint32
	JSON       []byte
	Profile    *Profile
	// BuiltIn: not stored, the default this package carries.
	BuiltIn bool
}

// KV is what the profile store asks of a key-value store: reads and
// writes of one key.
type KV interface {
	Get(ctx context.Context, key string) (kvstore.KV, error)
	List(ctx context.Context, prefix string) ([]kvstore.KV, error)
	Put(ctx context.Context, key string, value []byte, opts ...kvstore.PutOption) (int64, error)
	Delete(ctx context.Context, key string) error
}

// Store keeps profiles under /<prefix>/techprofiles/<technology>/<id>. It
// holds no state of its own: every call reads or writes the KV store, so
// the core and the adapters share one view.
type Store struct {
	kv   KV
	keys string // "/volt/techprofiles/"
}

// NewStore returns the profile store of the core with key prefix prefix
// ("volt" when empty).
func NewStore(kv KV, prefix string) *Store {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		prefix = "volt"
	}
	return &Store{kv: kv, keys: "/" + prefix + "/techprofiles/"}
}

// Key is where the profile technology/id is stored.
func (s *Store) Key(technology string, id uint32) string {
	return s.keys + technology + "/" + strconv.FormatUint(uint64(id), 10)
}

// checkRef validates a technology and id; the error names the field.
func checkRef(technology string, id uint32) error {
	switch {
	case technology == "":
		return invalid("technology", "is empty (GPON, XGS-PON …)")
	case strings.ContainsAny(technology, "/ \t\n"):
		return invalid("technology", "%q has a slash or a space", technology)
	case id == 0 || id > 0xffff:
		// write_metadata carries the id in 16 bits; 0 means "none".
		return invalid("id", "is %d, want 1 to 65535", id)
	}
	return nil
}

func builtIn(technology string, id uint32) *Entry {
	if id != DefaultID {
		return nil
	}
	for _, t := range defaultTechnologies {
		if t == technology {
			p, err := Parse([]byte(defaultJSON))
			if err != nil {
				return nil // cannot happen: the test parses it
			}
			return &Entry{Technology: t, ID: id, JSON: []byte(defaultJSON), Profile: p, BuiltIn: true}
		}
	}
	return nil
}

// Get returns the profile technology/id: the stored one, else the built-in
// default (DefaultID of GPON and XGS-PON), else an error wrapping
// ErrNotFound.
func (s *Store) Get(ctx context.Context, technology string, id uint32) (*Entry, error) {
	if err := checkRef(technology, id); err != nil {
		return nil, err
	}
	kv, err := s.kv.Get(ctx, s.Key(technology, id))
	switch {
	case errors.Is(err, kvstore.ErrNotFound):
		if e := builtIn(technology, id); e != nil {
			return e, nil
		}
		return nil, fmt.Errorf("%w: %s/%d", ErrNotFound, technology, id)
	case err != nil:
		return nil, fmt.Errorf("reading tech profile %s/%d: %w", technology, id, err)
	}
	p, err := Parse(kv.Value)
	if err != nil {
		// Stored by hand past Set: say so rather than guess.
		return nil, fmt.Errorf("tech profile %s/%d as stored: %w", technology, id, err)
	}
	return &Entry{Technology: technology, ID: id, JSON: kv.Value, Profile: p}, nil
}

// Set validates profile JSON and stores it, unchanged, as technology/id.
// An invalid profile stores nothing; the error wraps ErrInvalid and names
// the field.
func (s *Store) Set(ctx context.Context, technology string, id uint32, data []byte) (*Entry, error) {
	if err := checkRef(technology, id); err != nil {
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if _, err := s.kv.Put(ctx, s.Key(technology, id), data); err != nil {
		return nil, fmt.Errorf("storing tech profile %s/%d: %w", technology, id, err)
	}
	return &Entry{Technology: technology, ID: id, JSON: data, Profile: p}, nil
}

// Delete removes the stored profile technology/id. A built-in default
// comes back in its place; deleting one that is neither stored nor built
// in is ErrNotFound.
func (s *Store) Delete(ctx context.Context, technology string, id uint32) error {
	if err := checkRef(technology, id); err != nil {
		return err
	}
	key := s.Key(technology, id)
	if _, err := s.kv.Get(ctx, key); errors.Is(err, kvstore.ErrNotFound) {
		return fmt.Errorf("%w: %s/%d", ErrNotFound, technology, id)
	} else if err != nil {
		return fmt.Errorf("reading tech profile %s/%d: %w", technology, id, err)
	}
	if err := s.kv.Delete(ctx, key); err != nil {
		return fmt.Errorf("deleting tech profile %s/%d: %w", technology, id, err)
	}
	return nil
}

// List returns every profile (of technology, when not empty), the built-in
// defaults included where none is stored in their place, sorted by
// technology and id. A stored value that no longer parses is listed with
// a nil Profile.
func (s *Store) List(ctx context.Context, technology string) ([]*Entry, error) {
	prefix := s.keys
	if technology != "" {
		prefix += technology + "/"
	}
	kvs, err := s.kv.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing tech profiles: %w", err)
	}
	seen := make(map[string]bool)
	var out []*Entry
	for _, kv := range kvs {
		tech, idText, ok := strings.Cut(strings.TrimPrefix(kv.Key, s.keys), "/")
		id, err := strconv.ParseUint(idText, 10, 16)
		if !ok || err != nil {
			continue // not a profile key
		}
		e := &Entry{Technology: tech, ID: uint32(id), JSON: kv.Value}
		e.Profile, _ = Parse(kv.Value)
		out = append(out, e)
		seen[kv.Key] = true
	}
	for _, t := range defaultTechnologies {
		if (technology == "" || technology == t) && !seen[s.Key(t, DefaultID)] {
			out = append(out, builtIn(t, DefaultID))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Technology != out[j].Technology {
			return out[i].Technology < out[j].Technology
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
