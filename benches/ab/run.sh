#!/bin/sh
# A/B of two cmc builds that cannot link into one binary: alternates the
# bench binaries in OLD and NEW (each holding `peers` and `programs`, copied
# from `target/release/deps/` after `cargo bench -p cmc-benches --no-run`
# at each commit), cmc rows only, ROUNDS times each side.
#
#   benches/ab/run.sh OLD NEW [ROUNDS] [PEERS_FILTER] > results.txt
#   python3 benches/ab/table.py results.txt
set -e
old=$1 new=$2 rounds=${3:-2} filter=${4:-/cmc}
programs='programs/cmc-(bz2|pulldown-cmark|cm-online-stats|lz|json|lu|vm)$'
export CARGO_TARGET_DIR="${TMPDIR:-/tmp}/cmc-ab-target"
for round in $(seq "$rounds"); do
  for side in old new; do
    dir=$old
    [ "$side" = new ] && dir=$new
    echo "=== $side round $round"
    "$dir/peers" --bench "$filter" --measurement-time 2 --warm-up-time 1 --noplot 2>&1 |
      grep -E "^[a-z].*/cmc|time:"
    if [ "$filter" = /cmc ]; then
      "$dir/programs" --bench "$programs" --measurement-time 3 --warm-up-time 1 --noplot 2>&1 |
        grep -E "^programs/cmc|time:"
    fi
  done
done
