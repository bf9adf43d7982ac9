#!/usr/bin/env bash
# spotauth build driver. Every subcommand installs what it needs (Debian
# packages, as root), so each works alone on a fresh Debian 12 machine.
#
#   ./build.sh [build]   core library + nginx module for Debian's nginx (build/ngx_http_spotauth_module.so)
#   ./build.sh build --nginx-src DIR   the module for any nginx source tree (build/nginx-<version>/)
#   ./build.sh deps      install the Debian packages only
#   ./build.sh test      clang-format check, unit tests (ctest), fuzz smoke, integration tests (pytest, real nginx)
#                        on Debian's nginx, under ASan+UBSan, and on the version matrix of ../shared/nginx/
#   ./build.sh matrix    the integration tests on the version matrix only
#   ./build.sh example-conf VERSION   conf/spotauth.conf in the syntax of that nginx
#   ./build.sh demo      offline demo: mock Spotify + nginx on 127.0.0.1
#   ./build.sh install   install the module into Debian's nginx (as root)
#   ./build.sh uninstall undo ./build.sh install (as root; warns if nginx's configuration still uses spotauth)
#   ./build.sh package   Debian package build/libnginx-mod-http-spotauth_<version>_<arch>.deb
#   ./build.sh fuzz [s]  libFuzzer targets under ASan+UBSan, s seconds each (60)
#   ./build.sh bench     micro + load benchmarks (bench/run.sh -> bench/results.md)
#   ./build.sh sanitize  integration tests under ASan+UBSan, then under valgrind (t/sanitize/)
set -euo pipefail
# Command substitutions (module="$(build_module_for_source ...)") fail too.
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$ROOT/build"
MODULE_SO="$BUILD/ngx_http_spotauth_module.so"
PYTHON=/usr/bin/python3

# What building the module for any nginx source tree needs (also inside
# contrib/Dockerfile, on top of another vendor's nginx package).
BUILD_PACKAGES=(
    build-essential cmake pkg-config openssl ca-certificates
    libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libsimdjson-dev libpcre2-dev zlib1g-dev libhiredis-dev
    libgtest-dev libgmock-dev
)
# Debian's nginx and what the tests and benchmarks run.
APT_PACKAGES=(
    "${BUILD_PACKAGES[@]}"
    nginx nginx-dev
    libbenchmark-dev curl
    python3 python3-pytest python3-requests python3-cryptography
    wrk redis-server clang-format
)

# The core's C++ dialect and warnings (CMakeLists.txt), for the glue too.
GLUE_CXXFLAGS="-std=c++17 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror"

log() { printf '==> %s\n' "$*" >&2; }

version_at_least() {
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

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

cmd_deps() {
    apt_install "${APT_PACKAGES[@]}"
    # Machines with NodeSource's nodejs already have npm (and Debian's npm
    # package conflicts with it); elsewhere Debian's packages provide both.
    command -v npm >/dev/null || apt_install nodejs npm
}

build_core() {
    log "building the core library"
    cmake -S "$ROOT" -B "$BUILD/core" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSPOTAUTH_BUILD_VERSION="$(module_version)" >/dev/null
    cmake --build "$BUILD/core" -j "$(nproc)" >/dev/null
}

# Configures (when needed) and builds the module in `tree`, a private copy
# of an nginx source tree, then puts the .so at `out` (a new inode, so nginx
# processes still running the old .so keep their mapping). Reconfigures
# when the module's config or its list of glue sources and headers changed.
# STRIP "strip": the .so stripped as the .deb's is, its debug info in
# OUT.debug (found by gdb and valgrind through the .so's debug link).
#   make_module TREE OUT STRIP|keep CONFIGURE-COMMAND...
make_module() {
    local tree="$1" out="$2" strip="$3"
    shift 3
    local headers
    headers="$(cd "$ROOT" && ls include/spotauth/*.hpp nginx/*.hpp nginx/*.cpp)"
    if [ ! -f "$tree/objs/Makefile" ] || [ "$ROOT/config" -nt "$tree/objs/Makefile" ] \
        || [ "$headers" != "$(cat "$tree/.spotauth-headers" 2>/dev/null)" ]; then
        (cd "$tree" && "$@" --add-dynamic-module="$ROOT" >/dev/null)
        echo "$headers" >"$tree/.spotauth-headers"
    fi
    # The glue is compiled like the core (CMakeLists.txt): C++17, the same
    # warnings, -Werror. nginx compiles every source with its C flags; a
    # pattern rule adds these to the module's own objects (objs/addon/).
    if ! grep -q '^# spotauth glue flags' "$tree/objs/Makefile"; then
        printf '\n# spotauth glue flags\nobjs/addon/%%.o: CFLAGS += %s\n' "$GLUE_CXXFLAGS" >>"$tree/objs/Makefile"
        find "$tree/objs/addon" -name "*.o" -delete  # compiled without them
    fi
    # nginx's Makefile does not know the core library: always relink.
    rm -f "$tree/objs/ngx_http_spotauth_module.so"
    make -C "$tree" -f objs/Makefile modules -j "$(nproc)" >/dev/null
    cp "$tree/objs/ngx_http_spotauth_module.so" "$out.tmp"
    if [ "$strip" = strip ]; then
        objcopy --only-keep-debug "$out.tmp" "$out.debug"
        strip --remove-section=.comment --remove-section=.note --strip-unneeded "$out.tmp"
        (cd "$(dirname "$out")" && objcopy --add-gnu-debuglink="$(basename "$out").debug" "$(basename "$out").tmp")
    fi
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
    make_module "$tree" "$MODULE_SO" keep ./configure "${NGX_CONF_FLAGS[@]}"
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
# With "--with-debug" as $2, for an nginx built --with-debug, so the
# module's ngx_log_debug lines exist (build/nginx-<version>-debug/).
build_module_for_source() {
    local src="$1" debug="${2:-}"
    [ -f "$src/src/core/nginx.h" ] || { echo "build: $src is not an nginx source tree (no src/core/nginx.h)" >&2; exit 2; }
    src="$(cd "$src" && pwd)"
    local version
    version="$(nginx_source_version "$src")"
    local work="$BUILD/nginx-$version${debug:+-debug}"
    local tree="$work/src"
    if [ ! -f "$tree/.spotauth-source" ] || [ "$(cat "$tree/.spotauth-source")" != "$src" ]; then
        log "copying the nginx $version source tree from $src"
        rm -rf "$tree"
        mkdir -p "$work"
        cp -a "$src" "$tree"
        echo "$src" >"$tree/.spotauth-source"
    fi
    log "building the nginx module for nginx $version (--with-compat $debug)"
    make_module "$tree" "$work/ngx_http_spotauth_module.so" strip \
        "$(nginx_configure_script "$tree")" --with-compat --with-http_ssl_module $debug
    example_conf "$version" >"$work/spotauth.conf.example"
    log "built the module for nginx $version, stripped (debug info in ngx_http_spotauth_module.so.debug;" \
        "$work/spotauth.conf.example in its syntax)"
    echo "$work/ngx_http_spotauth_module.so"
}

# The api.spotify.com pool for nginx 1.27.3 and later, which can follow DNS
# while it runs (`resolve` needs a shared zone and a resolver): it replaces
# the template's server line and the comment above it.
RESOLVING_UPSTREAM='    # nginx follows api.spotify.com'"'"'s addresses while it runs: it looks the
    # name up again as the DNS answers expire, through this resolver (nginx
    # does not read /etc/resolv.conf). CHANGE: a name server nginx can ask,
    # e.g. the nameserver of /etc/resolv.conf; 127.0.0.11 on a Docker network
    # of your own; kube-dns.kube-system.svc.cluster.local in Kubernetes.
    zone spotauth_api_spotify 64k;
    server api.spotify.com:443 resolve;
    resolver CHANGE-ME-name-server;'

# conf/spotauth.conf in the syntax of nginx VERSION: it is written with
# `listen ... ssl http2;`, which nginx 1.25.1 deprecated for `http2 on;`,
# and with an api.spotify.com pool looked up at start, which nginx 1.27.3
# and later can do better (RESOLVING_UPSTREAM).
example_conf() {
    local version="${1:?example-conf needs an nginx version}"
    local conf
    conf="$(cat "$ROOT/conf/spotauth.conf")"
    if version_at_least "$version" 1.25.1; then
        conf="$(sed 's/^\( *\)listen \(.*\) ssl http2;$/\1listen \2 ssl;\n\1http2 on;/' <<<"$conf")"
    fi
    if version_at_least "$version" 1.27.3; then
        conf="$(awk -v pool="$RESOLVING_UPSTREAM" '
            /^    # nginx looks this name up when it starts/ { skipping = 1 }
            skipping && /^    server api\.spotify\.com:443;$/ { print pool; skipping = 0; done = 1; next }
            !skipping { print }
            END { if (!done) exit 1 }' <<<"$conf")" \
            || { echo "example-conf: no api.spotify.com server line in conf/spotauth.conf" >&2; exit 1; }
    fi
    printf '%s\n' "$conf"
}

cmd_example_conf() { example_conf "$@"; }

#   ./build.sh build                                   for Debian's nginx (nginx-dev)
#   ./build.sh build --nginx-src DIR [--with-debug]    for the nginx source tree DIR
cmd_build() {
    local nginx_src="" debug=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --nginx-src) nginx_src="${2:?--nginx-src needs a directory}"; shift 2 ;;
            --with-debug) debug="--with-debug"; shift ;;
            *) echo "build: unknown option $1" >&2; exit 2 ;;
        esac
    done
    if [ -n "$nginx_src" ]; then
        apt_install "${BUILD_PACKAGES[@]}"
        build_core
        build_module_for_source "$nginx_src" $debug
        return
    fi
    [ -z "$debug" ] || { echo "build: --with-debug needs --nginx-src (Debian's nginx is not a debug build)" >&2; exit 2; }
    cmd_deps
    build_core
    build_module
    log "built $MODULE_SO"
}

# The C++ sources in .clang-format's style (Debian 12's clang-format 14).
format_check() {
    log "C++ formatting (clang-format --dry-run, .clang-format)"
    (cd "$ROOT" && git ls-files -z '*.cpp' '*.hpp' '*.h' '*.c' ':!t/sanitize/' \
        | xargs -0 clang-format --dry-run --Werror)
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
# Run on Debian's nginx only, to keep ./build.sh test under 20 minutes:
# Redis across two machines and the Chromium demo walk-through touch no
# nginx API that differs between versions (the HTTP/3 browser test runs on
# every version that has HTTP/3).
MATRIX_SKIPS=(test_fleet.py test_browser.py)
read -r -a MATRIX_VERSIONS <<<"${SPOTAUTH_NGINX_MATRIX-1.24.0 1.26.3 1.30.4 1.31.4}"

# Builds the nginx binary of one snapshot (cached); prints its work folder.
#   matrix_nginx VERSION [--with-debug]
matrix_nginx() {
    local version="$1" debug="${2:-}"
    local tarball="$SHARED_NGINX/nginx-$version.tar.gz"
    local work="$BUILD/matrix/nginx-$version${debug:+-debug}"
    local flags=(--with-compat --with-threads --with-http_ssl_module --with-http_v2_module $debug)
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
        log "integration tests on nginx $version (all but ${MATRIX_SKIPS[*]})"
        SPOTAUTH_NGINX="$work/binary/objs/nginx" SPOTAUTH_MODULE="$module" \
            "$PYTHON" -m pytest "$ROOT/t/integration" -q -p no:cacheprovider \
            "${MATRIX_SKIPS[@]/#/--ignore=$ROOT/t/integration/}" "$@" || status=1
    done
    debug_log_tests "$@" || status=1
    return "$status"
}

# The module's ngx_log_debug lines, on the newest nginx of the matrix built
# --with-debug (t/integration/test_debug_log.py).
debug_log_tests() {
    local version work module
    [ "${#MATRIX_VERSIONS[@]}" -gt 0 ] || return 0
    version="${MATRIX_VERSIONS[${#MATRIX_VERSIONS[@]}-1]}"
    if [ ! -f "$SHARED_NGINX/nginx-$version.tar.gz" ]; then
        log "skipping the debug-log test: $SHARED_NGINX/nginx-$version.tar.gz is absent"
        return 0
    fi
    work="$(matrix_nginx "$version" --with-debug)"
    module="$(build_module_for_source "$work/source" --with-debug | tail -n 1)"
    log "debug-log test on nginx $version --with-debug"
    SPOTAUTH_NGINX="$work/binary/objs/nginx" SPOTAUTH_MODULE="$module" \
        "$PYTHON" -m pytest "$ROOT/t/integration/test_debug_log.py" -q -p no:cacheprovider
}

# Benchmarks: Google Benchmark micro-benchmarks (build/bench) and load
# scenarios against the built module, all on 127.0.0.1, about 7 minutes.
# Prints the results table and writes bench/results.md.
cmd_bench() {
    cmd_build
    apt_install libbenchmark-dev python3-cryptography
    log "benchmarks (bench/run.sh, about 7 minutes)"
    SPOTAUTH_MODULE="$MODULE_SO" SPOTAUTH_BENCH_COMMAND="./build.sh bench${*:+ $*}" \
        "$ROOT/bench/run.sh" "$@"
}

# Sanitizer passes over the integration suite (t/sanitize/README.md): the
# module built with ASan+UBSan into build/asan/, then nginx under valgrind
# with the normal module. Extra arguments go to pytest.
cmd_sanitize() {
    cmd_build
    local status=0
    "$ROOT/t/sanitize/asan.sh" "$@" || status=1
    "$ROOT/t/sanitize/valgrind.sh" "$@" || status=1
    return "$status"
}

# The integration suite against each nginx of the version matrix only.
cmd_matrix() {
    cmd_build
    interop_deps
    browser_deps
    matrix_tests "$@"
}

cmd_fuzz() {
    cmd_deps
    "$ROOT/t/fuzz/run.sh" "${1:-60}"
}

cmd_test() {
    cmd_build
    format_check
    unit_tests
    log "fuzz smoke (libFuzzer, a few seconds per target)"
    "$ROOT/t/fuzz/run.sh" 3
    integration_tests "$@"
    # The whole suite again on an ASan+UBSan build of the module (about 4
    # minutes from scratch): UB on a path only the suite reaches (a memcpy
    # from an empty view's null data) went unseen while only subsets ran.
    "$ROOT/t/sanitize/asan.sh" "$@"
    matrix_tests "$@"
}

# Runs conf/demo.conf from a scratch prefix under /tmp (world-traversable,
# so nginx's unprivileged workers can read the site) until Ctrl-C.
cmd_demo() {
    cmd_build
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
    # spotauth_allow_users: alice gets in, bob (named on the consent page) is refused.
    cp "$ROOT/conf/demo-allowed-users" "$run/conf/"
    local hint="This demo lets in alice only (conf/demo-allowed-users):"
    hint+=" log in as bob to see nginx refuse a user Spotify signed in."

    "$PYTHON" "$ROOT/t/mock_spotify.py" --host "${mock%:*}" --port "${mock##*:}" \
        --client-id demo-client --client-secret-file "$run/conf/client-secret" \
        --consent-hint "$hint" >"$run/logs/mock.out" &
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
# How nginx talks to api.spotify.com, included by the template's locations.
PROXY_SNIPPET=/etc/nginx/snippets/spotauth-proxy.conf

# Installs like Debian's libnginx-mod-* packages do; safe to run again.
cmd_install() {
    [ "$(id -u)" -eq 0 ] || { echo "install: run as root" >&2; exit 1; }
    cmd_build
    install -d "$NGINX_MODULES" "$(dirname "$MODULE_SNIPPET")" "$(dirname "$MODULE_ENABLED")" \
        "$(dirname "$PROXY_SNIPPET")"
    local upgrade=""
    [ -f "$NGINX_MODULES/ngx_http_spotauth_module.so" ] && upgrade=yes
    install -m 644 "$MODULE_SO" "$NGINX_MODULES/.ngx_http_spotauth_module.so.new"
    # Stripped as the .deb's (build/ keeps the one with debug info).
    strip --remove-section=.comment --remove-section=.note --strip-unneeded \
        "$NGINX_MODULES/.ngx_http_spotauth_module.so.new"
    mv -f "$NGINX_MODULES/.ngx_http_spotauth_module.so.new" "$NGINX_MODULES/ngx_http_spotauth_module.so"
    echo "load_module $NGINX_MODULES/ngx_http_spotauth_module.so;" >"$MODULE_SNIPPET"
    ln -sfn "$MODULE_SNIPPET" "$MODULE_ENABLED"
    # Replaced like the module: add to a location, never edit the snippet.
    install -m 644 "$ROOT/conf/snippets/spotauth-proxy.conf" "$PROXY_SNIPPET.new"
    mv -f "$PROXY_SNIPPET.new" "$PROXY_SNIPPET"
    example_conf "$(nginx -v 2>&1 | sed 's|.*/||')" >"$EXAMPLE_CONF.new"
    chmod 644 "$EXAMPLE_CONF.new"
    mv -f "$EXAMPLE_CONF.new" "$EXAMPLE_CONF"
    nginx -q -t
    cat <<EOF
spotauth installed into Debian's nginx:
  $NGINX_MODULES/ngx_http_spotauth_module.so
  $MODULE_ENABLED -> $MODULE_SNIPPET
  $EXAMPLE_CONF (annotated template)
  $PROXY_SNIPPET (how nginx talks to api.spotify.com)
Next steps:
  1. openssl rand -base64 32 > /etc/nginx/spotauth.key && chmod 600 /etc/nginx/spotauth.key
  2. put your Spotify app's client secret in /etc/nginx/spotify-client-secret (chmod 600)
  3. edit $EXAMPLE_CONF (client id, redirect URI, server name) and save it
     as /etc/nginx/conf.d/spotauth.conf
  4. nginx -t && systemctl reload nginx
EOF
    if [ -n "$upgrade" ]; then
        echo "This replaced an installed module: nginx keeps the old one loaded across reloads;" \
            "restart nginx (or upgrade its binary with USR2, see docs/deploy.md) to run $(module_version)."
    fi
}

# Undoes `./build.sh install` (not the package's files: dpkg owns those),
# warning when nginx's configuration still uses spotauth directives.
cmd_uninstall() {
    [ "$(id -u)" -eq 0 ] || { echo "uninstall: run as root" >&2; exit 1; }
    if dpkg-query -W -f='${Status}' libnginx-mod-http-spotauth 2>/dev/null | grep -q "ok installed"; then
        echo "uninstall: the module was installed by the package: apt remove libnginx-mod-http-spotauth" >&2
        exit 1
    fi
    # shellcheck source=packaging/conf-check.sh
    . "$ROOT/packaging/conf-check.sh"
    spotauth_removal_warning /etc/nginx
    local path
    for path in "$MODULE_ENABLED" "$MODULE_SNIPPET" "$NGINX_MODULES/ngx_http_spotauth_module.so" "$EXAMPLE_CONF" \
        "$PROXY_SNIPPET"; do
        if [ -e "$path" ] || [ -L "$path" ]; then
            rm -f "$path"
            echo "removed $path"
        fi
    done
}

# --- Debian package (packaging/build-deb.sh) --------------------------------

# The package version (and the version the module reports: spotauth_status,
# spotauth_health, the error log) is VERSION plus, in a git checkout, the
# date (UTC) and short hash of the commit it is built from, e.g.
# 0.1.0+git20261123.05e6c13 (".dirty" appended when tracked files differ
# from that commit). Bump VERSION for a release.
module_version() {
    local version
    version="$(head -n 1 "$ROOT/VERSION")"
    if command -v git >/dev/null && git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1; then
        version+="+git$(TZ=UTC git -C "$ROOT" log -1 --format=%cd --date=format-local:%Y%m%d)"
        version+=".$(git -C "$ROOT" rev-parse --short=7 HEAD)"
        git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || version+=".dirty"
    fi
    echo "$version"
}

# The package is for Debian's nginx only (nginx-abi-*): no --nginx-src.
cmd_package() {
    [ $# -eq 0 ] || { echo "package: takes no arguments" >&2; exit 2; }
    cmd_build
    apt_install dpkg-dev binutils
    "$ROOT/packaging/build-deb.sh" "$MODULE_SO" "$(module_version)"
}

main() {
    local cmd="${1:-build}"
    [ $# -gt 0 ] && shift
    case "$cmd" in
        deps | build | test | matrix | demo | install | uninstall | package | example-conf | fuzz | bench | sanitize)
            "cmd_${cmd//-/_}" "$@" ;;
        *)
            echo "usage: $0 [deps|build [--nginx-src DIR]|test|matrix|demo|install|uninstall|package|example-conf VERSION|fuzz|bench|sanitize]" >&2
            exit 2
            ;;
    esac
}

main "$@"
