#!/usr/bin/env bash
# The Debian package of the module: build/libnginx-mod-http-spotauth_<version>_<arch>.deb
# laid out like Debian's own libnginx-mod-* packages, made with dpkg-deb
# alone (no debhelper). Run by `./build.sh package`, which builds the module
# and installs dpkg-dev and binutils first; prints the .deb's path last.
#
#   packaging/build-deb.sh MODULE_SO VERSION
set -euo pipefail
shopt -s inherit_errexit

PACKAGING="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$PACKAGING")"
BUILD="$ROOT/build"
MODULE_SO="${1:?build-deb.sh needs the path of the module .so}"
VERSION="${2:?build-deb.sh needs the package version}"

PKG_NAME=libnginx-mod-http-spotauth
# The load file and modules-enabled link that dh_nginx derives from the name.
PKG_CONFPAIR=mod-http-spotauth.conf:50-mod-http-spotauth.conf

log() { printf '==> %s\n' "$*" >&2; }

# The nginx-abi-* virtual package to depend on. dh_nginx reads it from
# nginx-dev's tree (the one the module is built against); the installed
# nginx must provide the same one, or the module would not load into it.
nginx_abi() {
    local substvars=/usr/share/nginx/src/debian/libnginx-mod.abisubstvars built="" installed
    [ -f "$substvars" ] && built="$(sed -n 's/^nginx:abi=//p' "$substvars")"
    installed="$({ dpkg-query -W -f='${Provides}\n' nginx nginx-core nginx-light nginx-full nginx-extras \
        2>/dev/null || true; } | grep -o 'nginx-abi-[^ ,]*' | head -n 1 || true)"
    if [ -z "$installed" ]; then
        echo "package: the installed nginx provides no nginx-abi-* package" >&2
        exit 1
    fi
    if [ -n "$built" ] && [ "$built" != "$installed" ]; then
        echo "package: nginx-dev is for $built but the installed nginx provides $installed" >&2
        exit 1
    fi
    echo "$installed"
}

# Debian's conventions (DEBFULLNAME/DEBEMAIL), else the git identity.
package_maintainer() {
    if [ -n "${DEBFULLNAME:-}" ] && [ -n "${DEBEMAIL:-}" ]; then
        echo "$DEBFULLNAME <$DEBEMAIL>"
    elif command -v git >/dev/null && git -C "$ROOT" config user.email >/dev/null 2>&1; then
        echo "$(git -C "$ROOT" config user.name) <$(git -C "$ROOT" config user.email)>"
    else
        echo "spotauth builder <root@localhost>"
    fi
}

# What postinst adds on an upgrade ($2 is the version replaced): nginx keeps
# a dynamic module mapped across reloads, so the new one runs only after a
# restart or a binary upgrade (docs/deploy.md, "Upgrade").
upgrade_notice() {
    cat <<'SH'
if [ "$1" = "configure" ] && [ -n "$2" ]; then
	echo "spotauth: upgraded from $2. nginx keeps the old module loaded across reloads:" >&2
	echo "  restart nginx (systemctl restart nginx), or upgrade its binary in place" >&2
	echo "  (kill -USR2 <master pid>, then kill -QUIT <old master pid>). Sessions survive either." >&2
fi
SH
}

# What prerm adds on a remove: the warning of packaging/conf-check.sh.
removal_warning() {
    cat "$PACKAGING/conf-check.sh"
    printf 'if [ "$1" = "remove" ]; then\n\tspotauth_removal_warning "$NGINX_CONF_DIR"\nfi\n'
}

# A maintainer script made from nginx-dev's dh_nginx autoscript, as
# debhelper would make it for this package: postinst links the load file
# into /etc/nginx/modules-enabled (on a fresh install, or a reinstall after a
# remove), prerm/postrm move the link aside as <link>.removed on remove and
# delete both on purge; install and remove trigger nginx's reload.
# /etc/nginx is $NGINX_CONF_DIR (SPOTAUTH_NGINX_CONF_DIR, for the tests).
maintainer_script() {
    local autoscript="/usr/share/debhelper/autoscripts/$1-nginx"
    printf '#!/bin/sh\nset -e\n# Made by spotauth packaging/build-deb.sh from %s\n' "$autoscript"
    # shellcheck disable=SC2016
    printf 'NGINX_CONF_DIR="${SPOTAUTH_NGINX_CONF_DIR:-/etc/nginx}"\n'
    case "$1" in
        postinst) upgrade_notice ;;
        prerm) removal_warning ;;
    esac
    sed -e "s/#NAMES#/$PKG_CONFPAIR/" -e 's|/etc/nginx/|$NGINX_CONF_DIR/|g' "$autoscript"
    printf '# End of the dh_nginx autoscript\n'
}

build_package() {
    local version="$VERSION" arch abi shlibs maintainer size script
    arch="$(dpkg --print-architecture)"
    abi="$(nginx_abi)"
    maintainer="$(package_maintainer)"
    local work="$BUILD/package"
    # dpkg-shlibdeps expects the files in debian/<package>/.
    local root="$work/debian/$PKG_NAME"
    local doc="$root/usr/share/doc/$PKG_NAME"
    local so="$root/usr/lib/nginx/modules/ngx_http_spotauth_module.so"
    local load="$root/usr/share/nginx/modules-available/mod-http-spotauth.conf"
    local snippet="$root/etc/nginx/snippets/spotauth-proxy.conf"
    local deb="$BUILD/${PKG_NAME}_${version}_${arch}.deb"
    log "packaging $PKG_NAME $version ($arch)"
    rm -rf "$work" "$BUILD/${PKG_NAME}_"*.deb
    install -d -m 755 "$root/DEBIAN" "$(dirname "$so")" "$(dirname "$load")" "$doc/examples" \
        "$(dirname "$snippet")"
    install -m 644 "$MODULE_SO" "$so"
    # As dh_strip does for shared libraries (there is no -dbgsym package).
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$so"
    # Debian's load files name the module relative to nginx's prefix
    # (/usr/share/nginx/modules -> /usr/lib/nginx/modules).
    echo "load_module modules/ngx_http_spotauth_module.so;" >"$load"
    install -m 644 "$PACKAGING/copyright" "$doc/copyright"
    # A conffile, as Debian's own /etc/nginx/snippets/*.conf are: dpkg keeps
    # a local change on upgrade (and asks), and removes it only on purge.
    install -m 644 "$ROOT/conf/snippets/spotauth-proxy.conf" "$snippet"
    echo "/etc/nginx/snippets/spotauth-proxy.conf" >"$root/DEBIAN/conffiles"
    "$ROOT/build.sh" example-conf "$(nginx -v 2>&1 | sed 's|.*/||')" >"$doc/examples/spotauth.conf"
    chmod 644 "$doc/examples/spotauth.conf"
    install -m 644 "$ROOT/conf/spotauth-error.html" "$doc/examples/spotauth-error.html"
    {
        printf '%s (%s) unstable; urgency=medium\n\n' "$PKG_NAME" "$version"
        printf '  * Built by ./build.sh package%s.\n\n' \
            "$(git -C "$ROOT" rev-parse HEAD 2>/dev/null | sed 's/^/ from commit /')"
        printf ' -- %s  %s\n' "$maintainer" "$(date -R)"
    } | gzip -9n >"$doc/changelog.Debian.gz"
    chmod 644 "$load" "$doc/changelog.Debian.gz"
    for script in postinst prerm postrm; do
        maintainer_script "$script" >"$root/DEBIAN/$script"
        chmod 755 "$root/DEBIAN/$script"
    done

    # libc6, libcurl4, libgcc-s1, libhiredis0.14, libsimdjson14, libssl3,
    # libstdc++6 with the versions the .so needs (dpkg-shlibdeps only needs a
    # debian/control to exist); docs/deploy.md lists them (test_package.py).
    shlibs="$(cd "$work" && : >debian/control && dpkg-shlibdeps -O "$so" \
        | sed -n 's/^shlibs:Depends=//p')"
    [ -n "$shlibs" ] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
    # Installed-Size as dpkg-gencontrol counts it: KiB per file, 1 per directory.
    size="$(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%s\n' -o -printf '1024\n' \
        | awk '{ total += int(($1 + 1023) / 1024) } END { print total }')"
    # md5sums lists the files that are not conffiles (dpkg tracks those itself).
    (cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
    cat >"$root/DEBIAN/control" <<EOF_CONTROL
Package: $PKG_NAME
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $abi, $shlibs
Recommends: nginx
Section: httpd
Priority: optional
Description: Sign in with Spotify for static sites (nginx module)
 spotauth runs the OAuth 2.0 authorization-code flow (state + PKCE) inside
 nginx, keeps the user's tokens in an encrypted HttpOnly cookie, refreshes
 expiring access tokens and proxies the browser's Web API calls to
 api.spotify.com with the Bearer header added.
 .
 Installing the package enables the module through
 /etc/nginx/modules-enabled/50-mod-http-spotauth.conf; an annotated example
 configuration is in /usr/share/doc/$PKG_NAME/examples/spotauth.conf, the
 built-in error page (to start a spotauth_error_template from) next to it.
 The example's locations include /etc/nginx/snippets/spotauth-proxy.conf:
 kept-alive, verified TLS connections to api.spotify.com.
EOF_CONTROL
    chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles"
    dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
    log "Depends: $abi, $shlibs"
    echo "$deb"
}

build_package
