"""The documentation keeps up with the code: every directive of the module's
command table has its entry in docs/directives.md, every relative link (and
its #anchor) in README.md and docs/ resolves, and the README stays a short
page with a table of contents. Reads files only: no nginx, no network."""
import re
from pathlib import Path

import pytest

from conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
# Written on other branches at the same time; the lead drops this set once
# they are merged (links to them are then checked like the others).
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def command_table_directives():
    """The names in every ngx_command_t array of the module's sources."""
    names = set()
    for source in [ROOT / "ngx_http_spotauth_module.cpp", *sorted((ROOT / "nginx").glob("*.cpp"))]:
        text = source.read_text()
        for table in re.finditer(r"ngx_command_t\s+\w+\[\]\s*=\s*\{(.*?)ngx_null_command", text, re.S):
            names.update(re.findall(r'"(spotauth[a-z_]*)"', table.group(1)))
    return names


def prose_lines(text):
    """The lines of a Markdown text outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield line


def anchor(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped but
    '-' and '_', spaces as '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors_of(path):
    found, seen = set(), {}
    for line in prose_lines(path.read_text()):
        match = re.match(r"#{1,6} (.*)", line)
        if match:
            base = anchor(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_the_command_table_is_found():
    names = command_table_directives()
    assert {"spotauth", "spotauth_client_id", "spotauth_login", "spotauth_health"} <= names, names


@pytest.mark.parametrize("directive", sorted(command_table_directives()))
def test_every_directive_has_its_entry(directive):
    entries = set()
    for line in prose_lines((ROOT / "docs" / "directives.md").read_text()):
        if line.startswith("### "):
            entries.update(name.strip(" `") for name in line[4:].split(","))
    assert directive in entries, f"docs/directives.md has no '### {directive}' entry"


def test_the_endpoints_of_the_docs_are_listed():
    # Every directive heading names a real directive (no stale entries).
    entries = set()
    for line in prose_lines((ROOT / "docs" / "directives.md").read_text()):
        if line.startswith("### spotauth"):
            entries.update(name.strip(" `") for name in line[4:].split(","))
    assert entries <= command_table_directives(), entries - command_table_directives()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for line in prose_lines(page.read_text()):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, data:
                continue
            path_part, _, fragment = target.partition("#")
            linked = (page.parent / path_part).resolve() if path_part else page
            relative = linked.relative_to(ROOT).as_posix() if linked.is_relative_to(ROOT) else str(linked)
            if not linked.exists():
                broken.append(f"{target}: no {relative}")
            elif fragment and linked.suffix == ".md" and fragment not in anchors_of(linked):
                broken.append(f"{target}: no heading #{fragment} in {relative}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_readme_is_short_with_a_table_of_contents():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 320
    assert re.search(r"^## Contents$", readme, re.M)
    # The two set-up commands and the test command stay.
    assert "./build.sh demo" in readme and "./build.sh test" in readme
    for doc in ("directives.md", "deploy.md", "operations.md", "frontend.md", "security.md",
                "performance.md", "development.md"):
        assert f"docs/{doc}" in readme, doc


def test_no_page_is_orphaned():
    linked = set()
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            path_part = target.partition("#")[0]
            if path_part.endswith(".md"):
                linked.add((page.parent / path_part).resolve())
    orphans = [doc.name for doc in DOCS if doc.resolve() not in linked]
    assert not orphans, f"no page links to {orphans}"


def directive_lines(text):
    """The nginx directives of a configuration text, comments and layout
    stripped: one string per directive, `{ ... }` blocks opened and closed."""
    words = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(" ".join(line.split()))
    flat = " ".join(words).replace("{", "{;").replace("}", ";};")
    return {d.strip() for d in flat.split(";") if d.strip() not in ("", "{", "}")}


def test_readme_configuration_is_the_shipped_templates():
    """What the README tells people to copy is what conf/spotauth.conf
    ships and the production tests run: every directive of the README's
    nginx block is in the template (placeholders aside)."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", readme, re.S).group(1)
    template = directive_lines((ROOT / "conf" / "spotauth.conf").read_text())
    missing = [d for d in directive_lines(block)
               if d not in template and "<your client id>" not in d and d != "server {"]
    assert not missing, f"README's configuration differs from conf/spotauth.conf: {missing}"
