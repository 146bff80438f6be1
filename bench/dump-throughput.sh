#!/usr/bin/env bash
# Times `xenstream dump` (text and --json) against `cat` on the same warm file of
# one-page PAGE_DATA records (the most records per gigabyte: one line each), in
# one run, with `xenstream verify` alongside for reference:
#   xenstream dump FILE > /dev/null         vs  cat FILE > /dev/null
#   xenstream dump --json FILE > /dev/null  vs  cat FILE > /dev/null
# The commands are interleaved (one of each per round) so a noisy machine slows
# them alike; each figure is the median over the rounds.
# Usage: bench/dump-throughput.sh [SIZE (default 1G)] [RUNS (default 7)]
#   XENSTREAM=path       time that build instead of a fresh native (AOT) one
#   BASELINE=path        also time another build (e.g. the last release) in the same rounds
#   GUEST=pv|hvm         the sample guest (default pv)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
runs=${2:-7}
guest=${GUEST:-pv}
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
img="$dir/$guest-$size-1page.img"

. bench/lib.sh
xs=$(xenstream_under_test)
base=${BASELINE:-}
[ -f "$img" ] || "$xs" sample --guest "$guest" --memory "$size" --version 3 --pages-per-record 1 -o "$img"
cat "$img" > /dev/null; cat "$img" > /dev/null   # warm the page cache

names=("cat FILE > /dev/null" "xenstream verify FILE" "xenstream dump FILE" "xenstream dump --json FILE")
cmds=("cat '$img' > /dev/null" "'$xs' verify '$img'" "'$xs' dump '$img' > /dev/null" "'$xs' dump --json '$img' > /dev/null")
if [ -n "$base" ]; then
  names+=("baseline dump FILE" "baseline dump --json FILE")
  cmds+=("'$base' dump '$img' > /dev/null" "'$base' dump --json '$img' > /dev/null")
fi

rounds "$runs"

echo "xenstream: $xs${base:+ (baseline: $base)}"
echo "image: $img ($(stat -c %s "$img") octets, $("$xs" verify "$img" | sed -n 's/.*stream, \([0-9]*\) records.*/\1/p') records), $runs interleaved rounds, median wall time"
medians 36
awk -v c="${m[0]}" -v v="${m[1]}" -v t="${m[2]}" -v j="${m[3]}" 'BEGIN {
  printf "ratio verify: %.2fx\nratio dump: %.2fx (target <= 1.5x)\nratio dump --json: %.2fx (target <= 1.5x)\n", v/c, t/c, j/c }'
if [ -n "$base" ]; then
  awk -v c="${m[0]}" -v t="${m[2]}" -v j="${m[3]}" -v bt="${m[4]}" -v bj="${m[5]}" 'BEGIN {
    printf "baseline ratio dump: %.2fx, dump --json: %.2fx; this build against the baseline: dump %.2f, dump --json %.2f\n", bt/c, bj/c, t/bt, j/bj }'
fi
