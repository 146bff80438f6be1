#!/usr/bin/env bash
# Times `xenstream verify` against `cat` on the same warm file, in one run:
#   xenstream verify FILE        vs  cat FILE > /dev/null
#   cat FILE | xenstream verify - vs  cat FILE | cat > /dev/null
# and reports peak memory (max RSS) of xenstream on both.
# Usage: bench/cli-throughput.sh [SIZE (default 1G)] [RUNS (default 7)]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
runs=${2:-7}
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
img="$dir/pv-$size.img"

# The shipped form: a native (AOT) executable. Set XENSTREAM=path to time another build.
if [ -z "${XENSTREAM:-}" ]; then
  dotnet publish cli -c Release -r linux-x64 -p:NativeXenstream=true -o "$dir/native" -v q -nologo >/dev/null
  xs="$dir/native/xenstream"
else
  xs=$XENSTREAM
fi
[ -f "$img" ] || "$xs" sample --guest pv --memory "$size" --version 3 -o "$img"
cat "$img" > /dev/null; cat "$img" > /dev/null   # warm the page cache

# median wall time in seconds of a shell command over $runs runs
median() {
  local cmd=$1 t=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s%N); bash -c "$cmd" >/dev/null 2>&1 || { echo "failed: $cmd" >&2; exit 1; }; e=$(date +%s%N)
    t+=( "$(( (e - s) / 1000 ))" )
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.4f", a[int((NR+1)/2)]/1e6}'
}

rss() { /usr/bin/time -f '%M' bash -c "$1" 2>&1 >/dev/null | tail -n 1; }

bytes=$(stat -c %s "$img")
echo "xenstream: $xs"
echo "image: $img ($bytes octets), $runs runs each, median wall time"
c1=$(median "cat '$img' > /dev/null")
x1=$(median "'$xs' verify '$img'")
c2=$(median "cat '$img' | cat > /dev/null")
x2=$(median "cat '$img' | '$xs' verify -")
printf '%-36s %8ss\n' "cat FILE > /dev/null" "$c1" "xenstream verify FILE" "$x1" "cat FILE | cat > /dev/null" "$c2" "cat FILE | xenstream verify -" "$x2"
awk -v a="$x1" -v b="$c1" -v c="$x2" -v d="$c2" 'BEGIN {
  printf "ratio file: %.2fx (target <= 1.5x)\nratio pipe: %.2fx (target <= 1.1x)\n", a/b, c/d }'
if [ -x /usr/bin/time ]; then
  echo "peak RSS, file: $(rss "'$xs' verify '$img'") KiB; pipe: $(rss "cat '$img' | '$xs' verify -") KiB (target < 153600 KiB)"
else
  echo "peak RSS: /usr/bin/time not installed (apt-get install time)"
fi
