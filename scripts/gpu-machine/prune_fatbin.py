"""Keeps one SM architecture's GPU code in a CUDA shared object and zeroes the rest.

A CUDA library's .nv_fatbin section holds one ELF binary (cubin) per GPU architecture. Zeroing the
ones the GPU machine cannot use leaves a file of the same layout that compresses to a fraction of
its size. A fat binary with no cubin for the kept architecture is left whole (its PTX may be the
only code for it). Usage: prune_fatbin.py SRC DST ARCH   (ARCH 90: H100/H200)
"""
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50
CUBIN = 2


def section(path, name):
    for line in subprocess.check_output(["readelf", "-S", "-W", path]).decode().splitlines():
        if name in line:
            fields = line.split("]")[1].split()
            return int(fields[3], 16), int(fields[4], 16)
    sys.exit(f"{path}: no {name} section")


def entries(data, start, end):
    """(is a cubin of `arch`?, payload offset, payload size) of each entry of one fat binary."""
    while start < end:
        kind, _, header, size = struct.unpack_from("<HHIQ", data, start)
        arch = struct.unpack_from("<I", data, start + 28)[0]
        yield kind, arch, start + header, size
        start += header + size


def prune(src, dst, keep):
    data = bytearray(open(src, "rb").read())
    offset, size = section(src, ".nv_fatbin")
    pos, end, zeroed = offset, offset + size, 0
    while pos < end:
        magic, _, header, fat_size = struct.unpack_from("<IHHQ", data, pos)
        if magic != FATBIN_MAGIC:
            pos += 8
            continue
        found = list(entries(data, pos + header, pos + header + fat_size))
        if any(kind == CUBIN and arch == keep for kind, arch, _, _ in found):
            for kind, arch, start, length in found:
                if not (kind == CUBIN and arch == keep):
                    data[start:start + length] = bytes(length)
                    zeroed += length
        pos += header + fat_size
    open(dst, "wb").write(data)
    print(f"prune_fatbin: kept sm_{keep}, zeroed {zeroed / 1e6:.0f} of {size / 1e6:.0f} MB")


if __name__ == "__main__":
    prune(sys.argv[1], sys.argv[2], int(sys.argv[3]))
