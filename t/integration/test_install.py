"""`./build.sh install` into Debian's stock nginx (stripped, idempotent),
`./build.sh uninstall` undoing it with a warning about spotauth directives
left in nginx's configuration, and the annotated template conf/spotauth.conf
staying a valid configuration in the syntax of each nginx version."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MODULE, NGINX, NGINX_VERSION, ROOT, debian_nginx_only, new_key_text, scratch_dir

INSTALLED = "/usr/lib/nginx/modules/ngx_http_spotauth_module.so"


@debian_nginx_only
@pytest.mark.skipif(os.geteuid() != 0, reason="installs into /usr/lib/nginx and /etc/nginx")
def test_install_is_idempotent_and_loads_into_stock_nginx():
    for _ in range(2):
        out = subprocess.run([str(ROOT / "build.sh"), "install"], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr
    assert "openssl rand -base64 32" in out.stdout
    assert os.path.isfile(INSTALLED)
    enabled = "/etc/nginx/modules-enabled/50-mod-http-spotauth.conf"
    assert "load_module /usr/lib/nginx/modules/ngx_http_spotauth_module.so;" in open(enabled).read()
    assert os.path.isfile("/etc/nginx/conf.d/spotauth.conf.example")
    # The snippet the template's locations include, where they include it from.
    with open("/etc/nginx/snippets/spotauth-proxy.conf") as installed:
        assert installed.read() == (ROOT / "conf" / "snippets" / "spotauth-proxy.conf").read_text()
    dump = subprocess.run([NGINX, "-T"], capture_output=True, text=True, timeout=30)
    assert dump.returncode == 0, dump.stderr
    assert "ngx_http_spotauth_module.so" in dump.stdout
    # Stripped like the package's; the build keeps the debug info.
    sections = subprocess.run(["objdump", "-h", INSTALLED], capture_output=True, text=True, timeout=30).stdout
    assert ".debug_info" not in sections
    assert os.path.getsize(INSTALLED) < os.path.getsize(MODULE)


@debian_nginx_only
@pytest.mark.skipif(os.geteuid() != 0, reason="installs into /usr/lib/nginx and /etc/nginx")
def test_uninstall_undoes_install_and_names_leftover_directives():
    out = subprocess.run([str(ROOT / "build.sh"), "install"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    leftover = Path("/etc/nginx/conf.d/spotauth-test-leftover.conf")
    leftover.write_text("spotauth_refresh_cache 30s;\n")
    try:
        out = subprocess.run([str(ROOT / "build.sh"), "uninstall"], capture_output=True, text=True, timeout=60)
    finally:
        leftover.unlink()
    assert out.returncode == 0, out.stderr
    assert f"{leftover}:1 spotauth_refresh_cache" in out.stderr, out.stderr
    for path in (INSTALLED, "/usr/share/nginx/modules-available/mod-http-spotauth.conf",
                 "/etc/nginx/modules-enabled/50-mod-http-spotauth.conf", "/etc/nginx/conf.d/spotauth.conf.example"):
        assert not os.path.lexists(path), path
        assert f"removed {path}" in out.stdout, out.stdout
    assert subprocess.run([NGINX, "-t"], capture_output=True, timeout=30).returncode == 0
    # Nothing left: a second run is quiet and succeeds.
    again = subprocess.run([str(ROOT / "build.sh"), "uninstall"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == "" and "WARNING" not in again.stderr, again


def test_annotated_template_passes_nginx_t():
    prefix = scratch_dir("spotauth-template-")
    (prefix / "logs").mkdir()
    key = prefix / "spotauth.key"
    key.write_text(new_key_text())
    secret = prefix / "client-secret"
    secret.write_text("s3cret\n")
    for path in (key, secret):
        path.chmod(0o600)
    cert, cert_key = prefix / "cert.pem", prefix / "cert.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-days", "1", "-keyout", str(cert_key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    # As `./build.sh install` and `build --nginx-src` write it for this nginx.
    version = ".".join(map(str, NGINX_VERSION))
    template = subprocess.run([str(ROOT / "build.sh"), "example-conf", version], capture_output=True,
                              text=True, timeout=30, check=True).stdout
    snippet = (template
               .replace("CHANGE-ME-client-id", "0123456789abcdef0123456789abcdef")
               .replace("/etc/nginx/spotify-client-secret", str(secret))
               .replace("/etc/nginx/spotauth.key", str(key))
               .replace("/etc/letsencrypt/live/www.example.org/fullchain.pem", str(cert))
               .replace("/etc/letsencrypt/live/www.example.org/privkey.pem", str(cert_key))
               .replace("listen 443 ssl", "listen 127.0.0.1:8443 ssl")
               # No DNS on test machines; nginx resolves upstream hosts at startup.
               .replace("server api.spotify.com:443", "server 127.0.0.1:443")
               .replace("resolver CHANGE-ME-name-server;", "resolver 127.0.0.1;"))
    assert "CHANGE-ME" not in snippet
    # The package's snippet, where the template includes it from (relative
    # to the configuration's directory, /etc/nginx in Debian).
    (prefix / "snippets").mkdir()
    shutil.copy(ROOT / "conf" / "snippets" / "spotauth-proxy.conf", prefix / "snippets")
    (prefix / "nginx.conf").write_text(
        f"load_module {MODULE};\npid logs/nginx.pid;\nerror_log logs/error.log;\n"
        f"events {{}}\nhttp {{\n{snippet}\n}}\n")
    out = subprocess.run([NGINX, "-t", "-p", f"{prefix}/", "-c", "nginx.conf"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "deprecated" not in out.stderr, out.stderr  # the syntax of this nginx
    assert "[warn]" not in out.stderr, out.stderr  # filled in as the comments say: nothing to fix
