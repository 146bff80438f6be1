#!/usr/bin/env bash
# Start time of the installed xenstream: `xenstream --help > /dev/null`, median of RUNS interleaved rounds, for
# the tool as `dotnet tool install xenstream` gives it on this machine (xenstream.linux-x64: Native AOT) and for
# the framework-dependent build any other machine gets (xenstream.any: JIT), against `true` (what starting any
# command from bash costs). Packs cli into the bench folder and installs from there, offline.
# Usage: bench/start-time.sh [RUNS (default 21)]
#   PKGS=dir   install from packages packed there already (dotnet pack FormatGen.sln -c Release -o dir)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-21}
dir=${BENCH_DIR:-/tmp/formatgen-bench}/start-time
rm -rf "$dir"
mkdir -p "$dir"
pkgs=${PKGS:-$dir/pkgs}
[ -n "${PKGS:-}" ] || dotnet pack cli -c Release -o "$pkgs" -v q -nologo >/dev/null
pkgs=$(cd "$pkgs" && pwd)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
cat > "$dir/NuGet.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$dir/cache" /></config>
  <packageSources><clear /><add key="xenstream" value="$pkgs" /></packageSources>
</configuration>
EOF
install() { dotnet tool install "$1" --tool-path "$dir/$2" --version "$version" --configfile "$dir/NuGet.config" >/dev/null; }
install xenstream installed
install xenstream.any jit
echo "installed: $(readlink -f "$dir/installed/xenstream" | sed "s:^$dir/installed/.store/::")"

cmds=("true" "$dir/installed/xenstream --help" "$dir/jit/xenstream --help")
names=("true" "xenstream --help (installed)" "xenstream --help (xenstream.any, JIT)")
rounds "$runs"
echo "start time, median of $runs rounds:"
medians 40
awk -v f="${m[0]}" -v n="${m[1]}" -v j="${m[2]}" 'BEGIN {
  printf "less the floor (true): installed %.1f ms, JIT %.1f ms\n", (n - f) * 1000, (j - f) * 1000 }'
