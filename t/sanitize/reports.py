#!/usr/bin/env python3
"""Judges the sanitizer and valgrind output of a t/sanitize run.

    reports.py asan DIR        ASan/LSan/UBSan report files (log_path=DIR/asan, DIR/ubsan)
    reports.py valgrind DIR    valgrind logs (--log-file=DIR/vg.%p.log)

Prints what counts and a summary; exits 1 when something counts.

A frame "is the module's" when it names the module's shared object, its
sources (this repository) or its symbols (spotauth::, ngx_http_spotauth_*).

ASan: every AddressSanitizer error and every UBSan "runtime error" counts,
wherever it is. A leak counts when its allocation stack has a module frame,
or when it was not allocated by nginx's own allocator (so a leak of libcurl
or OpenSSL memory whose stack lost the module's frames still counts). What
does not count is nginx's own memory, which it never frees by design: the
stacks are then `malloc <- ngx_alloc/ngx_memalign (/usr/sbin/nginx)` and
nothing of the module. In this suite that is the pcre2 compile context of
ngx_regex_compile (72 bytes, per process that has a regex location) and a
worker's connection/event arrays (ngx_event_process_init), which become
unreachable once the worker destroys its cycle pool at exit. LSan's own
suppression files cannot express this rule: a `leak:` pattern matches any
frame of the stack, so `leak:ngx_alloc` would also hide a leak of the
module's ngx_palloc() memory, and the nginx frames that would tell the cases
apart are static functions without symbols in Debian's binary. Anything
in a report that this script does not recognise counts too.

valgrind: an error block (invalid read/write, uninitialised value, invalid
free, definitely lost) counts when one of its stack frames is the module's.
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
MODULE_FRAME = re.compile(r"ngx_http_spotauth|spotauth::|spotauth_core|" + re.escape(ROOT + "/"))
NGINX_OBJECT = re.compile(r"\(/usr/sbin/nginx\+0x[0-9a-f]+\)|\bin ngx_(alloc|calloc|memalign) ")
FRAME = re.compile(r"^\s+#\d+ ")


def module_frame(lines):
    return any(MODULE_FRAME.search(line) for line in lines)


# --------------------------------------------------------------------------
# ASan / LSan / UBSan

LEAK_HEADER = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:$")
STRUCTURE = re.compile(r"^(\s*|=+|==\d+==ERROR: LeakSanitizer: detected memory leaks|"
                       r"SUMMARY: AddressSanitizer: \d+ byte\(s\) leaked in \d+ allocation\(s\)\.)$")


def asan_file(path):
    """-> (counting blocks as text, nginx-own leak (blocks, bytes))"""
    lines = path.read_text(errors="replace").splitlines()
    counting, own_blocks, own_bytes = [], 0, 0
    if any("runtime error:" in line or "ERROR: AddressSanitizer" in line for line in lines) \
            or not any(LEAK_HEADER.match(line) for line in lines):
        return ["\n".join(lines)], 0, 0  # a memory error, UBSan, or something unknown: all of it counts
    i = 0
    while i < len(lines):
        m = LEAK_HEADER.match(lines[i])
        if not m:
            if not STRUCTURE.match(lines[i]):
                counting.append(f"unrecognised line in the report: {lines[i]}")
            i += 1
            continue
        j = i + 1
        while j < len(lines) and FRAME.match(lines[j]):
            j += 1
        block = lines[i:j]
        frames = block[1:]
        # frames[0] is the interceptor (malloc, posix_memalign, operator new).
        allocator = frames[1] if len(frames) > 1 else ""
        if module_frame(frames) or not NGINX_OBJECT.search(allocator):
            counting.append("\n".join(block))
        else:
            own_blocks += 1
            own_bytes += int(m.group(2))
        i = j
    return counting, own_blocks, own_bytes


BACKTRACE_LINE = re.compile(r"^(/\S*ngx_http_spotauth_module\.so)\(\+0x([0-9a-f]+)\)\[0x[0-9a-f]+\]$")


def symbolize(text):
    """Adds file:line to the module's frames in backtrace_symbols() output
    (ubsan_hooks.c writes those)."""
    out = []
    for line in text.splitlines():
        out.append(line)
        m = BACKTRACE_LINE.match(line)
        if m:
            try:
                where = subprocess.run(["addr2line", "-C", "-f", "-i", "-p", "-e", m.group(1),
                                        hex(int(m.group(2), 16) - 1)],
                                       capture_output=True, text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                where = ""
            out.extend("        " + w for w in where.splitlines())
    return "\n".join(out)


def asan(directory):
    files = sorted(p for p in Path(directory).iterdir() if p.is_file() and p.stat().st_size > 0)
    counted = own_files = own_blocks = own_bytes = module = 0
    for path in files:
        blocks, ob, obytes = asan_file(path)
        own_blocks += ob
        own_bytes += obytes
        if blocks:
            counted += 1
            mentions = module_frame(sum((b.splitlines() for b in blocks), []))
            module += mentions
            print(f"---- {path}{' (the module is in it)' if mentions else ''}")
            print(symbolize("\n\n".join(blocks)[:20000]))
        else:
            own_files += 1
    print(f"asan-reports: {counted} reports ({module} with module frames); "
          f"ignored: nginx's own leaks in {own_files} report files, {own_blocks} blocks, {own_bytes} bytes")
    return counted


# --------------------------------------------------------------------------
# valgrind

VG_PREFIX = re.compile(r"^==\d+== ?")
VG_KINDS = re.compile(r"Invalid (read|write|free)|uninitialised|Mismatched free|"
                      r"are definitely lost|Syscall param .* points to unaddressable|"
                      r"Source and destination overlap|Argument 'size' of function")
VG_LOST = re.compile(r"^([\d,]+) \(([\d,]+) direct, ([\d,]+) indirect\) bytes in [\d,]+ blocks are definitely lost|"
                     r"^([\d,]+) bytes in [\d,]+ blocks are definitely lost")


def vg_blocks(text):
    """Splits a valgrind log into its blank-line separated blocks."""
    block = []
    for raw in text.splitlines():
        line = VG_PREFIX.sub("", raw, count=1) if VG_PREFIX.match(raw) else None
        if line is None:
            continue
        if line.strip() == "":
            if block:
                yield block
            block = []
        else:
            block.append(line)
    if block:
        yield block


def lost_bytes(header):
    m = VG_LOST.match(header)
    if not m:
        return 0
    return int((m.group(1) or m.group(4)).replace(",", ""))


def valgrind(directory):
    logs = sorted(Path(directory).glob("vg.*.log"))
    errors = lost = processes = unfinished = noise = 0
    for path in logs:
        text = path.read_text(errors="replace")
        processes += 1
        if "ERROR SUMMARY:" not in text:
            unfinished += 1
            print(f"---- {path}: valgrind did not finish this process (no ERROR SUMMARY)")
        for block in vg_blocks(text):
            if not VG_KINDS.search(block[0]):
                continue
            if module_frame(block):
                if "definitely lost" in block[0]:
                    lost += lost_bytes(block[0])
                errors += 1
                print(f"---- {path}")
                print("\n".join(block))
            else:
                noise += 1
    print(f"valgrind-logs: {processes} logs, {noise} error blocks without module frames (not counted), "
          f"{unfinished} unfinished")
    print(f"valgrind: {processes} processes checked, {errors} errors from the module, "
          f"{lost} bytes definitely lost from the module")
    return errors + unfinished


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("asan", "valgrind"):
        sys.exit(__doc__)
    count = asan(sys.argv[2]) if sys.argv[1] == "asan" else valgrind(sys.argv[2])
    sys.exit(1 if count else 0)


if __name__ == "__main__":
    main()
