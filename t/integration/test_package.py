"""`./build.sh package`: the .deb has Debian's libnginx-mod-* layout and the
exact nginx-abi dependency (the list docs/deploy.md shows), installs into the
stock nginx with dpkg, serves a login from the installed module, and goes
away cleanly with dpkg -r/-P, warning about spotauth directives nginx's
configuration still holds; its maintainer scripts install, upgrade, remove
and reinstall against a scratch /etc/nginx as well.

It installs into the system (/usr/lib/nginx/modules, /etc/nginx), so it runs
only as root and only against Debian's own nginx binary. It first clears what
`./build.sh install` (test_install.py) leaves behind, restores nothing, and
ends with the package purged, so the two tests pass in either order.
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import DEBIAN_NGINX, ROOT, Nginx, debian_nginx_only, login

PKG = "libnginx-mod-http-spotauth"
SO = Path("/usr/lib/nginx/modules/ngx_http_spotauth_module.so")
LOAD_FILE = Path("/usr/share/nginx/modules-available/mod-http-spotauth.conf")
ENABLED = Path("/etc/nginx/modules-enabled/50-mod-http-spotauth.conf")
MOVED_ASIDE = Path(f"{ENABLED}.removed")  # where Debian's prerm/postrm put the link on remove
INSTALL_EXAMPLE = Path("/etc/nginx/conf.d/spotauth.conf.example")  # ./build.sh install only
LEFTOVER = Path("/etc/nginx/conf.d/spotauth-test-leftover.conf")  # a configuration still using the module
PROXY_SNIPPET = Path("/etc/nginx/snippets/spotauth-proxy.conf")  # the package's one conffile


pytestmark = [
    debian_nginx_only,  # not under the version matrix (SPOTAUTH_NGINX)
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a package into the system"),
]


def run(*command, check=True, timeout=60):
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, f"{' '.join(map(str, command))}:\n{out.stdout}\n{out.stderr}"
    return out


def package_status():
    """dpkg's status of the package: '' when it is not installed at all."""
    out = run("dpkg-query", "-W", "-f=${Status}", PKG, check=False)
    return "" if out.returncode != 0 or out.stdout.endswith(" not-installed") else out.stdout


def installed_nginx_abi():
    provides = run("dpkg-query", "-W", "-f=${Provides}", "nginx").stdout
    (abi,) = re.findall(r"nginx-abi-[^\s,]+", provides)
    return abi


def remove_leftovers():
    """An earlier run's package, and `./build.sh install`'s files (it has no
    uninstall): their .so and modules-enabled link are the package's paths."""
    if package_status():
        run("dpkg", "--purge", PKG)
    for path in (SO, LOAD_FILE, ENABLED, MOVED_ASIDE, INSTALL_EXAMPLE, LEFTOVER, PROXY_SNIPPET):
        if os.path.lexists(path):
            path.unlink()


def stock_nginx_t():
    return run(DEBIAN_NGINX, "-t", check=False)


@pytest.fixture(scope="module")
def deb():
    remove_leftovers()
    built = run(str(ROOT / "build.sh"), "package", timeout=900)
    return Path(built.stdout.strip().splitlines()[-1])


def documented_depends():
    """The Depends: line docs/deploy.md shows."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    (line,) = re.findall(r"^Depends: (.*)$", text, re.M)
    return line


def package_names(depends):
    return [d.strip().split(" ")[0] for d in depends.split(",")]


def test_package_installs_serves_a_login_and_removes_cleanly(deb, mock, tmp_path):
    arch = run("dpkg", "--print-architecture").stdout.strip()
    abi = installed_nginx_abi()

    # Control fields.
    fields = dict(line.split(": ", 1) for line in run(
        "dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture", "Section", "Priority",
        "Depends").stdout.splitlines())
    assert fields["Package"] == PKG
    assert fields["Architecture"] == arch
    assert fields["Section"] == "httpd" and fields["Priority"] == "optional"
    assert re.fullmatch(r"\d+\.\d+\.\d+(\+git\d{8}\.[0-9a-f]{7,}(\.dirty)?)?", fields["Version"])
    assert deb == ROOT / "build" / f"{PKG}_{fields['Version']}_{arch}.deb" and deb.is_file()
    depends = [d.split(" ")[0] for d in fields["Depends"].split(", ")]
    # The exact ABI of this nginx: apt and dpkg refuse the package next to another build.
    assert depends[0] == abi, fields["Depends"]
    assert not [d for d in depends if d.startswith("nginx-abi-") and d != abi]
    for lib in ("libc6", "libcurl4", "libssl3", "libstdc++6", "libhiredis0.14", "libsimdjson14"):
        assert lib in depends, fields["Depends"]
    # The documented list is the package's, names and versions.
    assert documented_depends() == fields["Depends"], \
        f"docs/deploy.md says\n  Depends: {documented_depends()}\nthe package has\n  Depends: {fields['Depends']}"

    # Contents: Debian's paths, root-owned; under /etc only the proxy
    # snippet, a conffile.
    listing = run("dpkg-deb", "-c", str(deb)).stdout.splitlines()
    paths = {line.split()[-1] for line in listing}
    assert {
        "./usr/lib/nginx/modules/ngx_http_spotauth_module.so",
        "./usr/share/nginx/modules-available/mod-http-spotauth.conf",
        f"./usr/share/doc/{PKG}/copyright",
        f"./usr/share/doc/{PKG}/changelog.Debian.gz",
        f"./usr/share/doc/{PKG}/examples/spotauth.conf",
        f"./usr/share/doc/{PKG}/examples/spotauth-error.html",
        f".{PROXY_SNIPPET}",
    } <= paths
    assert [p for p in paths if p.startswith("./etc") and not p.endswith("/")] == [f".{PROXY_SNIPPET}"]
    assert run("dpkg-deb", "-I", str(deb), "conffiles").stdout == f"{PROXY_SNIPPET}\n"
    assert all(line.split()[1] == "root/root" for line in listing)
    for script in ("postinst", "prerm", "postrm"):
        text = run("dpkg-deb", "-I", str(deb), script).stdout
        assert "mod-http-spotauth.conf:50-mod-http-spotauth.conf" in text, script

    # apt would install it here, and refuses a copy built for another nginx ABI.
    run("apt-get", "install", "-s", str(deb), timeout=120)
    other = tmp_path / "other-abi"
    run("dpkg-deb", "-R", str(deb), str(other))
    control = other / "DEBIAN" / "control"
    control.write_text(control.read_text().replace(abi, "nginx-abi-0.0.0-0"))
    run("dpkg-deb", "--root-owner-group", "-b", str(other), str(tmp_path / "other.deb"))
    refused = run("apt-get", "install", "-s", str(tmp_path / "other.deb"), check=False, timeout=120)
    assert refused.returncode != 0 and "nginx-abi-0.0.0-0" in refused.stdout, refused.stdout

    server = None
    try:
        run("dpkg", "-i", str(deb), timeout=120)
        assert package_status() == "install ok installed"  # Depends satisfied, postinst ran
        assert SO.is_file()
        assert LOAD_FILE.read_text() == "load_module modules/ngx_http_spotauth_module.so;\n"
        assert ENABLED.is_symlink() and os.readlink(ENABLED) == str(LOAD_FILE)
        assert Path(f"/usr/share/doc/{PKG}/examples/spotauth.conf").read_text() == \
            (ROOT / "conf" / "spotauth.conf").read_text()
        assert Path(f"/usr/share/doc/{PKG}/examples/spotauth-error.html").read_text() == \
            (ROOT / "conf" / "spotauth-error.html").read_text()
        assert PROXY_SNIPPET.read_text() == (ROOT / "conf" / "snippets" / "spotauth-proxy.conf").read_text()

        # The stock configuration loads it.
        out = stock_nginx_t()
        assert out.returncode == 0, out.stderr
        dump = run(DEBIAN_NGINX, "-T").stdout
        assert f"# configuration file {ENABLED}:\nload_module modules/ngx_http_spotauth_module.so;" in dump

        # A real login through the installed module, loaded the way the stock
        # config loads it. Debian's load files are relative to nginx's prefix
        # (/usr/share/nginx/modules -> /usr/lib/nginx/modules): give the
        # scratch prefix the same link.
        server = Nginx(mock, load_modules="include /etc/nginx/modules-enabled/*.conf;")
        (server.prefix / "modules").symlink_to("/usr/lib/nginx/modules")
        server.start()
        assert str(SO) in Path(f"/proc/{server.proc.pid}/maps").read_text()
        session, r = login(server, return_to="/dashboard.html")
        assert r.status_code == 302, r.text
        assert r.headers["Location"].endswith("/dashboard.html")
        assert session.cookies.get(server.cookie_name())
        assert server.get("/dashboard.html", session=session).status_code == 200
        server.stop()
        server = None

        # Remove with a spotauth directive still in the configuration: the
        # prerm names the file and line (nginx -t would fail without the module).
        LEFTOVER.write_text("# left behind on purpose by test_package.py\nspotauth_refresh_cache 30s;\n")
        removed = run("dpkg", "-r", PKG, timeout=120)
        warning = removed.stdout + removed.stderr
        assert "still uses its directives" in warning, warning
        assert f"{LEFTOVER}:2 spotauth_refresh_cache" in warning, warning
        LEFTOVER.unlink()
        # Remove: files gone, the link moved aside as Debian's scripts do,
        # and the stock configuration still passes.
        assert package_status() == "deinstall ok config-files"
        assert not SO.exists() and not LOAD_FILE.exists()
        assert not os.path.lexists(ENABLED)
        assert PROXY_SNIPPET.exists()  # a conffile stays until purge
        out = stock_nginx_t()
        assert out.returncode == 0, out.stderr
        # Purge: the moved-aside link goes too.
        run("dpkg", "--purge", PKG, timeout=120)
        assert package_status() == ""
        assert not os.path.lexists(MOVED_ASIDE)
        assert not PROXY_SNIPPET.exists()
    finally:
        if server is not None:
            server.stop()
        if LEFTOVER.exists():
            LEFTOVER.unlink()
        if package_status():
            run("dpkg", "--purge", PKG, check=False, timeout=120)


def maintainer_scripts(deb, tmp_path):
    """The .deb's postinst, prerm and postrm, extracted."""
    control = tmp_path / "control"
    run("dpkg-deb", "-e", str(deb), str(control))
    return {name: control / name for name in ("postinst", "prerm", "postrm")}


def test_maintainer_scripts_against_a_scratch_etc_nginx(deb, tmp_path):
    """Install, upgrade, remove (with and without spotauth directives left),
    reinstall and purge, as dpkg runs the scripts, against a scratch
    /etc/nginx (SPOTAUTH_NGINX_CONF_DIR) and a stub dpkg-trigger."""
    scripts = maintainer_scripts(deb, tmp_path)
    etc = tmp_path / "etc" / "nginx"
    (etc / "modules-enabled").mkdir(parents=True)
    (etc / "conf.d").mkdir()
    stubs = tmp_path / "bin"
    stubs.mkdir()
    triggers = tmp_path / "triggers"
    (stubs / "dpkg-trigger").write_text(f'#!/bin/sh\necho "$@" >> {triggers}\n')
    (stubs / "dpkg-trigger").chmod(0o755)
    env = dict(os.environ, SPOTAUTH_NGINX_CONF_DIR=str(etc), PATH=f"{stubs}:{os.environ['PATH']}")
    link = etc / "modules-enabled" / "50-mod-http-spotauth.conf"
    moved = Path(f"{link}.removed")

    def script(name, *args):
        out = subprocess.run(["sh", str(scripts[name]), *args], env=env, capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0, f"{name} {args}: {out.stderr}"
        return out.stdout + out.stderr

    # A fresh install links the load file; nothing about upgrades.
    out = script("postinst", "configure", "")
    assert os.readlink(link) == str(LOAD_FILE)
    assert "upgraded" not in out
    # An upgrade says a reload is not enough.
    out = script("postinst", "configure", "0.0.9")
    assert "upgraded from 0.0.9" in out and "restart nginx" in out and "USR2" in out, out
    # prerm of an upgrade warns about nothing.
    (etc / "conf.d" / "spotauth.conf").write_text(
        "server {\n    spotauth_client_id abc;\n    location = /auth/login { spotauth_login; }\n}\n")
    (etc / "conf.d" / "spotauth.conf.example").write_text("spotauth_client_id CHANGE-ME;\n")
    (etc / "conf.d" / "old.conf").write_text("# spotauth_client_id was here\nserver_tokens off;\n")
    assert "WARNING" not in script("prerm", "upgrade", "0.2.0")
    # Remove with directives left: each file using them is named, with its
    # first such line; templates and comments are not nginx's configuration.
    out = script("prerm", "remove")
    assert "still uses its directives" in out, out
    assert f"{etc}/conf.d/spotauth.conf:2 spotauth_client_id" in out, out
    assert "spotauth.conf.example" not in out and "old.conf" not in out, out
    assert not os.path.lexists(link) and moved.is_symlink()
    script("postrm", "remove")
    assert "nginx-reload" in triggers.read_text()
    # Without them, a remove is silent.
    (etc / "conf.d" / "spotauth.conf").unlink()
    assert "WARNING" not in script("prerm", "remove")
    # Reinstalling after a remove restores the link dpkg moved aside.
    script("postinst", "configure", "0.1.0")
    assert os.readlink(link) == str(LOAD_FILE) and not os.path.lexists(moved)
    # Purge after a remove deletes the moved link.
    script("prerm", "remove")
    script("postrm", "remove")
    script("postrm", "purge")
    assert not os.path.lexists(link) and not os.path.lexists(moved)
