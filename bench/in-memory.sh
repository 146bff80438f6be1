#!/usr/bin/env bash
# Checking an image held in memory: LibxcReader over a ReadOnlyMemory<byte> and
# over a MemoryStream, against the grammar's own span validator over the same
# octets (Libxc.Validate) in the same process, interleaved, and Kaitai's
# JavaScript parser (compiler 0.11, kaitai-struct runtime, under node) on the
# same file. Images of one-page and of 1024-page PAGE_DATA records.
# Usage: bench/in-memory.sh [SIZE (default 1G)] [RUNS (default 9)]
#   BENCH_DIR=dir   where the images are written (default /tmp/formatgen-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
runs=${2:-9}
dir=${BENCH_DIR:-/tmp/formatgen-bench}
mkdir -p "$dir"
dotnet build bench/FormatGen.Bench -c Release -v q -nologo >/dev/null
dotnet build cli -c Release -v q -nologo >/dev/null
[ -d .ci/kaitai/node_modules ] || (cd .ci/kaitai && npm ci --silent)
for pages in 1 1024; do
  img="$dir/pv-$size-p$pages.img"
  [ -f "$img" ] || dotnet cli/bin/Release/net10.0/xenstream.dll sample --guest pv --memory "$size" --pages-per-record "$pages" -o "$img"
  echo "-- $pages page(s) per record"
  out=$(dotnet bench/FormatGen.Bench/bin/Release/net10.0/FormatGen.Bench.dll inmemory "$img" "$runs")
  echo "$out"
  reader=$(echo "$out" | awk '/LibxcReader\(ReadOnlyMemory\), check mode/ {print $(NF-3)}')
  kaitai=$(cd .ci/kaitai && node --max-old-space-size=8192 parse.js --time 3 ../../grammar/xen/libxc.ksy "$img" | sed -E 's/.*"median":([0-9.e-]+).*/\1/')
  awk -v k="$kaitai" -v r="$reader" 'BEGIN { printf "Kaitai (JavaScript, median of 3) %8.4f s: LibxcReader over memory is %.0fx faster (target > 10x)\n", k, k/r }'
done
