#!/usr/bin/env bash
# Times `xenstream verify` against `cat` on the same warm file, in one run:
#   xenstream verify FILE        vs  cat FILE > /dev/null
#   cat FILE | xenstream verify - vs  cat FILE | cat > /dev/null
# and reports peak memory (max RSS) of xenstream on both. The commands are
# interleaved (one of each per round) so a noisy machine slows them alike;
# each figure is the median over the rounds.
# Usage: bench/cli-throughput.sh [SIZE (default 1G)] [RUNS (default 7)]
#   PAGES=N              pages per PAGE_DATA record (default 1024, as Xen sends; 1 for one-page records)
#   XENSTREAM=path       time that build instead of a fresh native (AOT) one
#   BASELINE=path        also time another build (e.g. the last release) in the same rounds
#   WRAP=libxl|xl        also time the same guest as a libxl stream or xl save file (sample --wrap),
#                        with CHECKPOINTS=N as a checkpointed stream of N rounds, and compare its
#                        ratios against cat with the bare libxc stream's
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
runs=${2:-7}
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
pages=${PAGES:-1024}
img="$dir/pv-$size-p$pages.img"

. bench/lib.sh
xs=$(xenstream_under_test)
base=${BASELINE:-}
wrap=${WRAP:-}
[ -f "$img" ] || "$xs" sample --guest pv --memory "$size" --version 3 --pages-per-record "$pages" -o "$img"
cat "$img" > /dev/null; cat "$img" > /dev/null   # warm the page cache
if [ -n "$wrap" ]; then
  cps=${CHECKPOINTS:-0}
  wimg="$dir/pv-$size-p$pages-$wrap-cp$cps.img"
  [ -f "$wimg" ] || "$xs" sample --guest pv --memory "$size" --version 3 --pages-per-record "$pages" --wrap "$wrap" ${cps:+--checkpoints "$cps"} -o "$wimg"
  cat "$wimg" > /dev/null; cat "$wimg" > /dev/null
fi

names=("cat FILE > /dev/null" "xenstream verify FILE" "cat FILE | cat > /dev/null" "cat FILE | xenstream verify -")
cmds=("cat '$img' > /dev/null" "'$xs' verify '$img'" "cat '$img' | cat > /dev/null" "cat '$img' | '$xs' verify -")
if [ -n "$base" ]; then
  names+=("baseline verify FILE" "cat FILE | baseline verify -")
  cmds+=("'$base' verify '$img'" "cat '$img' | '$base' verify -")
fi

if [ -n "$wrap" ]; then
  names+=("cat WRAPPED > /dev/null" "xenstream verify WRAPPED" "cat WRAPPED | cat > /dev/null" "cat WRAPPED | xenstream verify -")
  cmds+=("cat '$wimg' > /dev/null" "'$xs' verify '$wimg'" "cat '$wimg' | cat > /dev/null" "cat '$wimg' | '$xs' verify -")
fi
w0=${#cmds[@]}; [ -n "$wrap" ] && w0=$(( ${#cmds[@]} - 4 ))

rounds "$runs"

bytes=$(stat -c %s "$img")
echo "xenstream: $xs${base:+ (baseline: $base)}"
echo "image: $img ($bytes octets), $runs interleaved rounds, median wall time"
medians 36
awk -v a="${m[1]}" -v b="${m[0]}" -v c="${m[3]}" -v d="${m[2]}" 'BEGIN {
  printf "ratio file: %.2fx (target <= 1.0x)\nratio pipe: %.2fx (target <= 0.9x)\n", a/b, c/d }'
if [ -n "$base" ]; then
  awk -v a="${m[4]}" -v b="${m[0]}" -v c="${m[5]}" -v d="${m[2]}" -v x="${m[1]}" -v y="${m[3]}" 'BEGIN {
    printf "baseline ratio file: %.2fx, pipe: %.2fx; this build against the baseline: file %.2fx, pipe %.2fx\n", a/b, c/d, x/a, y/c }'
fi
if [ -n "$wrap" ]; then
  echo "wrapped: $wimg ($(stat -c %s "$wimg") octets, $wrap, ${CHECKPOINTS:-0} checkpoint(s))"
  awk -v a="${m[1]}" -v b="${m[0]}" -v c="${m[3]}" -v d="${m[2]}" \
      -v wa="${m[$((w0+1))]}" -v wb="${m[$w0]}" -v wc="${m[$((w0+3))]}" -v wd="${m[$((w0+2))]}" 'BEGIN {
    printf "wrapped ratio file: %.2fx, pipe: %.2fx; against the bare stream ratios: file %.3f, pipe %.3f (target within 5%%)\n",
      wa/wb, wc/wd, (wa/wb)/(a/b), (wc/wd)/(c/d)
    printf "wrapped verify against bare verify (same guest, same size): file %.3f, pipe %.3f\n", wa/a, wc/c }'
fi
rss() { /usr/bin/time -f '%M' bash -c "$1" 2>&1 >/dev/null | tail -n 1; }
if [ -x /usr/bin/time ]; then
  echo "peak RSS, file: $(rss "'$xs' verify '$img'") KiB; pipe: $(rss "cat '$img' | '$xs' verify -") KiB (target < 65536 KiB)"
  [ -n "$wrap" ] && echo "peak RSS wrapped, file: $(rss "'$xs' verify '$wimg'") KiB; pipe: $(rss "cat '$wimg' | '$xs' verify -") KiB"
else
  echo "peak RSS: /usr/bin/time not installed (apt-get install time)"
fi
