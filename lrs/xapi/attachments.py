"""xAPI attachments: multipart/mixed requests and responses, and signed statements (xAPI 1.0.3 and 2.0).

A statement request that carries attachment data is multipart/mixed (RFC 2046): the first part is the
statement(s) as application/json, every further part is the raw data of one attachment, with
`Content-Transfer-Encoding: binary` and `X-Experience-API-Hash: <sha2 hex>`. Parts are matched to the
statements' Attachment objects by that hash and nothing else.

A signed statement carries a JWS (RFC 7515, compact serialization) as an attachment with usageType
http://adlnet.gov/expapi/attachments/signature. Its payload is the statement as it was before the signature
was added; the LRS checks that it is well formed, made with RS256/384/512, verifies against the first x5c
certificate when there is one, and that the payload matches the statement sent, by the spec's comparison
rules (differences the LRS itself could have caused are ignored).
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jws

from lrs.xapi.errors import max_depth, too_deep_value

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_ALGS = ("RS256", "RS384", "RS512")

# SHA-2 digests by the length of their hex form. (SHA-512/256 has SHA-256's length; a 64-digit hash is SHA-256.)
_HASHES = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_HEX = re.compile(r"[0-9a-f]+\Z")
_MAX_HEADER_BYTES = 16 * 1024  # of one part's header block
_WSP = b" \t"


class AttachmentError(ValueError):
    """4xx-worthy problem; str(e) says what is wrong for a person
    (e.g. "attachment part 2: X-Experience-API-Hash header missing")."""


@dataclass(frozen=True)
class Part:
    sha2: str  # lower-case hex, as in the X-Experience-API-Hash header
    content_type: str
    content: bytes


# ------------------------------------------------------------------------------------------------ parsing

def parse_multipart(body: bytes, content_type_header: str) -> tuple[bytes, list[Part]]:
    """Split a multipart/mixed xAPI request into the JSON of its first part and its attachment parts.

    Binary-safe and linear in the size of the body. CRLF line ends as RFC 2046 has them; a body whose first
    boundary line ends in a bare LF is read with LF line ends throughout. Parts are numbered from 1 (the
    statements) in messages, so the first attachment is "attachment part 2".
    """
    boundary = _boundary(content_type_header)
    body = bytes(body)
    chunks = _split(body, boundary)
    if not chunks:
        raise AttachmentError(f"the multipart body has no parts (no line --{boundary.decode('latin-1')} found)")

    headers, content = _part(body, *chunks[0], "part 1 (the statements)")
    ctype = headers.get("content-type")
    if ctype is None:
        raise AttachmentError("part 1 (the statements) has no Content-Type header; it must be application/json")
    if _media_type(ctype) != "application/json":
        raise AttachmentError(f"part 1 (the statements) must have Content-Type application/json, not {ctype}")
    statements_json = content

    parts = []
    for n, (start, end) in enumerate(chunks[1:], start=2):
        where = f"attachment part {n}"
        headers, content = _part(body, start, end, where)
        sha2 = headers.get("x-experience-api-hash")
        if sha2 is None:
            raise AttachmentError(f"{where}: X-Experience-API-Hash header missing")
        sha2 = sha2.strip().lower()
        if not _HEX.match(sha2):
            raise AttachmentError(f"{where}: X-Experience-API-Hash {sha2!r} is not a hexadecimal SHA-2 hash")
        cte = headers.get("content-transfer-encoding")
        if cte is None:
            raise AttachmentError(f"{where}: Content-Transfer-Encoding header missing (it must be binary)")
        if cte.strip().lower() != "binary":
            raise AttachmentError(f"{where}: Content-Transfer-Encoding must be binary, not {cte.strip()}")
        parts.append(Part(sha2=sha2, content_type=headers.get("content-type", "").strip(), content=content))
    return statements_json, parts


def _boundary(content_type_header: str) -> bytes:
    msg = Message()
    msg["Content-Type"] = content_type_header or ""
    if msg.get_content_type() != "multipart/mixed":
        raise AttachmentError(f"Content-Type must be multipart/mixed, not {content_type_header or 'missing'}")
    boundary = msg.get_boundary()
    if not boundary:
        raise AttachmentError("multipart/mixed needs a boundary parameter in the Content-Type header, "
                              "e.g. multipart/mixed; boundary=abc123")
    if "\r" in boundary or "\n" in boundary or len(boundary) > 200:
        raise AttachmentError("the multipart boundary parameter is not a usable boundary")
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise AttachmentError("the multipart boundary must be ASCII") from None


def _split(body: bytes, boundary: bytes) -> list[tuple[int, int]]:
    """Where the body parts (header block + content) lie between the boundary lines; [] if there is no first
    boundary line."""
    dash = b"--" + boundary
    # The first boundary line: at the very start, or at the start of a line after a preamble.
    pos = 0 if body.startswith(dash) else _line_start(body, dash, 0)
    while pos >= 0:
        line_end = _delimiter_line_end(body, pos + len(dash))
        if line_end is not None:
            break
        pos = _line_start(body, dash, pos + 1)
    else:
        return []
    closed, start = line_end
    if closed:
        return []
    # Line ends as the first boundary line has them (RFC 2046: CRLF; tolerated: LF).
    eol = b"\r\n" if body[pos + len(dash):start].endswith(b"\r\n") else b"\n"
    delimiter = eol + dash
    chunks = []
    search = start
    while True:
        i = body.find(delimiter, search)
        if i < 0:
            raise AttachmentError("the multipart body does not end with the closing line "
                                  f"--{boundary.decode('latin-1')}--")
        line_end = _delimiter_line_end(body, i + len(delimiter))
        if line_end is None:  # "--boundary" followed by more boundary-ish text: content, not a delimiter
            search = i + 1
            continue
        chunks.append((start, i))
        closed, start = line_end
        if closed:
            return chunks
        search = start


def _line_start(body: bytes, dash: bytes, frm: int) -> int:
    """Where `dash` next begins a line at or after frm (not counting the start of the body), or -1."""
    i = body.find(b"\n" + dash, max(frm - 1, 0))
    return -1 if i < 0 else i + 1


def _delimiter_line_end(body: bytes, j: int):
    """After `--boundary` at j: (True, _) for a closing delimiter, (False, start of next part) for a delimiter
    line, None if the text there does not end a boundary line."""
    if body.startswith(b"--", j):
        return True, len(body)
    n = len(body)
    while j < n and body[j] in _WSP:  # transport padding
        j += 1
    if body.startswith(b"\r\n", j):
        return False, j + 2
    if body.startswith(b"\n", j):
        return False, j + 1
    return None


def _part(body: bytes, start: int, end: int, where: str) -> tuple[dict[str, str], bytes]:
    """Header fields (lower-case names) and content of the body part at body[start:end]."""
    headers: dict[str, str] = {}
    pos, last = start, None
    while True:
        nl = body.find(b"\n", pos, min(end, pos + _MAX_HEADER_BYTES + 1))
        if nl < 0:
            if pos >= end and not headers:
                raise AttachmentError(f"{where}: empty part (a part needs header lines, a blank line, then content)")
            raise AttachmentError(f"{where}: no blank line after the header lines")
        line = body[pos:nl]
        if line.endswith(b"\r"):
            line = line[:-1]
        pos = nl + 1
        if not line:
            return headers, body[pos:end]
        if pos - start > _MAX_HEADER_BYTES:
            raise AttachmentError(f"{where}: header lines longer than {_MAX_HEADER_BYTES} bytes")
        text = line.decode("latin-1")
        if text[0] in " \t":  # folded continuation of the previous field
            if last is None:
                raise AttachmentError(f"{where}: header block starts with a continuation line")
            headers[last] += " " + text.strip()
            continue
        name, sep, value = text.partition(":")
        name = name.strip().lower()
        if not sep or not name or " " in name:
            raise AttachmentError(f"{where}: {text[:80]!r} is not a header line (Name: value)")
        value = value.strip()
        if name in headers and headers[name] != value:
            raise AttachmentError(f"{where}: two different {name} headers")
        headers[name], last = value, name


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


# ------------------------------------------------------------------------------------------------ building

def build_multipart(statement_json: bytes, parts: list[Part]) -> tuple[bytes, str]:
    """A multipart/mixed response: the statement JSON first, then each attachment (once per sha2)."""
    unique = list({p.sha2.lower(): p for p in parts}.values())
    while True:
        boundary = secrets.token_hex(20).encode()
        dash = b"--" + boundary
        if dash not in statement_json and not any(dash in p.content for p in unique):
            break
    crlf = b"\r\n"
    out = [dash, crlf, b"Content-Type: application/json", crlf, crlf, statement_json, crlf]
    for p in unique:
        ctype = " ".join((p.content_type or "application/octet-stream").split())  # no CR/LF into a header
        out += [dash, crlf,
                b"Content-Type: ", ctype.encode("latin-1", "replace"), crlf,
                b"Content-Transfer-Encoding: binary", crlf,
                b"X-Experience-API-Hash: ", p.sha2.lower().encode("ascii"), crlf, crlf,
                p.content, crlf]
    out += [dash, b"--", crlf]
    return b"".join(out), f"multipart/mixed; boundary={boundary.decode()}"


# ------------------------------------------------------------------------------------------------ checking

def check_attachments(statements: list[dict], parts: list[Part]) -> dict[str, Part]:
    """Match the attachment parts of a request to its statements' Attachment objects and check signatures.

    - each part's content must hash (SHA-224/256/384/512, told apart by the length of the hex) to its
      X-Experience-API-Hash;
    - every Attachment object (in a statement or in its SubStatement object) without fileUrl needs a part
      with its sha2; every part must be named by some Attachment object;
    - signature attachments (usageType .../attachments/signature) must be application/octet-stream, come as a
      part, and hold a valid JWS whose payload matches the statement.

    Returns the parts keyed by lower-case sha2 (a part without Content-Type gets its Attachment's contentType).
    """
    by_sha: dict[str, Part] = {}
    number: dict[str, int] = {}
    for n, part in enumerate(parts, start=2):
        sha2 = part.sha2.lower()
        algo = _HASHES.get(len(sha2))
        if algo is None or not _HEX.match(sha2):
            raise AttachmentError(f"attachment part {n}: X-Experience-API-Hash {sha2!r} is not a SHA-256, "
                                  "SHA-384 or SHA-512 hash in hexadecimal")
        if hashlib.new(algo, part.content).hexdigest() != sha2:
            raise AttachmentError(f"attachment part {n}: the content does not have the {algo.upper()} hash "
                                  f"{sha2} given in its X-Experience-API-Hash header")
        if sha2 not in by_sha:
            by_sha[sha2], number[sha2] = part, n

    referenced: dict[str, str] = {}  # sha2 -> contentType of the first Attachment object naming it
    single = len(statements) == 1
    for i, stmt in enumerate(statements):
        path = "statement" if single else f"statement[{i}]"
        if not isinstance(stmt, dict):
            continue
        for where, att in _attachment_objects(stmt, path):
            sha2 = att["sha2"].lower()
            if sha2 in by_sha:
                ctype = att.get("contentType")
                referenced.setdefault(sha2, ctype if isinstance(ctype, str) else "")
            elif "fileUrl" not in att:
                raise AttachmentError(f"{where} has no fileUrl and no attachment part with X-Experience-API-Hash "
                                      f"{sha2} came with it; send the data as a multipart/mixed part, or give "
                                      "a fileUrl")
        _check_signatures(stmt, path, by_sha, number)

    for sha2, part in by_sha.items():
        if sha2 not in referenced:
            raise AttachmentError(f"attachment part {number[sha2]} (X-Experience-API-Hash {sha2}) is not the sha2 "
                                  "of any attachment in the statements")
    out = {}
    for sha2, part in by_sha.items():
        if not part.content_type:
            part = dataclasses.replace(part, content_type=referenced[sha2] or "application/octet-stream")
        out[sha2] = part
    return out


def sha2s_of(stmt: dict) -> list[str]:
    """The lower-case sha2 of every Attachment object of a (valid) statement, its SubStatement's included,
    without repeats: what to store with it, and what to send back for GET statements?attachments=true."""
    out = []
    for _, att in _attachment_objects(stmt, "statement"):
        sha2 = att["sha2"].lower()
        if sha2 not in out:
            out.append(sha2)
    return out


def _attachment_objects(stmt: dict, path: str):
    """(path, Attachment object) of a statement and of its SubStatement object, if it has one."""
    yield from _attachments_of(stmt, path)
    obj = stmt.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        yield from _attachments_of(obj, f"{path}.object")


def _attachments_of(stmt: dict, path: str):
    atts = stmt.get("attachments", [])
    if not isinstance(atts, list):
        raise AttachmentError(f"{path}.attachments must be an array of Attachment objects")
    for j, att in enumerate(atts):
        where = f"{path}.attachments[{j}]"
        if not isinstance(att, dict) or not isinstance(att.get("sha2"), str):
            raise AttachmentError(f"{where} must be an Attachment object with a sha2 string")
        yield where, att


# ------------------------------------------------------------------------------------------------ signatures

def _check_signatures(stmt: dict, path: str, by_sha: dict[str, Part], number: dict[str, int]) -> None:
    for where, att in _attachments_of(stmt, path):
        if att.get("usageType") != SIGNATURE_USAGE:
            continue
        where = f"{where} (signature)"
        ctype = att.get("contentType")
        if not isinstance(ctype, str) or _media_type(ctype) != "application/octet-stream":
            raise AttachmentError(f"{where}: contentType must be application/octet-stream, not {ctype}")
        sha2 = att["sha2"].lower()
        part = by_sha.get(sha2)
        if part is None:
            raise AttachmentError(f"{where}: the JWS must come as an attachment part (multipart/mixed) with "
                                  f"X-Experience-API-Hash {sha2}; a signature cannot be only a fileUrl")
        if part.content_type and _media_type(part.content_type) != "application/octet-stream":
            raise AttachmentError(f"{where}: attachment part {number[sha2]} must have Content-Type "
                                  f"application/octet-stream, not {part.content_type}")
        payload = _verify_jws(part.content, where)
        difference = _payload_difference(payload, stmt)
        if difference is not None:
            raise AttachmentError(f"{where}: the signed statement (the JWS payload) does not match the statement "
                                  f"sent: {difference}")


def _b64url(segment: str, what: str, where: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", segment):
        raise AttachmentError(f"{where}: the JWS {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise AttachmentError(f"{where}: the JWS {what} is not base64url") from None


def _verify_jws(content: bytes, where: str) -> dict:
    """The JWS payload as a dict, after checking the JWS; raises AttachmentError."""
    try:
        token = content.decode("ascii").strip()
    except UnicodeDecodeError:
        raise AttachmentError(f"{where}: the signature is not a JWS (it is not ASCII text)") from None
    if token.startswith("{"):
        raise AttachmentError(f"{where}: the JWS must use the compact serialization "
                              "(header.payload.signature), not the JSON serialization")
    segments = token.split(".")
    if len(segments) != 3:
        raise AttachmentError(f"{where}: the signature is not a JWS in compact serialization "
                              "(header.payload.signature)")
    header_b, payload_b, signature_b = (_b64url(s, w, where) for s, w in
                                        zip(segments, ("header", "payload", "signature")))
    try:
        header = orjson.loads(header_b)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict):
        raise AttachmentError(f"{where}: the JWS header is not a JSON object")
    alg = header.get("alg")
    if alg not in SIGNATURE_ALGS:
        raise AttachmentError(f"{where}: the JWS algorithm must be RS256, RS384 or RS512, not {alg}")
    if "crit" in header:
        raise AttachmentError(f"{where}: the JWS has critical header parameters {header['crit']}, "
                              "which this LRS does not understand")
    if not signature_b:
        raise AttachmentError(f"{where}: the JWS has an empty signature")
    try:
        payload = orjson.loads(payload_b)
    except orjson.JSONDecodeError as e:
        raise AttachmentError(f"{where}: the JWS payload is not valid JSON ({e})") from None
    if too_deep_value(payload):  # it is compared with the statement recursively
        raise AttachmentError(f"{where}: the JWS payload nests JSON more than {max_depth()} levels deep "
                              "(LRS_JSON_MAX_DEPTH)")
    if not isinstance(payload, dict):
        raise AttachmentError(f"{where}: the JWS payload is not a statement (a JSON object)")
    if "x5c" in header:
        _verify_with_x5c(token, alg, header["x5c"], where)
    return payload


def _verify_with_x5c(token: str, alg: str, x5c, where: str) -> None:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise AttachmentError(f"{where}: the JWS x5c header must be a non-empty array of base64 certificates")
    certs = []
    for k, value in enumerate(x5c):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(value, validate=True)))
        except (binascii.Error, ValueError):
            raise AttachmentError(f"{where}: x5c[{k}] is not a base64 DER X.509 certificate") from None
    public_key = certs[0].public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise AttachmentError(f"{where}: the x5c certificate has no RSA key, so it cannot check an {alg} signature")
    verifier = jws.JWS()
    verifier.allowed_algs = list(SIGNATURE_ALGS)
    try:
        verifier.deserialize(token)
        verifier.verify(jwk.JWK.from_pyca(public_key), alg=alg)
    except Exception:  # jwcrypto's InvalidJWSSignature / InvalidJWSObject and key errors
        raise AttachmentError(f"{where}: the JWS signature does not verify against the public key of the first "
                              "certificate in its x5c header") from None


# Statement comparison (Data 2.3.1): differences that the exceptions to statement immutability could have caused
# are ignored. Those are: properties the LRS assigns (id, authority, stored, timestamp, version), Activity
# Definitions, Verb display, timestamp serialization, the order of Group members, attachments, and the case of
# case-insensitive values (UUIDs, e-mail domains, hex hashes). Durations compare as strings to 0.01 s.
_LRS_ASSIGNED = ("authority", "stored", "version", "attachments")
# Registered JWT claims some JWS/JWT libraries add to any payload; they are not statement properties.
_JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")


def _payload_difference(payload: dict, stmt: dict) -> str | None:
    """None if the signed payload matches the statement sent; otherwise where they differ."""
    signed = {k: v for k, v in payload.items() if k not in _LRS_ASSIGNED and k not in _JWT_CLAIMS}
    sent = {k: v for k, v in stmt.items() if k not in _LRS_ASSIGNED}
    # id and timestamp: the LRS fills them in when missing, so only the payload's own values must be kept.
    for name in ("id", "timestamp"):
        if name not in signed:
            sent.pop(name, None)
    return _difference(_norm_statement(signed), _norm_statement(sent), "")


def _norm_statement(s: dict) -> dict:
    return {k: _NORM_PROPERTY.get(k, _as_is)(v) for k, v in s.items() if k != "attachments"}


def _norm_object(o):
    if not isinstance(o, dict):
        return o
    kind = o.get("objectType", "Activity")
    if kind == "Activity":
        return _norm_activity(o)
    if kind in ("Agent", "Group"):
        return _norm_agent(o)
    if kind == "SubStatement":
        return _norm_statement(o)
    if kind == "StatementRef":
        return {**o, "id": _lower(o.get("id"))}
    return o


def _norm_activity(a):
    return {k: v for k, v in a.items() if k != "definition"} if isinstance(a, dict) else a


def _norm_agent(a):
    if not isinstance(a, dict):
        return a
    out = dict(a)
    mbox = out.get("mbox")
    if isinstance(mbox, str) and "@" in mbox:
        local, _, domain = mbox.rpartition("@")
        scheme, colon, rest = local.partition(":")
        out["mbox"] = (scheme.lower() + colon + rest if colon else local) + "@" + domain.lower()
    if "mbox_sha1sum" in out:
        out["mbox_sha1sum"] = _lower(out["mbox_sha1sum"])
    if isinstance(out.get("member"), list):
        members = [_norm_agent(m) for m in out["member"]]
        out["member"] = sorted(members, key=lambda m: orjson.dumps(m, option=orjson.OPT_SORT_KEYS))
    return out


def _norm_result(r):
    if not isinstance(r, dict) or not isinstance(r.get("duration"), str):
        return r
    return {**r, "duration": re.sub(r"([.,]\d{2})\d+S\Z", r"\1S", r["duration"])}


def _norm_context(c):
    if not isinstance(c, dict):
        return c
    out = dict(c)
    if "registration" in out:
        out["registration"] = _lower(out["registration"])
    for name in ("instructor", "team"):
        if name in out:
            out[name] = _norm_agent(out[name])
    if isinstance(out.get("contextActivities"), dict):
        out["contextActivities"] = {
            k: [_norm_activity(a) for a in (v if isinstance(v, list) else [v])]
            for k, v in out["contextActivities"].items()}
    if isinstance(out.get("statement"), dict):
        out["statement"] = _norm_object({"objectType": "StatementRef", **out["statement"]})
    if isinstance(out.get("contextAgents"), list):
        out["contextAgents"] = [{**x, "agent": _norm_agent(x.get("agent"))} if isinstance(x, dict) else x
                                for x in out["contextAgents"]]
    if isinstance(out.get("contextGroups"), list):
        out["contextGroups"] = [{**x, "group": _norm_agent(x.get("group"))} if isinstance(x, dict) else x
                                for x in out["contextGroups"]]
    return out


def _as_is(v):
    return v


def _norm_verb(v):
    return {k: x for k, x in v.items() if k != "display"} if isinstance(v, dict) else v


def _lower(v):
    return v.lower() if isinstance(v, str) else v


def _instant(v):
    """A timestamp as a point in time (UTC, to the millisecond): serialization differences do not count."""
    if not isinstance(v, str):
        return v
    text = re.sub(r"(\.\d{6})\d+", r"\1", v)  # Python reads at most microseconds
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return v
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    t = t.astimezone(timezone.utc)
    return t.replace(microsecond=t.microsecond // 1000 * 1000).isoformat()


# How each statement property is normalised before the signed and the sent statement are compared.
_NORM_PROPERTY = {"id": _lower, "timestamp": _instant, "actor": _norm_agent, "verb": _norm_verb,
                  "object": _norm_object, "result": _norm_result, "context": _norm_context}


def _difference(a, b, path: str) -> str | None:
    """Where two JSON values differ ("result.score.raw: 7 in the signature, 8 sent"), or None."""
    here = path or "the statement"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{k}" if path else k
            if k not in b:
                return f"{sub} is in the signed statement but not in the one sent"
            if k not in a:
                return f"{sub} is in the statement sent but not in the signed one"
            d = _difference(a[k], b[k], sub)
            if d is not None:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{here}: {len(a)} items in the signed statement, {len(b)} in the one sent"
        for n, (x, y) in enumerate(zip(a, b)):
            d = _difference(x, y, f"{path}[{n}]")
            if d is not None:
                return d
        return None
    if _same_scalar(a, b):
        return None
    return f"{here}: {_show(a)} in the signed statement, {_show(b)} in the one sent"


def _same_scalar(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b  # JSON has one number type: 1 and 1.0 are the same
    return type(a) is type(b) and a == b


def _show(v) -> str:
    text = orjson.dumps(v).decode()
    return text if len(text) <= 60 else text[:57] + "..."
