#!/usr/bin/env bash
# Re-measure seird-fit against its Python prior art with one command, from
# the repository root:
#
#   benches/compare.sh                 # build, run both, write reports/performance.md
#   benches/compare.sh --sample 10     # extra flags go to benches/compare.py
#
# Environment:
#   DATA=../shared/data/kaggle/train.csv   the data both tools read
#   END=2020-04-30                         last training day
#   OUT=reports/performance.md             where the report goes
#   PYTHON=python3                         a Python with benches/requirements.txt;
#                                          without it a venv is made in target/prior-art-venv
#   SKIP_CRITERION=1                       do not run `cargo bench --bench loss`
#   CRITERION_ARGS="..."                   extra criterion flags, e.g. "--measurement-time 3"
#   REUSE_PRIOR_ART="reports/prior_art_12.json ..."  reuse saved prior-art results
#                                          (faster; the report says so)
#   ALLOW_NO_BINARY=1                      go on when the release build fails
#                                          (the report then lacks our side)
set -euo pipefail

cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/kaggle/train.csv}
END=${END:-2020-04-30}
OUT=${OUT:-reports/performance.md}

say() { printf 'compare.sh: %s\n' "$*" >&2; }

if [[ ! -e "$DATA" ]]; then
    say "data not found: $DATA (set DATA=...; see ../shared/data/README.md)"
    exit 2
fi

say "building seird-fit in release mode"
if ! cargo build --release --quiet; then
    if [[ -n "${ALLOW_NO_BINARY:-}" ]]; then
        say "release build failed; continuing without our side (ALLOW_NO_BINARY set)"
    else
        say "release build failed; fix it or set ALLOW_NO_BINARY=1 to measure the prior art alone"
        exit 2
    fi
fi

if [[ -z "${SKIP_CRITERION:-}" && -f benches/loss.rs ]]; then
    say "criterion: one loss evaluation (cargo bench --bench loss)"
    # shellcheck disable=SC2086 # CRITERION_ARGS is a list of flags
    if ! cargo bench --quiet --bench loss -- ${CRITERION_ARGS:-} >&2; then
        say "cargo bench --bench loss failed; the report will say the evaluation ratio is not measured"
    fi
fi

# A Python with the pinned prior-art stack.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import numpy, scipy, pandas, sklearn' 2>/dev/null; then
    VENV=target/prior-art-venv
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "making $VENV with benches/requirements.txt"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet -r benches/requirements.txt
    fi
    PYTHON=$VENV/bin/python
fi

reuse=()
if [[ -n "${REUSE_PRIOR_ART:-}" ]]; then
    # shellcheck disable=SC2206 # a space-separated list of paths
    reuse=(--reuse-prior-art ${REUSE_PRIOR_ART})
fi

# scipy on the tight loss, when it has been measured (prior_art.py --objective tight).
reference=()
if [[ -f reports/prior_art_12_tight.json ]]; then
    reference=(--reference reports/prior_art_12_tight.json)
fi

"$PYTHON" benches/compare.py --bin target/release/seird-fit --data "$DATA" --end "$END" \
    --out "$OUT" "${reuse[@]}" "${reference[@]}" "$@"
say "report: $OUT"
