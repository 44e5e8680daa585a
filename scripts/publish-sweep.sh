#!/usr/bin/env bash
# publish-sweep.sh SWEEP_DIR NAME: publishes a finished sweep as
# docs/results/NAME and puts its results into the README.
#
# docs/results/NAME is itself a sweep folder that `nthost report` reads:
# the manifest, and per trial its config, provenance, end marker and its
# topology and scalar records (gzip-compressed), plus report/ with every
# CSV (per-seed values included) and the PNGs the README shows. The
# README's block between the markers
#   <!-- results: nthost report docs/results/NAME --markdown -->
#   <!-- end of results -->
# is replaced with that command's output, so the README's numbers are the
# data's (core/sweepreport's TestREADMEQuotesPublishedResults checks it).
set -euo pipefail
src=${1:?usage: scripts/publish-sweep.sh SWEEP_DIR NAME}
name=${2:?usage: scripts/publish-sweep.sh SWEEP_DIR NAME}
nthost=${NTHOST:-./bin/nthost}
cd "$(dirname "$0")/.."
dst=docs/results/$name
rm -rf "$dst"
mkdir -p "$dst/runs"
cp "$src/sweep.json" "$dst/"
for run in "$src"/runs/*/; do
	t=$(basename "$run")
	mkdir -p "$dst/runs/$t"
	for f in config.yaml provenance.json sweep_trial.json timings.json transport.json fit.json; do
		if [ -f "$run/$f" ]; then cp "$run/$f" "$dst/runs/$t/"; fi
	done
	# Paths of the machine that ran the sweep mean nothing elsewhere: the
	# run directory becomes relative to the published sweep, a plugin
	# binary its file name (its SHA-256 stays).
	python3 - "$dst/runs/$t" "$t" <<'PY'
import json, re, sys, os
d, t = sys.argv[1], sys.argv[2]
c = os.path.join(d, "config.yaml")
if os.path.exists(c):
    s = open(c).read()
    s = re.sub(r'(?m)^run_dir: .*$', 'run_dir: runs/' + t, s)
    open(c, "w").write(s)
p = os.path.join(d, "provenance.json")
if os.path.exists(p):
    recs = json.load(open(p))
    for r in recs:
        for pl in r.get("plugins") or []:
            if pl.get("path"):
                pl["path"] = os.path.basename(pl["path"])
    open(p, "w").write(json.dumps(recs, indent=1))
PY
	for f in topology.jsonl scalars.jsonl; do
		# A trial stopped before it wrote a file (a sweep published
		# part-way) has none to keep.
		if [ -f "$run/$f" ]; then gzip -9 -n -c "$run/$f" >"$dst/runs/$t/$f.gz"; fi
	done
done
md=$("$nthost" report --markdown "$dst")
# The page embeds every figure; the PNGs and CSVs beside it are what is kept.
rm -f "$dst/report.html"
python3 - "$name" "$md" <<'PY'
import re, sys
name, md = sys.argv[1], sys.argv[2]
begin = "<!-- results: nthost report docs/results/%s --markdown -->" % name
end = "<!-- end of results -->"
text = open("README.md").read()
i = text.find(begin)
j = text.find(end, i)
if i < 0 or j < i:
    sys.exit("README.md has no block %s ... %s" % (begin, end))
text = text[: i + len(begin)] + "\n" + md.rstrip("\n") + "\n" + text[j:]
open("README.md", "w").write(text)
PY
echo "published $src as $dst; README.md updated"
