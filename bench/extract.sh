#!/usr/bin/env bash
# Times `xenstream extract` against `cp` of the same warm file, in one run:
#   cp FILE OUT                                  (the baseline)
#   xenstream extract FILE -o OUT --format raw   (target <= 1.1x cp)
#   xenstream extract FILE -o OUT --format elf   (target <= 1.2x cp)
# interleaved (one of each per round, outputs removed before each), medians; then
# the peak memory (max RSS) of each format, and of a guest whose pfns are sparse
# up to 2^40 (ELF), against the target of 150 MiB.
# Usage: bench/extract.sh [SIZE (default 1G)] [RUNS (default 7)]
#   PAGES=N          pages per PAGE_DATA record (default 1024, as Xen sends)
#   GUEST=pv|hvm     (default pv)
#   XENSTREAM=path   time that build instead of a fresh native (AOT) one
#   BASELINE=path    also time another build (the JIT one) in the same rounds
#   OUT_DIR=dir      where outputs go (default: beside the image)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
runs=${2:-7}
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
pages=${PAGES:-1024}
guest=${GUEST:-pv}
img="$dir/$guest-$size-p$pages.img"
out=${OUT_DIR:-$dir}/extract-out
. bench/lib.sh
xs=$(xenstream_under_test)
base=${BASELINE:-}
[ -f "$img" ] || "$xs" sample --guest "$guest" --memory "$size" --version 3 --pages-per-record "$pages" -o "$img"
cat "$img" > /dev/null; cat "$img" > /dev/null   # warm the page cache

names=("cp FILE OUT" "xenstream extract --format raw" "xenstream extract --format elf")
cmds=("cp '$img' '$out'" "'$xs' extract -q '$img' -o '$out'" "'$xs' extract -q '$img' -o '$out' --format elf")
if [ -n "$base" ]; then
  names+=("baseline extract --format raw" "baseline extract --format elf")
  cmds+=("'$base' extract -q '$img' -o '$out'" "'$base' extract -q '$img' -o '$out' --format elf")
fi
# Each run starts without the output, and with what the last one wrote on its way to disk.
rounds "$runs" "rm -f '$out'; sync -f '$dir' 2>/dev/null || sync"
rm -f "$out"

echo "xenstream: $xs${base:+ (baseline: $base)}"
echo "image: $img ($(stat -c %s "$img") octets, $guest, $pages page(s) per record), $runs interleaved rounds, median wall time"
medians 32
awk -v c="${m[0]}" -v r="${m[1]}" -v e="${m[2]}" 'BEGIN { printf "raw: %.2fx cp (target <= 1.1x); elf: %.2fx cp (target <= 1.2x)\n", r/c, e/c }'
[ -n "$base" ] && awk -v c="${m[0]}" -v r="${m[3]}" -v e="${m[4]}" 'BEGIN { printf "baseline raw: %.2fx cp; elf: %.2fx cp\n", r/c, e/c }'

if [ -x /usr/bin/time ]; then
  rss() { /usr/bin/time -f '%M' bash -c "$1" 2>&1 >/dev/null | tail -n 1; }
  echo "peak RSS raw: $(rss "'$xs' extract -q '$img' -o '$out'") KiB; elf: $(rss "'$xs' extract -q '$img' -o '$out' --format elf") KiB (target < 153600 KiB)"
  rm -f "$out"
  # A guest whose pfns reach 2^40: the test suite's hand-made kind, made here by the library.
  sparse="$dir/sparse-2^40.img"
  [ -f "$sparse" ] || dotnet bench/FormatGen.Bench/bin/Release/net10.0/FormatGen.Bench.dll sparse-image "$sparse" >/dev/null
  echo "peak RSS elf, pfns sparse to 2^40: $(rss "'$xs' extract -q '$sparse' -o '$out' --format elf") KiB"
  rm -f "$out"
else
  echo "peak RSS: /usr/bin/time not installed (apt-get install time)"
fi
