#!/usr/bin/env bash
# Collects what the GPU machine needs to run kiln and its GPU tests (../shared/GPU.md): the
# stripped binaries in dist/bin and every shared library they load that is neither glibc,
# libstdc++/libgcc nor CUDA's (the GPU machine has its own cuBLASLt and cuDNN) in dist/lib.
# The binaries find them through LD_LIBRARY_PATH=dist/lib (set by scripts/gpu_run.sh).
#   scripts/gpu_bundle.sh [build-dir]    then: device run with carry ["dist"]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
dist="$root/dist"
rm -rf "$dist"
mkdir -p "$dist/bin" "$dist/lib"
bins=("$build/src/tools/kiln" "$build/tests/test_gpu")
for b in "${bins[@]}"; do
  [[ -x "$b" ]] || { echo "gpu_bundle.sh: $b not built" >&2; exit 2; }
  strip -o "$dist/bin/$(basename "$b")" "$b"
done
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|libstdc\+\+|libgcc_s|libcublas|libcudnn|libcudart)'
for b in "${bins[@]}"; do
  ldd "$b" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    [[ "$name" =~ $skip ]] && continue
    cp -Ln "$path" "$dist/lib/$name"
  done
done
du -sh "$dist" | awk '{print "gpu_bundle.sh: dist is " $1 " (the device tool carries at most 64 MiB)"}'
