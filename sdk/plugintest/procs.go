package plugintest

import (
	"fmt"
	"os"
	"strings"
)

// Running reports whether process pid exists and is not a zombie (Linux,
// from /proc). Tests use it to check that a killed plugin took its
// children (a forked worker, an external binary) with it.
func Running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces or parentheses.
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
