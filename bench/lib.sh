# Shared by the bench scripts: run commands interleaved, one of each per round,
# so a noisy machine slows them alike, and take medians.
#   cmds=(...)  # shell command lines
#   rounds RUNS [BEFORE]   fills times[i] with microseconds, one per round; BEFORE runs untimed before each command
#   median "${times[i]}"   prints seconds
declare -A times
# Each round starts one command later than the last, so that no command always follows the same
# one (what one leaves behind, such as a deleted file's blocks, slows the next).
rounds() {
  local runs=$1 before=${2:-true} i j r n=${#cmds[@]} s e
  for r in $(seq 0 $((runs - 1))); do
    for j in $(seq 0 $((n - 1))); do
      i=$(( (r + j) % n ))
      bash -c "$before"
      s=$(date +%s%N)
      bash -c "${cmds[$i]}" >/dev/null 2>&1 || { echo "failed: ${cmds[$i]}" >&2; exit 1; }
      e=$(date +%s%N)
      times[$i]+="$(( (e - s) / 1000 )) "
    done
  done
}
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "%.4f", a[int((NR+1)/2)]/1e6}'; }
# medians WIDTH: fills m[i] with each command's median and prints "name  median" lines (names=(...) as cmds).
declare -a m
medians() {
  local i
  for i in "${!cmds[@]}"; do
    m[$i]=$(median "${times[$i]}")
    printf "%-${1}s %8ss\n" "${names[$i]}" "${m[$i]}"
  done
}
# The xenstream to time: $XENSTREAM, or the shipped form, a native (AOT) executable built into $dir/native.
xenstream_under_test() {
  if [ -n "${XENSTREAM:-}" ]; then echo "$XENSTREAM"; return; fi
  dotnet publish cli -c Release -r linux-x64 -p:NativeXenstream=true -o "$dir/native" -v q -nologo >/dev/null
  echo "$dir/native/xenstream"
}
