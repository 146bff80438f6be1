#!/usr/bin/env bash
# Fuzz one harness, or all of them, with AFL++ for SECONDS each (default 600).
#   fuzz/run.sh TARGET|all [SECONDS]
# Targets: libxc, containers, legacy, grammar, generated (fuzz/README.md says what each reads).
# Installs AFL++ (apt) and the SharpFuzz instrumenter (dotnet tool) if missing, instruments the
# library's assemblies, seeds each corpus with small valid inputs, and runs. A finding is an
# exception other than the library's own errors, a hang over 1 s per input, or memory over
# 512 MiB (the .NET heap is limited to it, so more is an OutOfMemoryException). Exits 1 when
# a run found anything; its inputs are under $FUZZ_DIR/TARGET/out/default/{crashes,hangs}.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(libxc containers legacy grammar generated)
which=${1:?usage: fuzz/run.sh TARGET|all [SECONDS]}
seconds=${2:-600}
work=${FUZZ_DIR:-/tmp/formatgen-fuzz}
if [ "$which" = all ]; then targets=("${all[@]}"); else targets=("$which"); fi
for t in "${targets[@]}"; do [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: no target '$t' (${all[*]})" >&2; exit 2; }; done

command -v afl-fuzz >/dev/null || { apt-get update -qq && apt-get install -y -qq afl++ >/dev/null; }
dotnet tool restore >/dev/null
bin="$work/bin"
rm -rf "$bin"
dotnet publish fuzz/FormatGen.Fuzz -c Release -o "$bin" -v q -nologo >/dev/null
harness() { dotnet "$bin/FormatGen.Fuzz.dll" "$@"; }
xs() { dotnet cli/bin/Release/net10.0/xenstream.dll "$@" >/dev/null; }
dotnet build cli -c Release -v q -nologo >/dev/null

seed() {
  local t=$1 in=$2
  rm -rf "$in"; mkdir -p "$in"
  case $t in
    libxc)
      xs sample --guest pv --memory 64K --version 3 -o "$in/pv3.img"
      xs sample --guest hvm --memory 16K --version 2 --big-endian -o "$in/hvm2be.img" ;;
    containers)
      xs sample --guest hvm --memory 16K --wrap xl -o "$in/xl-hvm.img"
      xs sample --guest pv --memory 64K --wrap libxl --checkpoints 2 -o "$in/libxl-pv-cp2.img" ;;
    legacy)
      python3 bench/legacy-image.py 64K 4 "$in/legacy-pv64.img" ;;
    grammar)
      # Small grammars of the test suite and the shipped ones (the fuzzer mutates text).
      for g in tests/FormatGen.Tests/Grammars/*.ksy; do [ "$(stat -c %s "$g")" -lt 4096 ] && cp "$g" "$in/"; done
      cp grammar/xen/xl.ksy "$in/" ;;
    generated)
      harness generated --seed "$in" ;;
  esac
}

# Seeds first: the harness seeds with the library, which cannot run once instrumented outside AFL.
for t in "${targets[@]}"; do seed "$t" "$work/$t/in"; done
# Instrument the code under test (not the harness: instrumented code runs only inside the fuzzing loop).
for dll in FormatGen.Runtime.dll FormatGen.Xen.dll FormatGen.Generator.dll FormatGen.Fuzz.Grammars.dll; do dotnet sharpfuzz "$bin/$dll" >/dev/null; done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export DOTNET_GCHeapHardLimit=0x20000000   # 512 MiB: more is an OutOfMemoryException, a finding
found=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir/out"
  dict=()
  [ "$t" = grammar ] && dict=(-x fuzz/ksy.dict)
  afl-fuzz -i "$dir/in" -o "$dir/out" -t 1000 -m none -V "$seconds" "${dict[@]}" -- dotnet "$bin/FormatGen.Fuzz.dll" "$t" >"$dir/afl.log" 2>&1 || true
  stats="$dir/out/default/fuzzer_stats"
  execs=$(awk -F': *' '/^execs_done/ {print $2}' "$stats" 2>/dev/null || echo 0)
  crashes=$(find "$dir/out" -path '*crashes*' -type f ! -name README.txt 2>/dev/null | wc -l)
  hangs=$(find "$dir/out" -path '*hangs*' -type f 2>/dev/null | wc -l)
  echo "fuzz $t: ${seconds}s, ${execs:-0} executions, $crashes crash(es), $hangs hang(s)"
  [ -f "$stats" ] || { echo "fuzz $t: afl-fuzz did not run; its log:"; tail -n 20 "$dir/afl.log"; found=1; }
  if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    found=1
    echo "  inputs: $dir/out/default/crashes, $dir/out/default/hangs (replay: dotnet run --project fuzz/FormatGen.Fuzz -c Release -- $t --replay FILE)"
  fi
done
exit $found
