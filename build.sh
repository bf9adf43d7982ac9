#!/usr/bin/env bash
# spotauth build driver. Every subcommand installs what it needs (Debian
# packages, as root), so each works alone on a fresh Debian 12 machine.
#
#   ./build.sh [build]   core library + nginx module (build/ngx_http_spotauth_module.so)
#   ./build.sh deps      install the Debian packages only
#   ./build.sh test      unit tests (ctest) + integration tests (pytest, real nginx)
#   ./build.sh demo      offline demo: mock Spotify + nginx on 127.0.0.1
#   ./build.sh install   install the module into Debian's nginx (as root)
#   ./build.sh fuzz [s]  libFuzzer targets under ASan+UBSan, s seconds each (60)
#   ./build.sh bench     micro + load benchmarks (bench/run.sh -> bench/results.md)
#   ./build.sh sanitize  integration tests under ASan+UBSan, then under valgrind (t/sanitize/)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$ROOT/build"
MODULE_SO="$BUILD/ngx_http_spotauth_module.so"
PYTHON=/usr/bin/python3

APT_PACKAGES=(
    build-essential cmake pkg-config openssl
    nginx nginx-dev
    libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libpcre2-dev zlib1g-dev curl
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-pytest python3-requests python3-cryptography
    wrk
)

log() { printf '==> %s\n' "$*" >&2; }

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

apt_install() {
    local missing
    missing="$(missing_packages "$@")"
    [ -z "$missing" ] && return 0
    log "installing Debian packages: $(echo $missing)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # The nginx package starts a service on :80 where systemd runs; the
    # module never needs it.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
        $sudo systemctl stop nginx || true
    fi
}

deps() {
    apt_install "${APT_PACKAGES[@]}"
    # Machines with NodeSource's nodejs already have npm (and Debian's npm
    # package conflicts with it); elsewhere Debian's packages provide both.
    command -v npm >/dev/null || apt_install nodejs npm
}

build_core() {
    log "building the core library"
    cmake -S "$ROOT" -B "$BUILD/core" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD/core" -j "$(nproc)" >/dev/null
}

# Configures (when needed) and builds the module in `tree`, a private copy
# of an nginx source tree, then puts the .so at `out` (a new inode, so nginx
# processes still running the old .so keep their mapping). Reconfigures
# when the module's config or its list of headers changed.
#   make_module TREE OUT CONFIGURE-COMMAND...
make_module() {
    local tree="$1" out="$2"
    shift 2
    local headers
    headers="$(cd "$ROOT" && ls include/spotauth/*.hpp nginx/*.hpp)"
    if [ ! -f "$tree/objs/Makefile" ] || [ "$ROOT/config" -nt "$tree/objs/Makefile" ] \
        || [ "$headers" != "$(cat "$tree/.spotauth-headers" 2>/dev/null)" ]; then
        (cd "$tree" && "$@" --add-dynamic-module="$ROOT" >/dev/null)
        echo "$headers" >"$tree/.spotauth-headers"
    fi
    # nginx's Makefile does not know the core library: always relink.
    rm -f "$tree/objs/ngx_http_spotauth_module.so"
    make -C "$tree" -f objs/Makefile modules -j "$(nproc)" >/dev/null
    cp "$tree/objs/ngx_http_spotauth_module.so" "$out.tmp"
    mv -f "$out.tmp" "$out"
}

# Debian's nginx: a copy of nginx-dev's source tree configured with the
# exact flags of the packaged binary, so the module loads into the stock nginx.
build_module() {
    local tree="$BUILD/nginx"
    if [ /usr/share/nginx/src/conf_flags -nt "$tree/objs/Makefile" ]; then
        log "copying Debian's nginx $(nginx -v 2>&1 | sed 's|.*/||') source tree"
        rm -rf "$tree"
        cp -a /usr/share/nginx/src "$tree"
    fi
    # shellcheck disable=SC1091
    . /usr/share/nginx/src/conf_flags
    log "building the nginx module for Debian's nginx"
    make_module "$tree" "$MODULE_SO" ./configure "${NGX_CONF_FLAGS[@]}"
}

# The version an nginx source tree (release tarball or git snapshot) is of.
nginx_source_version() {
    sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$1/src/core/nginx.h"
}

# A release tarball has ./configure; a git snapshot of a tag has auto/configure.
nginx_configure_script() {
    if [ -x "$1/configure" ]; then echo ./configure; else echo auto/configure; fi
}

# Any nginx source tree: configured --with-compat, so the module loads into
# any nginx binary of the same version built --with-compat (nginx.org's
# packages and Docker images are). Writes build/nginx-<version>/.
build_module_for_source() {
    local src="$1"
    [ -f "$src/src/core/nginx.h" ] || { echo "build: $src is not an nginx source tree (no src/core/nginx.h)" >&2; exit 2; }
    src="$(cd "$src" && pwd)"
    local version
    version="$(nginx_source_version "$src")"
    local work="$BUILD/nginx-$version"
    local tree="$work/src"
    if [ ! -f "$tree/.spotauth-source" ] || [ "$(cat "$tree/.spotauth-source")" != "$src" ]; then
        log "copying the nginx $version source tree from $src"
        rm -rf "$tree"
        mkdir -p "$work"
        cp -a "$src" "$tree"
        echo "$src" >"$tree/.spotauth-source"
    fi
    log "building the nginx module for nginx $version (--with-compat)"
    make_module "$tree" "$work/ngx_http_spotauth_module.so" \
        "$(nginx_configure_script "$tree")" --with-compat --with-http_ssl_module
    log "built the module for nginx $version"
    echo "$work/ngx_http_spotauth_module.so"
}

#   ./build.sh build                      for Debian's nginx (nginx-dev)
#   ./build.sh build --nginx-src DIR      for the nginx source tree DIR
build() {
    local nginx_src=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --nginx-src) nginx_src="${2:?--nginx-src needs a directory}"; shift 2 ;;
            *) echo "build: unknown option $1" >&2; exit 2 ;;
        esac
    done
    deps
    build_core
    if [ -n "$nginx_src" ]; then
        build_module_for_source "$nginx_src"
        return
    fi
    build_module
    log "built $MODULE_SO"
}

unit_tests() {
    log "unit tests (ctest)"
    ctest --test-dir "$BUILD/core" --output-on-failure -j "$(nproc)"
}

interop_deps() {
    if [ ! -d "$ROOT/t/interop/node_modules/jose" ]; then
        log "installing the jose npm package for the interop test"
        (cd "$ROOT/t/interop" && npm ci --no-audit --no-fund --silent)
    fi
}

browser_deps() {
    apt_install chromium fonts-dejavu-core
    if [ ! -d "$ROOT/t/browser/node_modules/playwright-core" ]; then
        log "installing playwright-core for the browser test"
        (cd "$ROOT/t/browser" && npm ci --no-audit --no-fund --silent)
    fi
}

integration_tests() {
    interop_deps
    browser_deps
    log "integration tests on Debian's nginx (pytest: real nginx + mock Spotify on loopback)"
    SPOTAUTH_MODULE="$MODULE_SO" "$PYTHON" -m pytest "$ROOT/t/integration" -q -p no:cacheprovider "$@"
}

# The version matrix: nginx source snapshots in ../shared/nginx/ (see its
# README), each built once into build/matrix/ as nginx.org builds its
# packages (--with-compat), the module built for it with
# `./build.sh build --nginx-src`, and the integration suite run against it.
SHARED_NGINX="$ROOT/../shared/nginx"
# SPOTAUTH_NGINX_MATRIX="1.31.4" narrows it while developing ("" skips it).
read -r -a MATRIX_VERSIONS <<<"${SPOTAUTH_NGINX_MATRIX-1.24.0 1.26.3 1.30.4 1.31.4}"

version_at_least() {
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

# Builds the nginx binary of one snapshot (cached); prints its source tree.
matrix_nginx() {
    local version="$1"
    local tarball="$SHARED_NGINX/nginx-$version.tar.gz"
    local work="$BUILD/matrix/nginx-$version"
    local flags=(--with-compat --with-threads --with-http_ssl_module --with-http_v2_module)
    version_at_least "$version" 1.25.0 && flags+=(--with-http_v3_module)
    local stamp
    stamp="$(sha256sum "$tarball" | cut -c1-64) ${flags[*]}"
    if [ ! -x "$work/binary/objs/nginx" ] || [ "$(cat "$work/.stamp" 2>/dev/null)" != "$stamp" ]; then
        log "building nginx $version (${flags[*]})"
        rm -rf "$work"
        mkdir -p "$work/source"
        tar -xzf "$tarball" -C "$work/source" --strip-components=1
        cp -a "$work/source" "$work/binary"
        (cd "$work/binary" && "$(nginx_configure_script .)" --prefix="$work/prefix" "${flags[@]}" >/dev/null \
            && make -j "$(nproc)" >/dev/null)
        echo "$stamp" >"$work/.stamp"
    fi
    echo "$work"
}

matrix_tests() {
    local version work module status=0
    [ "${#MATRIX_VERSIONS[@]}" -gt 0 ] || log "skipping the nginx version matrix: SPOTAUTH_NGINX_MATRIX is empty"
    for version in "${MATRIX_VERSIONS[@]}"; do
        if [ ! -f "$SHARED_NGINX/nginx-$version.tar.gz" ]; then
            log "skipping nginx $version: $SHARED_NGINX/nginx-$version.tar.gz is absent"
            continue
        fi
        work="$(matrix_nginx "$version")"
        module="$(build_module_for_source "$work/source" | tail -n 1)"
        log "integration tests on nginx $version"
        SPOTAUTH_NGINX="$work/binary/objs/nginx" SPOTAUTH_MODULE="$module" \
            "$PYTHON" -m pytest "$ROOT/t/integration" -q -p no:cacheprovider "$@" || status=1
    done
    return "$status"
}

# Benchmarks: Google Benchmark micro-benchmarks (build/bench) and load
# scenarios against the built module, all on 127.0.0.1, about 5 minutes.
# Prints the results table and writes bench/results.md.
bench() {
    build
    apt_install libbenchmark-dev python3-cryptography
    log "benchmarks (bench/run.sh, about 5 minutes)"
    SPOTAUTH_MODULE="$MODULE_SO" SPOTAUTH_BENCH_COMMAND="./build.sh bench${*:+ $*}" \
        "$ROOT/bench/run.sh" "$@"
}

# Sanitizer passes over the integration suite (t/sanitize/README.md): the
# module built with ASan+UBSan into build/asan/, then nginx under valgrind
# with the normal module. Extra arguments go to pytest.
sanitize() {
    build
    local status=0
    "$ROOT/t/sanitize/asan.sh" "$@" || status=1
    "$ROOT/t/sanitize/valgrind.sh" "$@" || status=1
    return "$status"
}

# The integration suite against each nginx of the version matrix only.
matrix() {
    build
    interop_deps
    browser_deps
    matrix_tests "$@"
}

fuzz() {
    deps
    "$ROOT/t/fuzz/run.sh" "${1:-60}"
}

test() {
    build
    unit_tests
    log "fuzz smoke (libFuzzer, a few seconds per target)"
    "$ROOT/t/fuzz/run.sh" 3
    integration_tests "$@"
    matrix_tests "$@"
}

# Runs conf/demo.conf from a scratch prefix under /tmp (world-traversable,
# so nginx's unprivileged workers can read the site) until Ctrl-C.
demo() {
    build
    local run="${SPOTAUTH_DEMO_DIR:-/tmp/spotauth-demo}"
    local listen="${SPOTAUTH_DEMO_LISTEN:-127.0.0.1:8080}"
    local mock="${SPOTAUTH_DEMO_MOCK:-127.0.0.1:8081}"
    rm -rf "$run"
    mkdir -p "$run/conf" "$run/logs" "$run/tmp" "$run/modules"
    chmod 755 "$run"
    cp "$MODULE_SO" "$run/modules/"
    cp -r "$ROOT/conf/demo-site" "$run/html"
    cp /etc/nginx/mime.types "$run/conf/"
    (umask 077 && openssl rand -base64 32 >"$run/conf/spotauth.key" && openssl rand -hex 24 >"$run/conf/client-secret")
    sed -e "s/@LISTEN@/$listen/g" -e "s/@MOCK@/$mock/g" "$ROOT/conf/demo.conf" >"$run/conf/nginx.conf"

    "$PYTHON" "$ROOT/t/mock_spotify.py" --host "${mock%:*}" --port "${mock##*:}" \
        --client-id demo-client --client-secret-file "$run/conf/client-secret" >"$run/logs/mock.out" &
    local mock_pid=$!
    local waited=0
    until grep -q "listening on" "$run/logs/mock.out" 2>/dev/null; do
        kill -0 "$mock_pid" 2>/dev/null && [ "$waited" -lt 100 ] || { echo "mock Spotify did not start" >&2; exit 1; }
        sleep 0.1
        waited=$((waited + 1))
    done
    trap 'kill '"$mock_pid"' 2>/dev/null; nginx -p "'"$run"'/" -c conf/nginx.conf -s quit 2>/dev/null' EXIT
    nginx -q -t -p "$run/" -c conf/nginx.conf
    log "demo running: open http://$listen/ (mock Spotify on http://$mock, logs in $run/logs; Ctrl-C stops)"
    nginx -p "$run/" -c conf/nginx.conf -g 'daemon off;'
}

NGINX_MODULES=/usr/lib/nginx/modules
MODULE_SNIPPET=/usr/share/nginx/modules-available/mod-http-spotauth.conf
MODULE_ENABLED=/etc/nginx/modules-enabled/50-mod-http-spotauth.conf
EXAMPLE_CONF=/etc/nginx/conf.d/spotauth.conf.example

# Installs like Debian's libnginx-mod-* packages do; safe to run again.
install() {
    [ "$(id -u)" -eq 0 ] || { echo "install: run as root" >&2; exit 1; }
    build
    command install -d "$NGINX_MODULES" "$(dirname "$MODULE_SNIPPET")" "$(dirname "$MODULE_ENABLED")"
    command install -m 644 "$MODULE_SO" "$NGINX_MODULES/.ngx_http_spotauth_module.so.new"
    mv -f "$NGINX_MODULES/.ngx_http_spotauth_module.so.new" "$NGINX_MODULES/ngx_http_spotauth_module.so"
    echo "load_module $NGINX_MODULES/ngx_http_spotauth_module.so;" >"$MODULE_SNIPPET"
    ln -sfn "$MODULE_SNIPPET" "$MODULE_ENABLED"
    command install -m 644 "$ROOT/conf/spotauth.conf" "$EXAMPLE_CONF"
    nginx -q -t
    cat <<EOF
spotauth installed into Debian's nginx:
  $NGINX_MODULES/ngx_http_spotauth_module.so
  $MODULE_ENABLED -> $MODULE_SNIPPET
  $EXAMPLE_CONF (annotated template)
Next steps:
  1. openssl rand -base64 32 > /etc/nginx/spotauth.key && chmod 600 /etc/nginx/spotauth.key
  2. put your Spotify app's client secret in /etc/nginx/spotify-client-secret (chmod 600)
  3. edit $EXAMPLE_CONF (client id, redirect URI, server name) and save it
     as /etc/nginx/conf.d/spotauth.conf
  4. nginx -t && systemctl reload nginx
EOF
}

main() {
    local cmd="${1:-build}"
    [ $# -gt 0 ] && shift
    case "$cmd" in
        deps | build | test | matrix | demo | install | fuzz | bench | sanitize) "$cmd" "$@" ;;
        *)
            echo "usage: $0 [deps|build [--nginx-src DIR]|test|matrix|demo|install|fuzz|bench|sanitize]" >&2
            exit 2
            ;;
    esac
}

main "$@"
