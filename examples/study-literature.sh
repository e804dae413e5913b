#!/bin/bash
# The gossip-age literature study (docs/studies/literature.md) in one command: the sweep, then
# the table of published laws against fitted ones.
#   bash examples/study-literature.sh [OUT_DIR]        (about 10 minutes on two cores)
# OUT_DIR (default out/literature) gets the sweep's files (results.csv, fits.csv, figures) and
# summary.md, the table.
set -euo pipefail
out=${1:-out/literature}
timely=${TIMELY:-./build/timely}
here=$(dirname "$0")
"$timely" sweep "$here/sweep-literature.toml" --out "$out" --force
python3 "$here/literature-table.py" "$out" | tee "$out/summary.md"
