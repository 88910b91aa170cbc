"""xAPI paths answered where they are asked, never redirected: `/xapi//statements` (an endpoint given with a
trailing slash, and content that appends "/statements") and `/xapi/statements/` reach `/xapi/statements`.
Werkzeug would answer the first with a 308 redirect, which a browser may not follow on a CORS preflight, so
cross-origin content could not reach the LRS at all."""
import re

_SLASHES = re.compile(r"/{2,}")


class XAPIPaths:
    """WSGI middleware, outermost, so routing and the alternate request syntax see the clean path."""

    def __init__(self, app, prefix="/xapi"):
        self.app, self.prefix = app, prefix

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.prefix + "/"):
            clean = _SLASHES.sub("/", path).rstrip("/")
            if clean != path and clean != self.prefix:
                environ["PATH_INFO"] = clean
        return self.app(environ, start_response)
