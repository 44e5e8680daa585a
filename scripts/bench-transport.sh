#!/bin/sh
# Training through plugin processes against --in-process, side by side in
# one run: Hopper-v4, no snapshots, no report, num_envs 1 and 8, each mode
# timed by /usr/bin/time (children included). Modes alternate within each
# repetition so a change in the machine's load hits all of them alike.
# shm-direct is the default (the algo plugin steps the env plugin); shm,
# socket and grpc are the host relaying each step.
#
#   scripts/bench-transport.sh [STEPS] [REPS] [MODES]     (make bench-transport)
#
# MODES defaults to "inproc shm-direct shm socket grpc"; inproc must be
# among them (the ratios are to it).
#
# Prints one line per run and, per num_envs, each mode's wall, user and
# system seconds summed over repetitions with its wall ratio to in-process.
set -eu
STEPS=${1:-40960}
REPS=${2:-1}
MODES=${3:-inproc shm-direct shm socket grpc}
BIN=$(dirname "$0")/../bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  steps: $STEPS  reps: $REPS"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "num_envs mode wall_s user_s sys_s transport"
for n in 1 8; do
	for r in $(seq "$REPS"); do
		for mode in $MODES; do
			dir="$tmp/$n-$mode-$r"
			case $mode in
			inproc) env=""; extra="--in-process" ;;
			*) env="NT_TRANSPORT=$mode"; extra="" ;;
			esac
			/usr/bin/time -f "%e %U %S" -o "$tmp/t" env $env NT_PLUGIN_DIR="$BIN" "$BIN/nthost" \
				--env-id Hopper-v4 --total-timesteps "$STEPS" --num-envs "$n" \
				--topology-analysis-interval 0 --no-report --log-level warn --run-dir "$dir" $extra
			used=$(tr -d ' \n"{}' <"$dir/transport.json" | tr ',' ' ')
			echo "$n $mode $(cat "$tmp/t") $used" | tee -a "$tmp/all"
		done
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "num_envs mode wall_s user_s sys_s wall_ratio_to_inproc cpu_ratio_to_inproc"
awk '{w[$1" "$2]+=$3; u[$1" "$2]+=$4; s[$1" "$2]+=$5; if (!seen[$1" "$2]++) order[++k]=$1" "$2}
END {for (i=1;i<=k;i++) {key=order[i]; split(key,a," "); ref=a[1]" inproc";
	printf "%s %.1f %.1f %.1f %.2f %.2f\n", key, w[key], u[key], s[key], w[key]/w[ref], (u[key]+s[key])/(u[ref]+s[ref])}}' "$tmp/all"
