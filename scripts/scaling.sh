#!/usr/bin/env bash
# Batch scaling on the real data: wall time, CPU time and peak memory
# (/usr/bin/time -v) of `seird-fit batch` for the JHU US counties (about
# 100, 1,000 and all 3,340 rows, via --shard 1/33, 1/3 and everything) with
# 1 and 2 jobs, and the global JHU batch, each repeated REPEAT times
# (median quoted). Usage: scripts/scaling.sh [OUT_ROOT] > table.md;
# ONLY=REGEX runs only the rows whose label matches (e.g. on a loaded
# machine: REPEAT=1 ONLY='shard|all, --jobs 2$' scripts/scaling.sh).
# (build first: cargo build --release). The machine may be shared: compare
# CPU seconds, and quote wall medians as what they are.
set -euo pipefail
BIN=${BIN:-target/release/seird-fit}
ROOT=${1:-/tmp/seird-scaling}
REPEAT=${REPEAT:-3}
ONLY=${ONLY:-}
DATA=${DATA:-../shared/data}
mkdir -p "$ROOT"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() { # label, then batch args
  local label=$1; shift
  if [ -n "$ONLY" ] && ! grep -qE -- "$ONLY" <<< "$label"; then return; fi
  local walls=() cpus=() rss=() regions=""
  for _ in $(seq "$REPEAT"); do
    rm -rf "$ROOT/out"
    /usr/bin/time -v "$BIN" batch "$@" --out "$ROOT/out" --quiet 2> "$ROOT/time.txt" || true
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$ROOT/time.txt")")
    cpus+=("$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$ROOT/time.txt")")
    rss+=("$(awk -F': ' '/Maximum resident/ {print $2}' "$ROOT/time.txt")")
    regions=$(python3 -c "import json,sys; s=json.load(open('$ROOT/out/summary.json')); print(len(s['regions']), s['fitted'])")
  done
  set -- $regions
  printf '| %s | %s | %s | %s | %s | %s MB |\n' "$label" "$1" "$2" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))"
}

echo "| run | regions | fitted | wall s (median of $REPEAT) | CPU s (user+sys) | peak RSS |"
echo "|---|---|---|---|---|---|"
US="--data $DATA/jhu_us --end 2020-07-31"
for jobs in 1 2; do
  measure "US counties, shard 1/33, --jobs $jobs" --all $US --jobs $jobs --shard 1/33
  measure "US counties, shard 1/3, --jobs $jobs" --all $US --jobs $jobs --shard 1/3
  measure "US counties, all, --jobs $jobs" --all $US --jobs $jobs
done
measure "US counties, all, --jobs 2, --plots full" --all $US --jobs 2 --plots full
G="--all --data $DATA/jhu --end 2020-04-30 --jobs 2"
measure "global, --jobs 2 (--plots thumb)" $G
measure "global, --jobs 2, --plots full" $G --plots full
measure "global, --jobs 2, --plots none" $G --plots none
