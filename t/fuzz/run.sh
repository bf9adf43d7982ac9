#!/usr/bin/env bash
# Builds the libFuzzer targets of t/fuzz with clang-14 and runs each for a
# while on a scratch copy of its seed corpus.
#
#   t/fuzz/run.sh [SECONDS] [TARGET...]   SECONDS per target (default 60);
#                                         TARGET: fuzz_session_cookie, ... (default: all)
#
# One summary line per target ("fuzz_x: N execs, C crashes"); exits non-zero
# if any target crashed or failed. Work dirs, logs and crashing inputs are in
# build/fuzz/work/<target>/; t/fuzz/corpus is never written. `run.sh 3` is a
# smoke test of a few seconds per target.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$FUZZ_DIR/../.." && pwd)"
BUILD="$ROOT/build/fuzz"
SECONDS_PER_TARGET="${1:-60}"
[ $# -gt 0 ] && shift
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_session_cookie fuzz_token_response fuzz_callback_query fuzz_cookie_header)
APT_PACKAGES=(clang-14 libfuzzer-14-dev libclang-rt-14-dev cmake libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libsimdjson-dev)

log() { printf '==> %s\n' "$*" >&2; }

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
fi

install_packages() {
    local missing="" pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=" $pkg"
    done
    [ -z "$missing" ] && return 0
    log "installing Debian packages:$missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends $missing >/dev/null
}

install_packages "${APT_PACKAGES[@]}"

log "building the fuzz targets (clang++-14) in $BUILD"
cmake -S "$FUZZ_DIR" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target "${TARGETS[@]}" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

failed=0
summary=()
for target in "${TARGETS[@]}"; do
    work="$BUILD/work/$target"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp "$FUZZ_DIR/corpus/$target/"* "$work/corpus/"
    dict=()
    [ -f "$FUZZ_DIR/dict/$target.dict" ] && dict=(-dict="$FUZZ_DIR/dict/$target.dict")

    log "$target: fuzzing for ${SECONDS_PER_TARGET}s (log: $work/fuzz.log)"
    rc=0
    "$BUILD/$target" "${dict[@]}" \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?

    execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/fuzz.log" | tail -n 1)"
    crashes="$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
        -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
    line="$target: ${execs:-?} execs, $crashes crashes"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ -z "$execs" ]; then
        failed=1
        line+=" (FAILED: exit $rc; see $work/fuzz.log)"
        log "$target failed; end of its log:"
        tail -n 40 "$work/fuzz.log" >&2
        find "$work/artifacts" -type f -printf '    artifact: %p\n' >&2
    fi
    summary+=("$line")
done

printf '%s\n' "${summary[@]}"
exit "$failed"
