#!/usr/bin/env bash
# Rebuilds the test guests in tests/guests/bin/ from the sources beside this
# script. The binaries are committed, so `cargo test` needs none of these
# tools; run this after changing a source, then commit bin/ as well.
#
#   tests/guests/build.sh            # everything
#   tests/guests/build.sh c p2 py    # only some groups
#
# What it builds:
#   c/NAME.c        -> bin/NAME.wasm            (WASI preview1 core module)
#                   -> bin/NAME.component.wasm  (the same, wrapped into a WASI
#                      0.2 command with wasmtime 48.0.8's preview1 adapter)
#   p2/NAME.c       -> bin/NAME.component.wasm  (calls WASI 0.2 directly;
#                      no adapter, no preview1 imports)
#   python/app.py   -> bin/python-app.component.wasm  (componentize-py)
#
# Tools, with the versions the committed binaries were built with:
#   clang 14, lld 14, wasi-libc 0.0~git20220510 (Debian 12:
#     apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)
#   wit-bindgen-cli 0.63.0 (cargo install wit-bindgen-cli@0.63.0 --locked)
#   componentize-py 0.25.1 (pip install componentize-py==0.25.1)
#   this repository's tests/src/bin/wasi-componentize.rs, which embeds the
#     command adapter of wasmtime 48.0.8 (the crates.io crate
#     wasi-preview1-component-adapter-provider =48.0.8) and runs
#     wit-component's ComponentEncoder; built here with cargo.
#   The WIT files of WASI 0.2.12: the folder src/p2/wit/deps of the crates.io
#     crate wasmtime-wasi 48.0.8. The script looks for it in the cargo
#     registry (~/.cargo/registry/src/*/wasmtime-wasi-48.0.8/), where any
#     build that depends on that crate puts it (for example
#     `cargo install wasmtime-cli@48.0.8 --locked`, or `cargo fetch` in a
#     scratch crate that depends on wasmtime-wasi = "=48.0.8"). Set
#     WASI_WIT_DEPS to use another copy.
#
# Environment: CLANG (default clang), SYSROOT (default /usr, where Debian
# puts wasi-libc: /usr/lib/wasm32-wasi and /usr/include/wasm32-wasi),
# WIT_BINDGEN (default wit-bindgen), COMPONENTIZE_PY (default
# componentize-py), CARGO_BUILD_JOBS (default 1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin="$here/bin"
CLANG=${CLANG:-clang}
SYSROOT=${SYSROOT:-/usr}
WIT_BINDGEN=${WIT_BINDGEN:-wit-bindgen}
COMPONENTIZE_PY=${COMPONENTIZE_PY:-componentize-py}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
groups=${*:-c p2 py}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$bin"

wasi_wit_deps() {
    if [ -n "${WASI_WIT_DEPS:-}" ]; then
        echo "$WASI_WIT_DEPS"
        return
    fi
    local d
    for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasmtime-wasi-48.0.8/src/p2/wit/deps; do
        if [ -d "$d" ]; then
            echo "$d"
            return
        fi
    done
    echo "build.sh: WASI 0.2.12 WIT not found; see the comment at the top (WASI_WIT_DEPS)" >&2
    exit 1
}

# A copy of a WIT folder with deps/ pointing at the WASI WIT files.
wit_dir() {
    local src=$1 dst=$2
    mkdir -p "$dst"
    cp "$src"/*.wit "$dst"/
    ln -s "$(wasi_wit_deps)" "$dst/deps"
}

componentize() {
    (cd "$repo" && cargo build --quiet -p cmc-tests --bin wasi-componentize)
    "$repo/target/debug/wasi-componentize" "$@"
}

cflags=(--target=wasm32-wasi "--sysroot=$SYSROOT" -O2 -Wall -Wextra -Werror -Wl,--strip-debug)

for group in $groups; do
    case $group in
    c)
        for src in "$here"/c/*.c; do
            name=$(basename "$src" .c)
            echo "c/$name.c"
            "$CLANG" "${cflags[@]}" "$src" -o "$bin/$name.wasm"
            chmod 644 "$bin/$name.wasm"
            componentize "$bin/$name.wasm" "$bin/$name.component.wasm"
        done
        ;;
    p2)
        wit_dir "$here/p2/wit" "$scratch/p2-wit"
        for src in "$here"/p2/*.c; do
            name=$(basename "$src" .c)
            echo "p2/$name.c"
            out="$scratch/p2-$name"
            "$WIT_BINDGEN" c --world "$name" --out-dir "$out" "$scratch/p2-wit" >"$out.log" 2>&1 ||
                { cat "$out.log" >&2; exit 1; }
            # No crt1 and no _start: the component's entry is the
            # wasi:cli/run export. wasi-libc is linked only for malloc and
            # string functions, which import nothing from WASI (no stdio:
            # see p2/format.h); the componentize step fails if a preview1
            # import slipped in.
            "$CLANG" "${cflags[@]}" -Wno-unused-parameter -nostartfiles -Wl,--no-entry \
                -I"$out" "$src" "$out/$name.c" "$out/${name}_component_type.o" \
                -o "$scratch/$name.wasm"
            componentize --no-adapter "$scratch/$name.wasm" "$bin/$name.component.wasm"
        done
        ;;
    py)
        echo "python/app.py"
        wit_dir "$here/python/wit" "$scratch/py-wit"
        (cd "$here/python" && "$COMPONENTIZE_PY" -q -d "$scratch/py-wit" -w cmc:python-app/app \
            componentize app -o "$bin/python-app.component.wasm")
        rm -rf "$here/python/__pycache__"
        ;;
    *)
        echo "build.sh: unknown group $group (c, p2, py)" >&2
        exit 2
        ;;
    esac
done
