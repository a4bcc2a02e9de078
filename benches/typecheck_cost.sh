#!/usr/bin/env bash
# Type-checking cost of the conv2d shape relation per distinct conv shape.
#
# Writes a throw-away binary crate that depends on this checkout and holds N functions, each with
# one conv2d of a different shape (channels, height, width, kernel, stride, padding, dilation all
# vary), then times `cargo check` of that crate alone (dependencies already checked,
# CARGO_INCREMENTAL=0 so no query result is reused), the best of RUNS runs; with CPU=1 the
# CPU time (user + system) instead of the wall clock.
#
#   benches/typecheck_cost.sh 1 21 101     # prints "N seconds" per N
#
# The cost per distinct shape is the slope: (t(21) - t(1)) / 20.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/shapetorch-typecheck-cost"
runs="${RUNS:-4}"
export CARGO_TARGET_DIR="$work/target" CARGO_INCREMENTAL=0
mkdir -p "$work/src"
cp "$repo/rust-toolchain.toml" "$work/"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "typecheck-cost"
version = "0.0.0"
edition = "2021"
[dependencies]
shapetorch = { path = "$repo" }
[workspace]
TOML
out() { echo $(( ($1 + 2 * $4 - $5 * ($2 - 1) - 1) / $3 + 1 )); } # x k s p d
for n in "$@"; do
    {
        echo "use shapetorch::prelude::*;"
        for ((i = 0; i < n; i++)); do
            c=$((1 + i % 5)) h=$((12 + i)) w=$((20 + 2 * i))
            o=$((2 + i % 7)) kh=$((1 + i % 4)) kw=$((2 + i % 3))
            s=$((1 + i % 3)) p=$((i % 2)) d=$((1 + (i / 3) % 2))
            oh=$(out $h $kh $s $p $d) ow=$(out $w $kw $s $p $d)
            echo "fn f$i() {"
            echo "    let x = Tensor4::<f32, 1, $c, $h, $w>::zeros();"
            echo "    let w = Tensor4::<f32, $o, $c, $kh, $kw>::zeros();"
            echo "    let y: Tensor4<f32, 1, $o, $oh, $ow> = x.conv2d(&w, ConvParams::<$s, $p, $d>);"
            echo "    std::hint::black_box(&y);"
            echo "}"
        done
        echo "fn main() {"
        for ((i = 0; i < n; i++)); do echo "    f$i();"; done
        echo "}"
    } > "$work/src/main.rs"
    (cd "$work" && cargo check -q)
    best=""
    for ((r = 0; r < runs; r++)); do
        touch "$work/src/main.rs"
        if [[ -n "${CPU:-}" ]]; then
            # CPU time (user + system, rustc included): steadier than the wall clock on a
            # machine shared with other work
            t=$(cd "$work" && { /usr/bin/time -f "%U %S" cargo check -q 2>&1 >/dev/null; } |
                tail -1 | awk '{print $1 + $2}')
        else
            start=$(date +%s.%N)
            (cd "$work" && cargo check -q)
            t=$(echo "$(date +%s.%N) - $start" | bc)
        fi
        if [[ -z "$best" ]] || (($(echo "$t < $best" | bc))); then best=$t; fi
    done
    echo "$n $best"
done
