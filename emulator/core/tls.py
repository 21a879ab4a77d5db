"""HTTPS like the real hosts: a certificate made at start (with its own CA) or one the user gives."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported only when a certificate is made: it is slow to import
    from cryptography import x509

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1", "payapi-sandbox.ingo.money",
                 "iip-session-management-uat.ingo.money")


@dataclass(frozen=True)
class Certificates:
    """Files of a generated certificate chain: clients trust ``ca``; the server uses ``cert`` and ``key``."""

    ca: Path
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ingopay-emulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _alt_names(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    from cryptography import x509

    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def certificate_files(directory: Path) -> Certificates:
    """Where make_certificates writes the chain in ``directory`` (the health probe reads the CA from there)."""
    return Certificates(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")


def make_certificates(directory: Path, names: tuple[str, ...] = DEFAULT_NAMES, *, days: int = 30) -> Certificates:
    """A throwaway CA and a server certificate it signs for ``names``, written to ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("ingopay-emulator local CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(_alt_names(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = certificate_files(directory)
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    paths.key.chmod(0o600)
    return paths


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def client_context(ca_bundle: Path | None) -> ssl.SSLContext | None:
    """For webhook delivery to HTTPS receivers: the system's trust store plus ``ca_bundle``."""
    if ca_bundle is None:
        return None
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_bundle))
    return context


def certificate_directory(tls_dir: Path | None, data_dir: Path | None) -> Path | None:
    """Where --tls writes its certificate: the folder named by --tls-dir, else ``tls`` in the data folder; None
    when neither is set (the caller makes a temporary folder and removes it at exit)."""
    if tls_dir is not None:
        return tls_dir
    return data_dir / "tls" if data_dir is not None else None


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    """A folder for a certificate kept for one run only (removed when the run ends)."""
    return tempfile.TemporaryDirectory(prefix="ingopay-emulator-tls-")
