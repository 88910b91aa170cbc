"""cmi5 course packages for the LMS: read and checked by cmi5_package (the one place for the package checks, shared
with course-builder), stored with a content type per file."""
import mimetypes

from cmi5_package import PackageError, read  # noqa: F401  (what the LMS uses of it)


def content_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
