#!/usr/bin/env bash
# Fuzz the libxc reader with AFL++ for SECONDS (default 600).
# Installs AFL++ (Debian package) and the SharpFuzz instrumenter (dotnet tool) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
work=${FUZZ_DIR:-/tmp/formatgen-fuzz}
command -v afl-fuzz >/dev/null || { apt-get update -qq && apt-get install -y -qq afl++ >/dev/null; }
dotnet tool restore >/dev/null
out="$work/bin"
dotnet publish fuzz/FormatGen.Fuzz -c Release -o "$out" -v q -nologo >/dev/null
for dll in FormatGen.Runtime.dll FormatGen.Xen.dll; do dotnet sharpfuzz "$out/$dll"; done
mkdir -p "$work/in" "$work/out"
# Seeds: small valid images of each kind, written by the library's own writer.
cli() { dotnet run --project cli -c Release -- "$@"; }
cli sample --guest pv --memory 64K --version 3 -o "$work/in/pv3.img"
cli sample --guest hvm --memory 16K --version 2 --big-endian -o "$work/in/hvm2be.img"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1
timeout --preserve-status "$seconds" afl-fuzz -i "$work/in" -o "$work/out" -t 5000 -m none -- dotnet "$out/FormatGen.Fuzz.dll" || true
crashes=$(find "$work/out" -path '*crashes*' -type f ! -name README.txt | wc -l)
hangs=$(find "$work/out" -path '*hangs*' -type f | wc -l)
echo "crashes: $crashes, hangs: $hangs (inputs under $work/out)"
[ "$crashes" -eq 0 ]
