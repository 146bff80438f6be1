#!/usr/bin/env bash
# Peak resident memory (max RSS) of xenstream verify, dump and convert-legacy,
# from a file and from a pipe, on images of one-page and of 1024-page records
# (PAGE_DATA records; legacy batches), for each size given. Nothing here is
# timed: the figure is the kernel's high-water mark of the process's resident
# pages, which a mapped file's touched pages count in.
# Usage: bench/flat-memory.sh [SIZE...]   (default: 256M 1G 4G)
#   XENSTREAM=path   measure that build instead of a fresh native (AOT) one
#   BENCH_DIR=dir    where the images are written (default /tmp/formatgen-bench);
#                    4G needs about 17 GiB free there
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256M 1G 4G)
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
. bench/lib.sh
xs=$(xenstream_under_test)
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
target=65536
worst=0
rss() { # peak RSS in KiB of the last process of a pipeline run by bash
  local out
  out=$(/usr/bin/time -f '%M' bash -c "$1" 2>&1 >/dev/null | tail -n 1)
  [[ $out =~ ^[0-9]+$ ]] || { echo "failed: $1: $out" >&2; exit 1; }
  echo "$out"
}
row() { # NAME COMMAND: one line, and the worst figure kept
  local kib
  kib=$(rss "$2")
  (( kib > worst )) && worst=$kib
  printf '%-44s %8s KiB\n' "$1" "$kib"
}
echo "xenstream: $xs"
echo "peak RSS (target < $target KiB for every line)"
for size in "${sizes[@]}"; do
  for pages in 1 1024; do
    img="$dir/pv-$size-p$pages.img"
    leg="$dir/legacy-$size-p$pages.img"
    [ -f "$img" ] || "$xs" sample --guest pv --memory "$size" --pages-per-record "$pages" -o "$img"
    [ -f "$leg" ] || python3 bench/legacy-image.py "$size" "$pages" "$leg"
    out="$dir/converted.img"
    echo "-- $size guest, $pages page(s) per record ($(stat -c %s "$img") octets; legacy $(stat -c %s "$leg"))"
    # The CLI time runs the last command of the pipeline under `time`: xenstream.
    row "verify FILE"                    "'$xs' verify '$img'"
    row "cat FILE | verify -"            "cat '$img' | exec '$xs' verify -"
    row "dump FILE"                      "'$xs' dump '$img' > /dev/null"
    row "cat FILE | dump -"              "cat '$img' | exec '$xs' dump - > /dev/null"
    row "dump --json FILE"               "'$xs' dump --json '$img' > /dev/null"
    row "convert-legacy FILE FILE"       "'$xs' convert-legacy '$leg' '$out'"
    row "cat LEGACY | convert-legacy - -" "cat '$leg' | exec '$xs' convert-legacy -i - -o - > /dev/null"
    rm -f "$out"
  done
done
echo "worst: $worst KiB ($(( worst / 1024 )) MiB); target < $target KiB: $([ "$worst" -lt "$target" ] && echo met || echo NOT met)"
