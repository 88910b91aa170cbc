"""Test helpers for attachments and signed statements: keys, certificates, JWS signatures and multipart bodies
built the way a client would build them.

    key, cert = signer()                                   # RSA key and a self-signed certificate (cached)
    stmt = statement()                                     # from tests.helpers
    signed, token = signed_statement(stmt, key, cert)      # stmt + a signature Attachment object, and the JWS
    body, ctype = multipart_body(signed, [signature_part(token)])
    xapi.post("/xapi/statements", data=body, content_type=ctype)

    body, ctype, sent = signed_request(stmt)               # the same in one step
    data = b"..."; stmt = with_attachments(stmt, attachment(data, "text/plain"))
    body, ctype = multipart_body(stmt, [("text/plain", data)])
"""
from __future__ import annotations

import base64
import copy
import datetime
import functools
import hashlib
import secrets

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
JWS_TYPE = "application/octet-stream"


# ------------------------------------------------------------------------------------------------ keys

def make_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_cert(key, common_name: str = "kompetanse-lrs test signer", issuer_key=None, issuer_name: str | None = None,
              days: int = 365) -> x509.Certificate:
    """An X.509 certificate for key's public key: self-signed, or signed by issuer_key (named issuer_name)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(issuer_key or key, hashes.SHA256()))


@functools.lru_cache(maxsize=None)
def signer(name: str = "default") -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A key and self-signed certificate, made once per name for the whole test run (RSA keys are slow)."""
    key = make_key()
    return key, make_cert(key, f"kompetanse-lrs test signer {name}")


def x5c(*certs: x509.Certificate) -> list[str]:
    """The JWS x5c header value for a certificate chain (base64 DER, not base64url)."""
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs]


# ------------------------------------------------------------------------------------------------ JWS

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def statement_payload(stmt: dict) -> bytes:
    """The statement as a client signs it: the statement before the signature attachment was added."""
    body = copy.deepcopy(stmt)
    atts = [a for a in body.get("attachments", []) if a.get("usageType") != SIGNATURE_USAGE]
    if atts:
        body["attachments"] = atts
    else:
        body.pop("attachments", None)
    return orjson.dumps(body)


def sign_statement(stmt: dict, key, cert=None, alg: str = "RS256", *, payload: bytes | None = None,
                   header: dict | None = None) -> bytes:
    """A JWS compact serialization signing stmt (or the given raw payload).

    key: an RSA private key (cryptography) for RS*/PS*, or bytes as the secret for HS* algorithms.
    cert: a certificate or a list of them (a chain, signer first) to put in the x5c header.
    header: more protected-header fields (they override alg/x5c)."""
    if isinstance(key, (bytes, bytearray)):
        signing_key = jwk.JWK(kty="oct", k=b64url(bytes(key)))
    else:
        signing_key = jwk.JWK.from_pyca(key)
    protected = {"alg": alg}
    if cert is not None:
        protected["x5c"] = x5c(*(cert if isinstance(cert, (list, tuple)) else [cert]))
    protected.update(header or {})
    token = jws.JWS(payload if payload is not None else statement_payload(stmt))
    token.allowed_algs = [alg]
    token.add_signature(signing_key, alg=alg, protected=orjson.dumps(protected).decode())
    return token.serialize(compact=True).encode()


def compact(header: dict, payload: bytes, signature: bytes = b"") -> bytes:
    """A hand-made JWS compact serialization (for alg "none" and other malformed tokens)."""
    return ".".join((b64url(orjson.dumps(header)), b64url(payload), b64url(signature))).encode()


def tamper(token: bytes) -> bytes:
    """The same JWS with one bit of its signature flipped."""
    head, payload, sig = token.split(b".")
    raw = bytearray(base64.urlsafe_b64decode(sig + b"=" * (-len(sig) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return b".".join((head, payload, b64url(bytes(raw)).encode()))


# ------------------------------------------------------------------------------------------------ attachments

def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def attachment(content: bytes, content_type: str = "text/plain", usage_type: str = "http://example.com/usage/test",
               name: str = "A test attachment", **extra) -> dict:
    """The Attachment object of a statement for this content (sha2 and length computed)."""
    return {"usageType": usage_type, "display": {"en-US": name}, "contentType": content_type,
            "length": len(content), "sha2": sha256(content), **extra}


def with_attachments(stmt: dict, *atts: dict) -> dict:
    out = copy.deepcopy(stmt)
    out["attachments"] = out.get("attachments", []) + list(atts)
    return out


def signed_statement(stmt: dict, key=None, cert=None, alg: str = "RS256", **sign_kw) -> tuple[dict, bytes]:
    """(stmt with a signature Attachment object added, the JWS). key and cert default to signer(); cert=False
    leaves x5c out of the JWS header. sign_kw go to sign_statement (payload=, header=)."""
    if key is None:
        key, default_cert = signer()
        cert = default_cert if cert is None else cert
    token = sign_statement(stmt, key, None if cert is False else cert, alg, **sign_kw)
    return with_attachments(stmt, attachment(token, JWS_TYPE, SIGNATURE_USAGE, "Signature")), token


def signature_part(token: bytes) -> tuple[str, bytes]:
    """The multipart attachment (content type, content) that carries a JWS."""
    return (JWS_TYPE, token)


def signed_request(stmt: dict, *more_parts: tuple, **sign_kw) -> tuple[bytes, str, dict]:
    """(body, Content-Type, statement as sent) for POSTing stmt signed (sign_kw as for signed_statement), with
    any more attachment parts after the signature."""
    signed, token = signed_statement(stmt, **sign_kw)
    body, ctype = multipart_body(signed, [signature_part(token), *more_parts])
    return body, ctype, signed


# ------------------------------------------------------------------------------------------------ bodies

def multipart_body(statements, attachments: list[tuple], *, boundary: str | None = None,
                   eol: bytes = b"\r\n", statements_type: str = "application/json") -> tuple[bytes, str]:
    """A multipart/mixed request body as a client builds it.

    statements: a statement, a list of them, or raw JSON bytes. attachments: (content_type, content) or
    (content_type, content, extra_headers); X-Experience-API-Hash is the SHA-256 of content and
    Content-Transfer-Encoding is binary unless extra_headers says otherwise (a value of None leaves the header
    out). Returns (body, Content-Type header value)."""
    boundary = boundary or "xapi-" + secrets.token_hex(12)
    dash = b"--" + boundary.encode()
    raw = statements if isinstance(statements, (bytes, bytearray)) else orjson.dumps(statements)
    out = [dash, eol, b"Content-Type: " + statements_type.encode(), eol, eol, bytes(raw), eol]
    for item in attachments:
        content_type, content = item[0], item[1]
        extra = item[2] if len(item) > 2 else {}
        headers = {"Content-Type": content_type, "Content-Transfer-Encoding": "binary",
                   "X-Experience-API-Hash": sha256(content)}
        for name, value in extra.items():
            for known in list(headers):
                if known.lower() == name.lower():
                    del headers[known]
            headers[name] = value
        out.append(dash + eol)
        for name, value in headers.items():
            if value is not None:
                out.append(f"{name}: {value}".encode() + eol)
        out += [eol, content, eol]
    out += [dash, b"--", eol]
    quoted = f'"{boundary}"' if any(c in boundary for c in "()<>@,;:\\\"/[]?= '") else boundary
    return b"".join(out), f"multipart/mixed; boundary={quoted}"
