"""Certificate authorities and server certificates made at test time, for a
fake api.spotify.com served over TLS (t/tls_api.py); shared by the
integration tests and the benchmarks. Needs python3-cryptography.

`make_pki(directory)` writes, as PEM files:
  ca.pem                 the root a test trusts (proxy_ssl_trusted_certificate)
  good.pem / good.key    api.spotify.com, issued by an intermediate of that
                         root; good.pem holds the leaf and the intermediate,
                         as real servers send them (a chain of depth 2)
  rogue.pem / rogue.key  api.spotify.com, issued by a root nobody trusts
  other.pem / other.key  another name (www.example.org), from the trusted chain
"""
import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

API_NAME = "api.spotify.com"
OTHER_NAME = "www.example.org"


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer, issuer_key, *, ca, dns_name=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = (builder
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _server(directory, name, dns_name, issuer, issuer_key, chain=()):
    key = _key()
    cert = _certificate(dns_name, key, issuer, issuer_key, ca=False, dns_name=dns_name)
    (directory / f"{name}.pem").write_bytes(_pem(cert) + b"".join(_pem(c) for c in chain))
    _write_key(directory / f"{name}.key", key)


def make_pki(directory):
    directory = Path(directory)
    root_key, intermediate_key, rogue_key = _key(), _key(), _key()
    root = _certificate("spotauth test root", root_key, "spotauth test root", root_key, ca=True)
    intermediate = _certificate("spotauth test intermediate", intermediate_key, "spotauth test root", root_key,
                                ca=True)
    (directory / "ca.pem").write_bytes(_pem(root))
    _server(directory, "good", API_NAME, "spotauth test intermediate", intermediate_key, chain=(intermediate,))
    _server(directory, "other", OTHER_NAME, "spotauth test intermediate", intermediate_key, chain=(intermediate,))
    # A root with the trusted one's very name: only its key differs.
    _server(directory, "rogue", API_NAME, "spotauth test root", rogue_key)
    return directory
