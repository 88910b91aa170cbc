"""xAPI 1.0.3's alternate request syntax: a browser that cannot send PUT, custom headers or cross-origin GET posts
a form to `?method=PUT` instead. This WSGI middleware turns such a request back into the one it stands for."""
import io
from urllib.parse import parse_qsl, urlencode

_HEADERS = {"authorization": "HTTP_AUTHORIZATION", "x-experience-api-version": "HTTP_X_EXPERIENCE_API_VERSION",
            "content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH", "if-match": "HTTP_IF_MATCH",
            "if-none-match": "HTTP_IF_NONE_MATCH"}
_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}


class AlternateRequestSyntax:
    def __init__(self, app, prefix="/xapi/", max_body=20 * 1024 * 1024):
        self.app, self.prefix, self.max_body = app, prefix, max_body

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(self.prefix):
            query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if any(k == "method" for k, _ in query):
                environ = self._rewrite(environ, query)
        return self.app(environ, start_response)

    def _rewrite(self, environ, query):
        if len(query) != 1:  # everything else must travel in the form body
            return self._reject(environ, "with the alternate request syntax, method must be the only query parameter")
        method = query[0][1].upper()
        if method not in _METHODS:
            return self._reject(environ, f"method={query[0][1]} is not an xAPI method")
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return self._reject(environ, "the alternate request syntax needs Content-Type application/x-www-form-urlencoded")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > self.max_body:
            return self._reject(environ, "request body too large")
        body = environ["wsgi.input"].read(length)
        if len(body) < length:  # the client left halfway: what came is not the request it meant
            return self._reject(environ, "the request body ended before its Content-Length")
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        new = {k: v for k, v in environ.items() if k not in ("CONTENT_TYPE", "CONTENT_LENGTH")}
        new["REQUEST_METHOD"] = method
        new["xapi.alternate_syntax"] = True
        params, content = [], b""
        for name, value in form:
            header = _HEADERS.get(name.lower())
            if name == "content":
                content = value.encode("utf-8")
            elif header:
                new[header] = value
            else:
                params.append((name, value))
        new["QUERY_STRING"] = urlencode(params)
        new["wsgi.input"] = io.BytesIO(content)
        new["CONTENT_LENGTH"] = str(len(content))
        if content and "CONTENT_TYPE" not in new:
            new["CONTENT_TYPE"] = "application/json"
        return new

    @staticmethod
    def _reject(environ, message):
        new = dict(environ)
        new["xapi.alternate_syntax_error"] = message
        return new
