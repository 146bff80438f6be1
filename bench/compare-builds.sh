#!/usr/bin/env bash
# Compares this tree with another commit on the libxc grammar, in one run:
#   - the BenchmarkDotNet reader, validator and writer figures (JIT, in
#     process), the two builds taking turns round by round, median per side;
#   - bench/cli-throughput.sh for the native (AOT) builds and for the JIT
#     builds, each with the other commit's xenstream as its baseline.
# Prints one ratio per benchmark (this / base; above 1 is slower).
# Usage: bench/compare-builds.sh BASE_COMMIT [ROUNDS (default 3)] [SIZE (default 1G)]
#   FILTER=glob    only these BenchmarkDotNet benchmarks (default '*')
#   SKIP_CLI=1     BenchmarkDotNet only
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/compare-builds.sh BASE_COMMIT [ROUNDS] [SIZE]}
rounds=${2:-3}
size=${3:-1G}
dir=${BENCH_DIR:-/tmp/formatgen-bench}/compare
rm -rf "$dir"
mkdir -p "$dir/base" "$dir/results"

# The other commit, as files (no worktree left behind).
git archive "$base" | tar -x -C "$dir/base"
for side in base this; do
  src=$([ "$side" = base ] && echo "$dir/base" || pwd)
  dotnet build "$src/bench/FormatGen.Bench" -c Release -o "$dir/$side-bench" -v q -nologo >/dev/null
  dotnet build "$src/cli" -c Release -o "$dir/$side-jit" -v q -nologo >/dev/null
  dotnet publish "$src/cli" -c Release -r linux-x64 -p:NativeXenstream=true -o "$dir/$side-native" -v q -nologo >/dev/null
done

# BenchmarkDotNet, the two builds taking turns.
for r in $(seq "$rounds"); do
  for side in base this; do
    (cd "$dir/results" && dotnet "$dir/$side-bench/FormatGen.Bench.dll" --filter "${FILTER:-*}" --inProcess --job short \
        --exporters json --artifacts "$dir/results/$side-$r" >/dev/null)
  done
done
python3 - "$dir/results" "$rounds" <<'EOF'
import glob, json, os, statistics, sys
root, rounds = sys.argv[1], int(sys.argv[2])
med = {}
for side in ("base", "this"):
    for r in range(1, rounds + 1):
        for f in glob.glob(os.path.join(root, f"{side}-{r}", "results", "*-report*.json")):
            for b in json.load(open(f))["Benchmarks"]:
                key = b["Type"] + " " + (b.get("Description") or b["Method"]) + " " + b.get("Parameters", "")
                s = b.get("Statistics")
                if s: med.setdefault(key, {}).setdefault(side, []).append(s["Median"])
print(f"BenchmarkDotNet (JIT, in process), median of {rounds} interleaved rounds:")
for key in sorted(med):
    m = med[key]
    if "base" in m and "this" in m:
        b, t = statistics.median(m["base"]), statistics.median(m["this"])
        print(f"  {key.strip():60s} base {b/1e3:12.2f} us  this {t/1e3:12.2f} us  ratio {t/b:5.3f}")
EOF

[ -n "${SKIP_CLI:-}" ] && exit 0
echo
echo "cli-throughput, native (AOT):"
XENSTREAM="$dir/this-native/xenstream" BASELINE="$dir/base-native/xenstream" bash bench/cli-throughput.sh "$size" 7 | grep -E "xenstream|baseline|ratio"
echo
echo "cli-throughput, JIT:"
XENSTREAM="$dir/this-jit/xenstream" BASELINE="$dir/base-jit/xenstream" bash bench/cli-throughput.sh "$size" 7 | grep -E "xenstream|baseline|ratio"
