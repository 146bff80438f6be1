#!/usr/bin/env bash
# Times `xenstream convert-legacy` on a warm legacy PV image, in one run,
# the commands interleaved (one of each per round) so a noisy machine slows
# them alike; each figure is the median over the rounds. Issue 8's targets:
#   convert FILE -> FILE (1024-page batches)      <= 1.05x  cp FILE FILE
#   convert, one page per batch                   <= 0.5x   Xen's converter on it
#   cat | convert -i - -o - | cat                 <= 1.1x   cat | cat | cat
#   peak RSS                                      < 150 MiB
# Usage: bench/legacy-convert.sh [SIZE (default 1G)] [RUNS (default 5)]
#   XENSTREAM=path   time that build instead of a fresh native (AOT) one
#   JIT=1            also time the JIT build (dotnet xenstream.dll)
#   XEN_PYTHON=dir   also time Xen's converter (a checkout's tools/python; python3)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
runs=${2:-5}
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
img="$dir/legacy-pv-$size.img"
one="$dir/legacy-pv-$size-batch1.img"
out="$dir/legacy-out.img"

. bench/lib.sh
xs=$(xenstream_under_test)
[ -f "$img" ] || python3 bench/legacy-image.py "$size" 1024 "$img"
[ -f "$one" ] || python3 bench/legacy-image.py "$size" 1 "$one"
cat "$img" "$one" > /dev/null; cat "$img" "$one" > /dev/null   # warm the page cache

names=("cp FILE FILE" "xenstream convert-legacy FILE FILE" "cat | cat | cat" "cat | convert-legacy - - | cat" "convert-legacy, 1 page per batch")
cmds=("cp '$img' '$out'" "'$xs' convert-legacy '$img' '$out'" "cat '$img' | cat | cat > /dev/null" "cat '$img' | '$xs' convert-legacy -i - -o - | cat > /dev/null" "'$xs' convert-legacy '$one' '$out'")
if [ -n "${JIT:-}" ]; then
  dotnet build cli -c Release -v q -nologo >/dev/null
  jit="dotnet cli/bin/Release/net10.0/xenstream.dll"
  names+=("JIT convert-legacy FILE FILE" "JIT cat | convert-legacy | cat" "JIT, 1 page per batch")
  cmds+=("$jit convert-legacy '$img' '$out'" "cat '$img' | $jit convert-legacy -i - -o - | cat > /dev/null" "$jit convert-legacy '$one' '$out'")
fi
if [ -n "${XEN_PYTHON:-}" ]; then
  xen="PYTHONPATH='$XEN_PYTHON' python3 '$XEN_PYTHON/scripts/convert-legacy-stream'"
  names+=("Xen's converter FILE FILE" "Xen's converter, 1 page per batch")
  cmds+=("$xen -i '$img' -o '$out' -w 64 -g pv" "$xen -i '$one' -o '$out' -w 64 -g pv")
fi

rounds "$runs" "rm -f '$out'"
rm -f "$out"

echo "xenstream: $xs"
echo "images: $img ($(stat -c %s "$img") octets), $one ($(stat -c %s "$one") octets); $runs interleaved rounds, median wall time"
medians 40
awk -v a="${m[1]}" -v b="${m[0]}" -v c="${m[3]}" -v d="${m[2]}" 'BEGIN {
  printf "ratio file: %.3fx cp (target <= 1.05x)\nratio pipes: %.3fx cat|cat|cat (target <= 1.1x)\n", a/b, c/d }'
if [ -n "${JIT:-}" ]; then
  awk -v a="${m[5]}" -v b="${m[0]}" -v c="${m[6]}" -v d="${m[2]}" 'BEGIN { printf "JIT ratio file: %.3fx cp, pipes: %.3fx\n", a/b, c/d }'
fi
if [ -n "${XEN_PYTHON:-}" ]; then
  n=${#cmds[@]}
  awk -v x="${m[$((n-2))]}" -v b="${m[0]}" -v o="${m[4]}" -v x1="${m[$((n-1))]}" 'BEGIN {
    printf "Xen converter file: %.3fx cp\none page per batch: %.3fx Xen converter (target <= 0.5x)\n", x/b, o/x1 }'
  [ -n "${JIT:-}" ] && awk -v o="${m[7]}" -v x1="${m[$((n-1))]}" 'BEGIN { printf "JIT one page per batch: %.3fx Xen converter\n", o/x1 }'
fi
rss() { rm -f "$out"; /usr/bin/time -f '%M' bash -c "$1" 2>&1 >/dev/null | tail -n 1; }
if [ -x /usr/bin/time ]; then
  echo "peak RSS KiB: file $(rss "'$xs' convert-legacy '$img' '$out'"), pipes $(rss "cat '$img' | '$xs' convert-legacy -i - -o - | cat > /dev/null"), one page per batch $(rss "'$xs' convert-legacy '$one' '$out'") (target < 153600)"
else
  echo "peak RSS: /usr/bin/time not installed (apt-get install time)"
fi
rm -f "$out"
