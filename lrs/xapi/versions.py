"""X-Experience-API-Version negotiation: every 1.0.x and 2.0.x request is served.

A request negotiates the version its header names (1.0.x is served as 1.0.3, 2.0.x as 2.0.0), and every answer
to it says that version, errors included. A request whose header is missing or names no version served here has
negotiated none: it is refused with 400 (About and CORS preflights need no header), and those answers say the
LRS_XAPI_DEFAULT_VERSION setting, because there is nothing in the request to echo (docs/conformance.md)."""
import re

from lrs.xapi.errors import bad_request

SUPPORTED = ("1.0.3", "2.0.0")  # what About reports, newest last
_V1 = re.compile(r"1\.0(\.\d+)?\Z")
_V2 = re.compile(r"2\.0(\.\d+)?\Z")


def parse(header: str | None) -> str | None:
    """The version a request with this header is served under ('1.0.3' or '2.0.0'), or None."""
    header = (header or "").strip()
    if _V1.match(header):
        return "1.0.3"
    if _V2.match(header):
        return "2.0.0"
    return None


def negotiate(header: str | None) -> str:
    """parse(header), or 400 saying why the request cannot be served."""
    version = parse(header)
    if version:
        return version
    if not header:
        raise bad_request("the X-Experience-API-Version header is required (e.g. 1.0.3 or 2.0.0)")
    raise bad_request(f"X-Experience-API-Version {header.strip()!r} is not supported; "
                      "this LRS serves 1.0.x and 2.0.x")
