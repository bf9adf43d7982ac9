#!/usr/bin/env bash
# The integration suite against an AddressSanitizer + UBSan build of the
# module, loaded by Debian's stock (uninstrumented) nginx with the sanitizer
# runtimes preloaded. Fails on a failing test or on any sanitizer report.
#
#   t/sanitize/asan.sh [pytest args...]    e.g. -k refresh
#
# Everything goes to build/asan/ (SPOTAUTH_ASAN_DIR overrides):
#   core/                        the core library, cmake -DSPOTAUTH_SANITIZE=ON
#   nginx/                       private copy of Debian's nginx tree, configured
#                                with the sanitizer flags added
#   ngx_http_spotauth_module.so  the instrumented module
#   libubsan_hooks.so            t/sanitize/ubsan_hooks.c, preloaded with the runtimes
#   reports/                     asan.PID / ubsan.PID, one per process that
#                                reported anything (reports.py judges them)
#   reports.txt                  what counted
#   pytest.log                   the suite's output
set -euo pipefail
# shellcheck source=t/sanitize/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

OUT="${SPOTAUTH_ASAN_DIR:-$ROOT/build/asan}"
MODULE_SO="$OUT/ngx_http_spotauth_module.so"
REPORTS="$OUT/reports"
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"

deps() {
    project_deps
    # gcc's sanitizer runtimes (normally already there with g++).
    apt_install g++ libasan8 libubsan1
}

build_core() {
    log "building the core library with ASan+UBSan ($OUT/core)"
    cmake -S "$ROOT" -B "$OUT/core" -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSPOTAUTH_SANITIZE=ON -DSPOTAUTH_TESTS=OFF >/dev/null
    cmake --build "$OUT/core" -j "$(nproc)" >/dev/null
}

# Debian's configure flags with the sanitizer flags appended to any
# --with-cc-opt/--with-ld-opt they already have: nginx's configure keeps only
# the last of repeated options (NGX_CC_OPT="$value"), so a second
# --with-cc-opt would silently replace the packaged one.
configure_args() {
    # shellcheck disable=SC1091
    . /usr/share/nginx/src/conf_flags
    local flag cc_opt="" ld_opt=""
    CONFIGURE_ARGS=()
    for flag in "${NGX_CONF_FLAGS[@]}"; do
        case "$flag" in
            --with-cc-opt=*) cc_opt="${flag#--with-cc-opt=} " ;;
            --with-ld-opt=*) ld_opt="${flag#--with-ld-opt=} " ;;
            *) CONFIGURE_ARGS+=("$flag") ;;
        esac
    done
    CONFIGURE_ARGS+=("--with-cc-opt=${cc_opt}$SAN_FLAGS" "--with-ld-opt=${ld_opt}-fsanitize=address,undefined"
        "--add-dynamic-module=$ROOT")
}

build_module() {
    local tree="$OUT/nginx" stamp="$OUT/nginx/configure-args"
    configure_args
    # config reads SPOTAUTH_CORE_LIB when configure runs; the path ends up in objs/Makefile.
    export SPOTAUTH_CORE_LIB="$OUT/core/libspotauth_core.a"
    # The header list is in the stamp: config makes the headers dependencies
    # of the glue when configure runs, so a new header needs a new configure.
    local want
    want="$(printf '%s\n' "${CONFIGURE_ARGS[@]}" "$SPOTAUTH_CORE_LIB"; cd "$ROOT" && ls include/spotauth/*.hpp nginx/*.hpp nginx/*.cpp)"
    if [ ! -f "$tree/objs/Makefile" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] \
        || [ /usr/share/nginx/src/conf_flags -nt "$tree/objs/Makefile" ] || [ "$ROOT/config" -nt "$tree/objs/Makefile" ]; then
        log "configuring nginx $(nginx -v 2>&1 | sed 's|.*/||') with ASan+UBSan ($tree)"
        rm -rf "$tree"
        cp -a /usr/share/nginx/src "$tree"
        # Configure's feature tests run instrumented programs: no leak check there.
        (cd "$tree" && ASAN_OPTIONS=detect_leaks=0 ./configure "${CONFIGURE_ARGS[@]}" >"$OUT/configure.log" 2>&1) \
            || { tail -30 "$OUT/configure.log" >&2; exit 1; }
        printf '%s\n' "$want" >"$stamp"
    fi
    # objs/Makefile does not know the core library: always relink.
    rm -f "$tree/objs/ngx_http_spotauth_module.so"
    log "building the nginx module with ASan+UBSan"
    make -C "$tree" -f objs/Makefile modules -j "$(nproc)" >"$OUT/make.log" 2>&1 \
        || { tail -40 "$OUT/make.log" >&2; exit 1; }
    cp "$tree/objs/ngx_http_spotauth_module.so" "$MODULE_SO.tmp"
    mv -f "$MODULE_SO.tmp" "$MODULE_SO"
}

# t/sanitize/ubsan_hooks.c: UBSan options and reports that work in nginx's workers.
build_hooks() {
    gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$OUT/libubsan_hooks.so.tmp" "$HERE/ubsan_hooks.c"
    mv -f "$OUT/libubsan_hooks.so.tmp" "$OUT/libubsan_hooks.so"
}

# libasan must be the first library of the process ("ASan runtime does not
# come first in initial library list"); the hooks must come before libubsan
# to replace its weak definitions. libubsan itself is loaded by the module
# anyway; preloading it keeps the order explicit.
preload() {
    local asan ubsan
    asan="$(gcc -print-file-name=libasan.so)"
    ubsan="$(gcc -print-file-name=libubsan.so)"
    if [ ! -e "$asan" ] || [ ! -e "$ubsan" ]; then
        echo "asan: gcc has no libasan.so/libubsan.so" >&2
        exit 1
    fi
    # The .so links are in gcc's private directory; preload the real files.
    echo "$(readlink -f "$asan") $OUT/libubsan_hooks.so $(readlink -f "$ubsan")"
}

run_suite() {
    local libs
    libs="$(preload)"
    report_dir "$REPORTS"
    log "integration suite against $MODULE_SO (reports in $REPORTS)"
    # Leaks are checked when each master and worker exits; reports.py sets
    # nginx's own aside. The default fast (frame-pointer) unwinding on malloc
    # stays: the module has frame pointers, and the slow unwinder
    # (fast_unwind_on_malloc=0) makes OpenSSL's handshake in
    # test_token_endpoint_tls_is_verified miss the module's 3 s timeout.
    # ASan stops a process at its first error (an aborted request fails its
    # test); UBSan goes on (halt_on_error=0) so one run shows all of them.
    # UBSan's log_path must be ASan's: with gcc's two runtimes, UBSan's
    # setting of it lands in libasan (see ubsan_hooks.c); its reports reach
    # $REPORTS/ubsan.PID through the hooks.
    set +e
    (
        cd "$ROOT"
        export SPOTAUTH_MODULE="$MODULE_SO"
        export SPOTAUTH_NGINX_PRELOAD="$libs"
        export SPOTAUTH_STARTUP_TIMEOUT="${SPOTAUTH_STARTUP_TIMEOUT:-30}"
        export PATH="$HERE/bin:$PATH"  # see t/sanitize/bin/nginx
        export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1"
        export UBSAN_OPTIONS="log_path=$REPORTS/asan:print_stacktrace=1:halt_on_error=0"
        export SPOTAUTH_UBSAN_REPORT_DIR="$REPORTS"
        "$PYTHON" -m pytest t/integration -q -p no:cacheprovider --durations=8 "${DESELECT[@]}" "$@"
    ) 2>&1 | tee "$OUT/pytest.log"
    local status=${PIPESTATUS[0]}
    set -e
    return "$status"
}

# t/sanitize/reports.py decides what counts: every memory error, every UBSan
# runtime error, every leak except nginx's own (see there).
check_reports() {
    local passed="$1" pytest_status="$2" reports_status=0 reports
    "$PYTHON" "$HERE/reports.py" asan "$REPORTS" >"$OUT/reports.txt" || reports_status=$?
    cat "$OUT/reports.txt"
    reports="$(sed -n 's/^asan-reports: \([0-9]*\) reports.*/\1/p' "$OUT/reports.txt")"
    echo "asan: $passed tests passed, ${reports:-?} reports (pytest exit $pytest_status, $((SECONDS / 60))m$((SECONDS % 60))s)"
    [ "$pytest_status" -eq 0 ] && [ "$reports_status" -eq 0 ]
}

main() {
    mkdir -p "$OUT"
    deps
    build_core
    build_module
    build_hooks
    local pytest_status=0
    run_suite "$@" || pytest_status=$?
    check_reports "$(passed_count "$OUT/pytest.log")" "$pytest_status"
}

main "$@"
