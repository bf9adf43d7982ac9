"""Opening a session cookie with the `jose` npm package (t/interop), as any
standard JOSE library would: nothing but the key file and the client id."""
import json
import shutil
import subprocess

from conftest import CLIENT_ID, ROOT


def jose_decrypt(key_file, cookie, client_id=CLIENT_ID):
    node = shutil.which("node")
    out = subprocess.run([node, str(ROOT / "t" / "interop" / "decrypt.mjs"), str(key_file), client_id, cookie],
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)
