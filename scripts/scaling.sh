#!/usr/bin/env bash
# The batch scaling table of reports/performance.md (issue 14): wall time,
# CPU time (user + sys) and peak memory (`/usr/bin/time -v`) of
# `seird-fit batch` with the defaults (designed starts, profile intervals,
# `trend` forecast intervals, thumbnails) for about 100, 1,000 and all 3,340
# JHU US counties (`--shard 1/33`, `--shard 1/3`, everything; end
# 2020-07-31) with 1 and 2 jobs, and the global JHU batch (259 fitted, end
# 2020-04-30), each repeated REPEAT times (medians quoted).
#
# Usage (build first: cargo build --release):
#   scripts/scaling.sh [OUT_ROOT] > table.md
#   ONLY=REGEX scripts/scaling.sh     # only the rows whose label matches,
#                                     # e.g. ONLY='~100 counties, 1 job'
#   REPEAT=1 scripts/scaling.sh       # one run per row
# Prints a Markdown table, then the exact command of every row. Run it on
# an idle machine: the load average before and after each row is printed
# beside it, and wall times under load are not comparable (CPU seconds
# are, roughly). The county rows with the defaults take ~5 min of CPU for
# all counties per run: the whole script is ~40 min on two idle cores.
# Each row's output is written under OUT_ROOT (default /tmp/seird-scaling)
# and deleted after it is measured.
set -euo pipefail
BIN=${BIN:-target/release/seird-fit}
ROOT=${1:-/tmp/seird-scaling}
REPEAT=${REPEAT:-3}
ONLY=${ONLY:-}
DATA=${DATA:-../shared/data}
mkdir -p "$ROOT"
trap 'rm -rf "$ROOT/out" "$ROOT/time.txt" "$ROOT/no_intervals.toml"' EXIT
COMMANDS=()

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load() { cut -d' ' -f1 /proc/loadavg; }

measure() { # label, then batch args
  local label=$1; shift
  if [ -n "$ONLY" ] && ! grep -qE -- "$ONLY" <<< "$label"; then return; fi
  local walls=() cpus=() rss=() regions="" before after
  COMMANDS+=("$label: $BIN batch $* --out $ROOT/out --quiet")
  before=$(load)
  for _ in $(seq "$REPEAT"); do
    rm -rf "$ROOT/out"
    /usr/bin/time -v "$BIN" batch "$@" --out "$ROOT/out" --quiet 2> "$ROOT/time.txt" || true
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$ROOT/time.txt")")
    cpus+=("$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$ROOT/time.txt")")
    rss+=("$(awk -F': ' '/Maximum resident/ {print $2}' "$ROOT/time.txt")")
    regions=$(python3 -c "import json,sys; s=json.load(open('$ROOT/out/summary.json')); print(len(s['regions']), s['fitted'])")
  done
  after=$(load)
  rm -rf "$ROOT/out"
  set -- $regions
  local wall cpu
  wall=$(printf '%s\n' "${walls[@]}" | median)
  cpu=$(printf '%s\n' "${cpus[@]}" | median)
  printf '| %s | %s | %s | %s | %s | %s | %s MB | %s / %s |\n' "$label" "$1" "$2" \
    "$wall" "$cpu" "$(awk -v c="$cpu" -v n="$2" 'BEGIN {printf "%.0f", (n > 0 ? 1000 * c / n : 0)}')" \
    "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))" "$before" "$after"
}

echo "$("$BIN" --version), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| run | regions | fitted | wall s (median of $REPEAT) | CPU s (user+sys) | CPU ms per fitted region | peak RSS | load before / after |"
echo "|---|---|---|---|---|---|---|---|"
US="--all --data $DATA/jhu_us --end 2020-07-31"
for jobs in 1 2; do
  j="$jobs job"; [ "$jobs" = 1 ] || j="${j}s"
  measure "~100 counties, $j" $US --jobs "$jobs" --shard 1/33
  measure "~1,000 counties, $j" $US --jobs "$jobs" --shard 1/3
  measure "all 3,340 counties, $j" $US --jobs "$jobs"
done
G="--all --data $DATA/jhu --end 2020-04-30"
measure "global, 1 job" $G --jobs 1
measure "global, 2 jobs" $G --jobs 2
# The fits alone: no profile intervals (`intervals = false`), no forecast
# calibration.
printf 'intervals = false\n' > "$ROOT/no_intervals.toml"
measure "global, 2 jobs, no profiles, no calibration" $G --jobs 2 \
  --config "$ROOT/no_intervals.toml" --calibration-origins 0
echo
echo "Commands (each run under \`/usr/bin/time -v\`):"
echo
for c in "${COMMANDS[@]}"; do echo "- \`$c\`"; done
echo
echo "(\`$ROOT/no_intervals.toml\` holds the one line \`intervals = false\`.)"
