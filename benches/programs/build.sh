#!/bin/sh
# Builds each program: NAME/NAME.wasm (committed) with Debian's clang for
# wasm32-wasi, and, given a directory ($1, e.g. the cargo target directory),
# the native NAME there with `cc -O2`. The `programs` benchmark builds the
# native ones itself (into <target>/cmc-programs/) when `cc` is present.
set -e
cd "$(dirname "$0")"
for name in lz json lu vm; do
    clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$name/$name.wasm" "$name/$name.c"
    if [ -n "$1" ]; then
        mkdir -p "$1"
        cc -O2 -o "$1/$name" "$name/$name.c" -lm
    fi
done
