package sweepreport

import (
	"fmt"
	"strings"
)

// markdown is the sweep's results as a Markdown section (report/
// results.md, `nthost report SWEEP_DIR --markdown`): the code behind
// them, the returns, every primary claim on both measures and the
// exploratory claims that reach significance. A README that quotes it
// verbatim cannot drift from the data.
func markdown(pg page, all []Claim) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Trials: %d of %d done. Provenance: %s.\n", pg.Done, pg.Trials, pg.Prov.Line())
	for _, warn := range pg.Warnings {
		w("\n**Warning:** %s.\n", warn)
	}
	w("\nFinal return per seed = mean of its last 100 episodes; mean with its %.0f%% t interval, interquartile mean (IQM) with its %.0f%% bootstrap interval (%d resamples).\n\n", pg.Level, pg.Level, pg.Resamples)
	w("| group | seeds | mean return [95%% CI] | IQM [95%% CI] |\n|---|---|---|---|\n")
	for _, g := range pg.Groups {
		r := g.Return
		w("| %s | %d | %s [%s, %s] | %s [%s, %s] |\n", g.Name, r.N, fnum(r.Mean), fnum(r.Lo), fnum(r.Hi), fnum(r.IQM), fnum(r.IQMLo), fnum(r.IQMHi))
	}
	for _, fam := range []string{FamilyPrimary, FamilyPrimaryFix} {
		var rows []Claim
		for _, c := range all {
			if c.Family == fam {
				rows = append(rows, c)
			}
		}
		if len(rows) == 0 {
			continue
		}
		what := "scale-free counts (bars longer than 10% of the cloud's diameter)"
		if fam == FamilyPrimaryFix {
			what = "Betti numbers at the seed's fixed scale (second reading)"
		}
		w("\nThe seed's claims on %s: one-sided t-tests across seeds, Holm-corrected over these %d claims. Effect: mean of the per-seed values with its 95%% t interval; detectable: the effect found with 80%% power at this n and level, at the seeds' observed spread.\n\n", what, len(rows))
		claimTable(&b, rows)
	}
	var sig []Claim
	n := 0
	for _, c := range all {
		if c.Family == FamilyExploratory {
			n++
			if c.Supported() {
				sig = append(sig, c)
			}
		}
	}
	w("\nExploratory (two-sided, Benjamini-Hochberg over %d comparisons): %d reach q < %.2f", n, len(sig), Alpha)
	if len(sig) == 0 {
		w(".\n")
		return b.String()
	}
	w(":\n\n")
	claimTable(&b, sig)
	return b.String()
}

func claimTable(b *strings.Builder, rows []Claim) {
	fmt.Fprintf(b, "| group | claim | n | effect [95%% CI] | p | adjusted p | detectable | result |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range rows {
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", c.Group, c.Statement, c.N, effectText(c), ptext(c.P), ptext(c.PAdj), fnum(c.Detectable), c.Verdict())
	}
}
