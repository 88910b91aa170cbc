"""X-Experience-API-Version negotiation: every 1.0.x and 2.0.x request is served."""
import re

from lrs.xapi.errors import bad_request

SUPPORTED = ("1.0.3", "2.0.0")  # what About reports, newest last
_V1 = re.compile(r"1\.0(\.\d+)?\Z")
_V2 = re.compile(r"2\.0(\.\d+)?\Z")


def negotiate(header: str | None) -> str:
    """The version this request is served under: '1.0.3' or '2.0.0'."""
    if not header:
        raise bad_request("the X-Experience-API-Version header is required (e.g. 1.0.3 or 2.0.0)")
    header = header.strip()
    if _V1.match(header):
        return "1.0.3"
    if _V2.match(header):
        return "2.0.0"
    raise bad_request(f"X-Experience-API-Version {header!r} is not supported; this LRS serves 1.0.x and 2.0.x")
