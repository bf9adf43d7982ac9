# spotauth: the warning printed before the module goes away (the package's
# prerm on remove, `./build.sh uninstall`) while nginx's configuration still
# uses spotauth directives: without the module, `nginx -t`, reload and
# restart fail with `unknown directive "spotauth_..."`.
# POSIX sh, embedded into the maintainer scripts by packaging/build-deb.sh and
# sourced by build.sh. SPOTAUTH_NGINX_CONF_DIR (default /etc/nginx) lets the
# tests run it against a scratch tree.

# Prints "<file>:<line> <directive>" for the first spotauth directive of each
# configuration file under DIR that uses one (comments, the module's own load
# files, *.example templates and dpkg/editor leftovers are not read by nginx
# and are skipped).
spotauth_directive_users() {
    find "$1" \( -path "$1/modules-enabled" -o -path "$1/modules-available" \) -prune -o -type f \
        ! -name '*.example' ! -name '*.removed' ! -name '*.dpkg-*' ! -name '*~' -print 2>/dev/null \
        | LC_ALL=C sort | while IFS= read -r file; do
            awk -v file="$file" '
                /^[[:space:]]*spotauth[a-z_]*([[:space:];]|$)/ {
                    word = $1; sub(/;.*/, "", word)
                    print file ":" NR " " word
                    exit
                }' "$file" 2>/dev/null || true
        done
}

# Warns on stderr when nginx's configuration under DIR (default
# $SPOTAUTH_NGINX_CONF_DIR or /etc/nginx) still uses spotauth directives.
spotauth_removal_warning() {
    dir="${1:-${SPOTAUTH_NGINX_CONF_DIR:-/etc/nginx}}"
    users="$(spotauth_directive_users "$dir")"
    [ -n "$users" ] || return 0
    {
        echo "WARNING: the spotauth module is being removed, but nginx's configuration still uses its directives:"
        echo "$users" | sed 's/^/  /'
        echo "Without the module, 'nginx -t', reload and restart fail (unknown directive \"spotauth_...\")."
        echo "Remove those lines (or those files) before nginx reloads or restarts, or install the module again."
    } >&2
}
