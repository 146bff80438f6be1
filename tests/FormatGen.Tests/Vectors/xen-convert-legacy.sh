#!/bin/sh
# Runs Xen's own legacy converter over the cases LegacyConverterTests dumps,
# and prints one line per case: NAME SHA256-OF-XEN'S-OUTPUT (the format of
# legacy-xen-converter.txt). Xen's tools are not part of this repository:
# point XEN_PYTHON at a checkout's tools/python (python3 runs them as they are).
#
#   FORMATGEN_LEGACY_DUMP=/tmp/cases dotnet test tests/FormatGen.Tests \
#       --filter Cases_can_be_dumped_for_Xens_converter
#   XEN_PYTHON=/path/to/xen/tools/python tests/FormatGen.Tests/Vectors/xen-convert-legacy.sh /tmp/cases
set -eu
dir=${1:?usage: xen-convert-legacy.sh DIR (written by the dump test)}
: "${XEN_PYTHON:?set XEN_PYTHON to Xen's tools/python}"
while read -r name flags; do
    # shellcheck disable=SC2086  # the flags are words
    PYTHONPATH="$XEN_PYTHON" python3 "$XEN_PYTHON/scripts/convert-legacy-stream" \
        -i "$dir/$name.img" -o "$dir/$name.xen" $flags >/dev/null
    printf '%s %s\n' "$name" "$(sha256sum "$dir/$name.xen" | cut -d' ' -f1)"
done < "$dir/manifest"
