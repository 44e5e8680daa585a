package sweepreport

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEQuotesPublishedResults rebuilds every results block of the
// README from the published sweep it names (docs/results/NAME, trial
// records included) and requires the README to quote it unchanged: the
// README's numbers are the data's, and a change to the statistics that
// moves them must republish them (scripts/publish-sweep.sh).
func TestREADMEQuotesPublishedResults(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile(`(?s)<!-- results: nthost report (docs/results/[^ ]+) --markdown -->\n(.*?)<!-- end of results -->`).FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md quotes no published results")
	}
	for _, b := range blocks {
		src := filepath.Join(root, b[1])
		// Report writes its CSVs and plots into the sweep folder: work on
		// a copy, never on the repository.
		dir := filepath.Join(t.TempDir(), "sweep")
		copyTree(t, src, dir)
		res, err := Report(dir)
		if err != nil {
			t.Fatalf("%s: %v", b[1], err)
		}
		if len(res.Warnings) > 0 {
			t.Errorf("%s: the published sweep has warnings: %v", b[1], res.Warnings)
		}
		if got, want := strings.TrimSpace(res.Markdown), strings.TrimSpace(b[2]); got != want {
			t.Errorf("README.md's block for %s differs from `nthost report %s --markdown`; run scripts/publish-sweep.sh.\nREADME:\n%s\ndata:\n%s", b[1], b[1], want, got)
		}
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == Dir || strings.HasPrefix(rel, Dir+string(filepath.Separator)) {
			return nil // the published report is rebuilt, not read
		}
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}
