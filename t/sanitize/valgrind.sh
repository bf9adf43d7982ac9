#!/usr/bin/env bash
# One pass of the integration suite with every nginx the tests start (master
# and the workers it forks) running under valgrind memcheck, against the
# normal module (build/ngx_http_spotauth_module.so, built with -g). Fails on
# a failing test, or on an invalid read/write/free, a use of uninitialised
# memory or a definite leak with a stack frame in the module.
#
#   t/sanitize/valgrind.sh [pytest args...]    e.g. -k refresh
#
# SPOTAUTH_MODULE picks another module (default build/ngx_http_spotauth_module.so,
# built by ./build.sh when missing); SPOTAUTH_VALGRIND_DIR the output directory
# (default build/valgrind): vg.PID.log per process under logs/, pytest.log.
# SPOTAUTH_VALGRIND_EXTRA adds valgrind options (e.g. --track-origins=yes).
#
# nginx -t and nginx -s reload (conftest's check() and reload()) do not run
# under valgrind: the harness applies SPOTAUTH_NGINX_WRAPPER to the nginx it
# starts only, which is where requests are served.
set -euo pipefail
# shellcheck source=t/sanitize/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

OUT="${SPOTAUTH_VALGRIND_DIR:-$ROOT/build/valgrind}"
LOGS="$OUT/logs"
SOURCE_SO="${SPOTAUTH_MODULE:-$ROOT/build/ngx_http_spotauth_module.so}"
# valgrind's exit code when it found errors; any value but 2 (a worker that
# exits with 2 is "fatal" to nginx's master and not respawned).
ERROR_EXITCODE=42

deps() {
    project_deps
    apt_install valgrind
}

# A private copy of the module: others may rebuild build/ during the run,
# and every nginx of this run must load the same module.
module() {
    if [ ! -f "$SOURCE_SO" ]; then
        log "no module at $SOURCE_SO: building it"
        "$ROOT/build.sh" build
    fi
    # grep reads all of readelf's output (with -q, pipefail could see readelf's SIGPIPE).
    if ! readelf -S "$SOURCE_SO" | grep '\.debug_info' >/dev/null; then
        echo "valgrind: $SOURCE_SO has no debug info; stacks would have no file:line" >&2
        exit 1
    fi
    mkdir -p "$OUT"
    cp "$SOURCE_SO" "$OUT/ngx_http_spotauth_module.so"
}

run_suite() {
    report_dir "$LOGS"
    local wrapper=(
        valgrind --tool=memcheck --vgdb=no
        --trace-children=yes --child-silent-after-fork=no
        --error-exitcode="$ERROR_EXITCODE"
        --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
        --num-callers=40
        --suppressions="$HERE/valgrind.supp"
        --log-file="$LOGS/vg.%p.log"
    )
    # shellcheck disable=SC2206
    [ -n "${SPOTAUTH_VALGRIND_EXTRA:-}" ] && wrapper+=($SPOTAUTH_VALGRIND_EXTRA)
    log "integration suite with nginx under valgrind (logs in $LOGS)"
    set +e
    (
        cd "$ROOT"
        export SPOTAUTH_MODULE="$OUT/ngx_http_spotauth_module.so"
        export SPOTAUTH_NGINX_WRAPPER="${wrapper[*]}"
        export SPOTAUTH_STARTUP_TIMEOUT="${SPOTAUTH_STARTUP_TIMEOUT:-120}"
        "$PYTHON" -m pytest t/integration -q -p no:cacheprovider --durations=15 "${DESELECT[@]}" "$@"
    ) 2>&1 | tee "$OUT/pytest.log"
    local status=${PIPESTATUS[0]}
    set -e
    return "$status"
}

main() {
    deps
    module
    local pytest_status=0 reports_status=0
    run_suite "$@" || pytest_status=$?
    "$PYTHON" "$HERE/reports.py" valgrind "$LOGS" || reports_status=$?
    echo "valgrind run: $(passed_count "$OUT/pytest.log") tests passed (pytest exit $pytest_status, $((SECONDS / 60))m$((SECONDS % 60))s)"
    [ "$pytest_status" -eq 0 ] && [ "$reports_status" -eq 0 ]
}

main "$@"
