#!/bin/sh
# Two builds of the shared-memory transport side by side, with in-process
# training as the reference: Hopper-v4, no snapshots, modes alternating in
# every repetition so the machine's load hits them alike. Prints wall, user
# and system seconds per run, then sums per mode with the CPU (user + sys)
# ratio to in-process, the figure to read when the machine is busy.
#
#   scripts/bench-shm-ab.sh BASE_BIN NEW_BIN [STEPS] [REPS] [NUM_ENVS]
#
# BASE_BIN and NEW_BIN are bin folders of two builds (make build, copied).
set -eu
BASE=$1 NEW=$2
STEPS=${3:-20480} REPS=${4:-3} N=${5:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  steps: $STEPS  reps: $REPS  num_envs: $N"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mode wall_s user_s sys_s transport"
for r in $(seq "$REPS"); do
	for mode in inproc base new; do
		case $mode in
		inproc) B=$NEW; extra="--in-process"; tr="" ;;
		base) B=$BASE; extra=""; tr=shm ;;
		new) B=$NEW; extra=""; tr=shm ;;
		esac
		dir="$tmp/$mode-$r"
		/usr/bin/time -f "%e %U %S" -o "$tmp/t" env NT_TRANSPORT=$tr NT_PLUGIN_DIR="$B" "$B/nthost" \
			--env-id Hopper-v4 --total-timesteps "$STEPS" --num-envs "$N" \
			--topology-analysis-interval 0 --no-report --log-level warn --run-dir "$dir" $extra
		used=$(tr -d ' \n"{}' <"$dir/transport.json" | tr ',' ' ')
		echo "$mode $(cat "$tmp/t") $used" | tee -a "$tmp/all"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mode wall_s user_s sys_s cpu_ratio_to_inproc wall_ratio_to_inproc"
awk '{w[$1]+=$2; u[$1]+=$3; s[$1]+=$4}
END {for (m in w) printf "%s %.1f %.1f %.1f %.2f %.2f\n", m, w[m], u[m], s[m], (u[m]+s[m])/(u["inproc"]+s["inproc"]), w[m]/w["inproc"]}' "$tmp/all" | sort
