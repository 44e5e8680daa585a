package sdk

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the version of this sdk module. A release is tagged
// sdk/vVERSION in the repository (the sdk is a module of its own, in the
// folder sdk/), so a plugin outside the repository requires
// github.com/neuraltopology/neuraltopology/sdk at vVERSION
// (docs/plugins.md, Releasing the sdk).
const Version = "0.1.0"

// CapHostSDK (any kind, optional) is the lowest sdk Version a host must
// be built with to run the plugin, as MAJOR.MINOR.PATCH: a plugin that
// relies on host behaviour newer than its protocol version says (a
// parameter range the host must enforce, say) declares it. A host of an
// older sdk refuses the plugin at start, in one line.
const CapHostSDK = "host_sdk"

// parseSemver reads MAJOR.MINOR.PATCH (a leading v allowed).
func parseSemver(s string) ([3]int, error) {
	var v [3]int
	parts := strings.Split(strings.TrimPrefix(strings.TrimSpace(s), "v"), ".")
	if len(parts) != 3 {
		return v, fmt.Errorf("%q is not MAJOR.MINOR.PATCH", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("%q is not MAJOR.MINOR.PATCH", s)
		}
		v[i] = n
	}
	return v, nil
}

// CompareVersions compares two MAJOR.MINOR.PATCH versions: -1, 0 or 1.
func CompareVersions(a, b string) (int, error) {
	x, err := parseSemver(a)
	if err != nil {
		return 0, err
	}
	y, err := parseSemver(b)
	if err != nil {
		return 0, err
	}
	for i := range x {
		if x[i] != y[i] {
			if x[i] < y[i] {
				return -1, nil
			}
			return 1, nil
		}
	}
	return 0, nil
}

// CheckHostSDK refuses a plugin that declares a host sdk newer than this
// one (CapHostSDK), in one line naming the plugin and both versions.
func CheckHostSDK(info Info) error {
	need, ok := info.Capabilities[CapHostSDK]
	if !ok {
		return nil
	}
	c, err := CompareVersions(need, Version)
	if err != nil {
		return fmt.Errorf("%s plugin %q: capability %s: %v", info.Kind, info.Name, CapHostSDK, err)
	}
	if c > 0 {
		return fmt.Errorf("%s plugin %q needs a host built with sdk >= %s (capability %s); this nthost has sdk %s: update nthost, or use a version of the plugin built for it", info.Kind, info.Name, need, CapHostSDK, Version)
	}
	return nil
}
