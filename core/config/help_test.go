package config

import (
	"slices"
	"testing"
)

// Every key a config accepts has a group and a meaning for `nthost run -h`,
// and no help is kept for a key that no longer exists.
func TestEveryKeyHasADoc(t *testing.T) {
	keys := Keys()
	for _, k := range keys {
		d, ok := Doc(k)
		if !ok || d.Meaning == "" || !slices.Contains(Groups, d.Group) {
			t.Errorf("key %s: no help (group %q, meaning %q)", k, d.Group, d.Meaning)
		}
	}
	for k := range docs {
		if !slices.Contains(keys, k) {
			t.Errorf("help for %s, which is not a key", k)
		}
	}
}
