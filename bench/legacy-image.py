#!/usr/bin/env python3
"""Writes a legacy (Xen 4.5) image of a 64-bit PV guest saved by a 64-bit
toolstack, for benchmarking convert-legacy: SIZE of guest memory, sent in
batches of BATCH pages (Xen sent 1024), every page of ordinary memory.

    bench/legacy-image.py SIZE BATCH OUT     SIZE like 1G, 256M; BATCH 1 to 1024

The layout is docs/legacy.md's (xen-formats.md section 4). The tests build
their legacy images with the grammar's generated writer; this script exists
so a benchmark can write a gigabyte quickly without a test build."""
import os
import struct
import sys

def size_of(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)

def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    pages = size_of(sys.argv[1]) // 4096
    batch = int(sys.argv[2])
    if not 1 <= batch <= 1024 or pages < 2:
        sys.exit("BATCH is 1 to 1024, SIZE at least two pages")
    vcpu_size = 0x1430
    frames = (pages - 1) // 512 + 1
    # Page contents: 4 MiB of noise, reused (copying costs the same whatever the octets).
    noise = os.urandom(1024 * 4096)
    with open(sys.argv[3], "wb", buffering=8 << 20) as f:
        f.write(struct.pack("<Q", pages))                                    # p2m_size
        f.write(struct.pack("<QI", 2**64 - 1, 8 + vcpu_size + 8))            # extended info
        f.write(b"vcpu" + struct.pack("<I", vcpu_size) + bytes(vcpu_size))
        f.write(b"extv" + struct.pack("<I", 0))
        f.write(struct.pack("<%dQ" % frames, *range(frames)))                # p2m frames: the first pfns
        f.write(struct.pack("<iiQ", -2, 0, 1))                               # vcpu info: vcpu 0 online
        f.write(struct.pack("<iIQII", -7, 0, 10**9, 2400000, 1))             # TSC info
        pfn = 0
        while pfn < pages:
            n = min(batch, pages - pfn)
            f.write(struct.pack("<i", n))
            f.write(struct.pack("<%dQ" % n, *range(pfn, pfn + n)))
            at = (pfn % 1024) * 4096
            data = noise[at:at + n * 4096]
            if len(data) < n * 4096:
                data = (noise * 2)[at:at + n * 4096]
            f.write(data)
            pfn += n
        f.write(struct.pack("<i", 0))                                        # END chunk
        f.write(struct.pack("<I", 0))                                        # no unmapped pfns
        f.write(bytes(range(256)) * (vcpu_size // 256) + bytes(vcpu_size % 256))  # vcpu 0 context
        f.write(bytes(128))                                                  # its extended context
        f.write(bytes(4096))                                                 # shared info

main()
