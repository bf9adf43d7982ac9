#!/usr/bin/env bash
# spotauth benchmark: the whole of it, about 7 minutes on 2 cores.
#
#   bench/run.sh [--no-micro] [bench.py options...]
#
# 1. builds the Google Benchmark micro-benchmarks (bench/micro.cpp) in
#    build/bench (CMake, -DSPOTAUTH_BENCH=ON, RelWithDebInfo like the module's core) and runs them;
# 2. runs bench/bench.py: load scenarios against Debian's nginx with a copy of
#    build/ngx_http_spotauth_module.so (used read-only), the mock Spotify and
#    (scenario 7) a fake api.spotify.com over TLS, all on 127.0.0.1, every run
#    bounded in time and requests;
# 3. prints one markdown table and writes it, with the machine description,
#    the setup and the raw rounds, to bench/results.md.
#
# Needs a built module (./build.sh build), nginx, wrk, cmake, libbenchmark-dev
# and python3-requests (`./build.sh bench` builds and installs them first).
# SPOTAUTH_MODULE overrides the module path; SPOTAUTH_BENCH_COMMAND is the
# command line recorded in results.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_BUILD="$ROOT/build/bench"
MODULE="${SPOTAUTH_MODULE:-$ROOT/build/ngx_http_spotauth_module.so}"
PYTHON=/usr/bin/python3
COMMAND="${SPOTAUTH_BENCH_COMMAND:-bench/run.sh${*:+ $*}}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

micro=1
args=()
for arg in "$@"; do
    case "$arg" in
        --no-micro) micro=0 ;;
        *) args+=("$arg") ;;
    esac
done

[ -f "$MODULE" ] || die "no module at $MODULE: run ./build.sh build first"
for tool in nginx wrk cmake "$PYTHON"; do
    command -v "$tool" >/dev/null || die "$tool is not installed (./build.sh deps)"
done
"$PYTHON" -c 'import requests' 2>/dev/null || die "python3-requests is not installed"

# 1000 concurrent client connections in scenario 2.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || die "ulimit -n is $(ulimit -n); scenario 2 needs at least 4096"

started=$(date +%s)
work="$(mktemp -d /tmp/spotauth-bench-run-XXXXXX)"
trap 'rm -rf "$work"' EXIT

micro_args=()
if [ "$micro" = 1 ]; then
    log "building the micro-benchmarks in $BENCH_BUILD"
    # The build type the module's core ships with (build.sh), so the figures
    # describe that code: at Release's -O3 GCC vectorises loops that stay
    # scalar at -O2, and the two builds' costs differed by thousands of
    # instructions per opened cookie (bench/PROFILE.md).
    timeout 900 cmake -S "$ROOT" -B "$BENCH_BUILD" -DSPOTAUTH_BENCH=ON -DSPOTAUTH_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    timeout 900 cmake --build "$BENCH_BUILD" --target spotauth_bench -j "$(nproc)" >/dev/null
    log "5. micro-benchmarks (5 repetitions each)"
    timeout 300 "$BENCH_BUILD/spotauth_bench" --benchmark_repetitions=5 --benchmark_min_time=0.2 \
        --benchmark_out="$work/micro.json" --benchmark_out_format=json >&2
    micro_args=(--micro-json "$work/micro.json")
fi

log "load scenarios (bench/bench.py)"
timeout 900 "$PYTHON" "$ROOT/bench/bench.py" --module "$MODULE" --command "$COMMAND" --started-at "$started" \
    --out "$ROOT/bench/results.md" "${micro_args[@]}" "${args[@]}"

log "wrote bench/results.md in $(( $(date +%s) - started )) s"
