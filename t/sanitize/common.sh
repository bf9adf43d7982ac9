# Shared by t/sanitize/asan.sh and t/sanitize/valgrind.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/t/sanitize"
PYTHON=/usr/bin/python3

# Integration tests that do not exercise the module under test, and that
# would rebuild the shared build/ngx_http_spotauth_module.so: test_install
# runs `./build.sh install` (and installs into /etc/nginx), test_demo runs
# `./build.sh demo`; both build and run the normal module.
DESELECT=(
    --deselect t/integration/test_install.py::test_install_is_idempotent_and_loads_into_stock_nginx
    --deselect t/integration/test_demo.py
)

log() { printf '==> %s\n' "$*" >&2; }

# Idempotent: asks apt only for what dpkg does not list as installed.
apt_install() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The test dependencies (nginx, nginx-dev, compilers, libraries, pytest, and
# the npm packages of the interop/browser tests) come from build.sh itself.
project_deps() {
    "$ROOT/build.sh" deps
    if [ ! -d "$ROOT/t/interop/node_modules/jose" ]; then
        log "installing the jose npm package for the interop test"
        (cd "$ROOT/t/interop" && npm ci --no-audit --no-fund --silent)
    fi
}

# A directory whose world-writable mode lets nginx's workers (they run as
# nobody when the suite runs as root) create their report files in it.
report_dir() {
    rm -rf "$1"
    mkdir -p "$1"
    chmod 1777 "$1"
}

# "110 passed, 1 deselected in 57.22s" -> 110
passed_count() {
    grep -Eo '[0-9]+ passed' "$1" | tail -1 | grep -Eo '[0-9]+' || echo 0
}
