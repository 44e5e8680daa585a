package plugintest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestReportedMessagesAreCapped: a check that finds the same fault many
// times reports it once with its count, and at most maxMessages distinct
// messages, each cut at maxMessageRune characters.
func TestReportedMessagesAreCapped(t *testing.T) {
	r := newReporter(context.Background(), time.Minute)
	defer r.cancel()
	for range 3 {
		r.Errorf("dimension 1 pair %v: want birth <= death", [2]float64{2, 1})
	}
	for i := range maxMessages + 4 {
		r.Errorf("fault %d", i)
	}
	got := r.messages()
	want := []string{"dimension 1 pair [2 1]: want birth <= death (3 times)", "fault 0", "fault 1", "fault 2", "fault 3", fmt.Sprintf("... and %d more", 5)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !r.failed() {
		t.Error("a reporter with errors must say it failed")
	}
	long := newReporter(context.Background(), time.Minute)
	defer long.cancel()
	long.Errorf("%s", strings.Repeat("x", 2*maxMessageRune))
	if m := long.messages(); len(m) != 1 || len(m[0]) != maxMessageRune+len("...") {
		t.Errorf("a message of %d characters reported as %d", 2*maxMessageRune, len(m[0]))
	}
}
