#!/bin/bash
# Two builds of the main job side by side: the default job (Hopper-v4,
# plugin processes, snapshots every 10 updates) shortened to STEPS, in
# variants alternating in every repetition so the machine's load hits
# them alike, each under scripts/proc-cpu.py. One line per run: wall,
# user and system seconds of the whole tree, the ph plugin's CPU and
# minor page faults, largest process, and timings.json (training,
# homology worker time, the tail after training, waiting).
#
#   scripts/bench-mainjob-ab.sh BASE_BIN NEW_BIN [STEPS] [REPS] [VARIANTS] [-- EXTRA NTHOST FLAGS]
#
# BASE_BIN and NEW_BIN are bin folders of two builds (make build, copied).
# With AB_KEEP=DIR each run's per-process table (scripts/proc-cpu.py) and
# timings.json are kept in DIR/VARIANT-REP.{cpu,timings.json}.
# VARIANTS, comma separated, from: base, new, nice10 (new with
# --snapshot-nice 10), trainonly (new without snapshots), inproc (new,
# --in-process, no snapshots: the floor). Default base,new,trainonly.
set -eu
BASE=$1 NEW=$2
STEPS=${3:-204800} REPS=${4:-2} VARIANTS=${5:-base,new,trainonly}
shift $(($# < 5 ? $# : 5))
[ "${1:-}" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  steps: $STEPS  reps: $REPS  extra: $*"
printf '%-10s %3s %7s %7s %6s %6s %9s %9s %8s %8s %8s %6s %8s %s\n' variant rep wall_s user_s sys_s sys% ph_cpu_s ph_minflt peak_MB training homology tail waiting load
for r in $(seq "$REPS"); do
	for v in ${VARIANTS//,/ }; do
		case $v in
		base) B=$BASE; extra="" ;;
		new) B=$NEW; extra="" ;;
		nice10) B=$NEW; extra="--snapshot-nice 10" ;;
		trainonly) B=$NEW; extra="--topology-analysis-interval 0" ;;
		inproc) B=$NEW; extra="--in-process --topology-analysis-interval 0" ;;
		*) echo "unknown variant $v" >&2; exit 2 ;;
		esac
		dir="$tmp/$v-$r"
		env -u GODEBUG NT_PLUGIN_DIR="$B" python3 "$here/proc-cpu.py" --every 0.5 -- "$B/nthost" --plugin-dir "$B" \
			--total-timesteps "$STEPS" --no-report --log-level warn --run-dir "$dir" $extra "$@" >"$tmp/cpu" 2>"$tmp/err" ||
			{ echo "$v rep $r failed:"; cat "$tmp/err"; exit 1; }
		python3 - "$v" "$r" "$tmp/cpu" "$dir/timings.json" <<'PY'
import json, sys
v, r, cpu, tj = sys.argv[1:]
lines = open(cpu).read().splitlines()
head = lines[0]
wall = float(head.split("wall ")[1].split()[0])
load = head.split("after ")[1].split(";")[0].split()[0]
ph_cpu = ph_flt = peak = 0.0
for l in lines[2:]:
    f = l.split()
    if f[1].startswith("nt-ph-"):
        ph_cpu, ph_flt = float(f[2]) + float(f[3]), int(f[6])
    if f[0].isdigit():
        peak = max(peak, float(f[7]))
u, s = map(float, lines[-1].split()[-2:])
t = json.load(open(tj))
# A build without tail_after_training: total - training - sampling.
tail = t.get("tail_after_training", t["total"] - t["training"] - t.get("snapshot_sampling", 0))
print(f"{v:<10} {r:>3} {wall:7.1f} {u:7.1f} {s:6.1f} {100*s/(u+s):5.1f}% {ph_cpu:9.1f} {int(ph_flt):9d} {peak:8.0f} "
      f"{t['training']:8.1f} {t['homology_and_distances']:8.1f} {tail:6.1f} {t['waiting_for_snapshots']:8.3f} {load}")
PY
		if [ -n "${AB_KEEP:-}" ]; then
			mkdir -p "$AB_KEEP"
			cp "$tmp/cpu" "$AB_KEEP/$v-$r.cpu"
			cp "$dir/timings.json" "$AB_KEEP/$v-$r.timings.json" 2>/dev/null || true
		fi
	done
done
