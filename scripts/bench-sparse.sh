#!/bin/sh
# Sparse Rips at scale: nthost tda --sparse EPS on N points on a torus in
# R^3 (generated here), for each "N:MAXDIM" given, with wall time, CPU
# time (user+sys of nthost and its plugins) and peak resident memory.
#   scripts/bench-sparse.sh [EPS] [THREADS] [N:MAXDIM ...]
#   scripts/bench-sparse.sh 0.5 2 10000:1 10000:2 50000:1 100000:1
set -eu
eps=${1:-0.5}
threads=${2:-2}
shift 2 2>/dev/null || shift $#
sizes=${*:-"10000:1 10000:2 50000:1 100000:1"}
bin=$(dirname "$0")/../bin/nthost
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'), eps $eps, threads $threads, nproc $(nproc)"
printf '%8s %6s %9s %9s %9s %7s %s\n' n maxdim wall_s cpu_s peak_MiB factor load
for nd in $sizes; do
	n=${nd%:*}
	d=${nd#*:}
	f=$dir/torus$n.csv
	[ -f "$f" ] || awk -v n="$n" 'BEGIN { srand(n); pi = 3.141592653589793
		for (i = 0; i < n; i++) { a = rand() * 2 * pi; b = rand() * 2 * pi
			printf "%.10f,%.10f,%.10f\n", (2 + cos(b)) * cos(a), (2 + cos(b)) * sin(a), sin(b) } }' >"$f"
	/usr/bin/time -f "%e %U %S %M" -o "$dir/time" "$bin" tda --points "$f" --maxdim "$d" \
		--sparse "$eps" --threads "$threads" --out "$dir/out.json" 2>"$dir/err" || { cat "$dir/err"; exit 1; }
	factor=$(grep approximation_factor "$dir/out.json" | tr -dc '0-9.')
	read -r wall user sys kb <"$dir/time"
	printf '%8s %6s %9s %9.2f %9.0f %7s %s\n' "$n" "$d" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$kb / 1024" | bc)" "$factor" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
