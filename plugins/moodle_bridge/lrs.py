"""The LRS as the bridge sees it: its xAPI HTTP API, like any client (the bridge never touches the LRS's database).

The sync checkpoint (the last Moodle log id sent) is kept in the LRS too, as an activity profile document of the
site's activity, written with If-Match on the ETag it was read with: two bridges running at once cannot both
advance it, and a new machine for the bridge carries on where the old one stopped."""
from xapi_client import Client as LRS, Refused, Unreachable, connect as remote  # noqa: F401  (the bridge's names)

CHECKPOINT_PROFILE = "urn:kompetanse-lrs:moodle-bridge:checkpoint"


class CheckpointMoved(Exception):
    """Another bridge advanced the checkpoint since this one read it."""


class Checkpoint:
    """The last Moodle log id whose events are all in the LRS, with running totals for `status`."""

    def __init__(self, lrs: LRS, site_url: str):
        self.lrs, self.site_url = lrs, site_url
        self._where = {"activityId": site_url, "profileId": CHECKPOINT_PROFILE}
        self._etag = None
        self.doc = {}

    def load(self) -> int:
        doc, self._etag = self.lrs.get_document("activities/profile", **self._where)
        self.doc = doc or {"site": self.site_url, "last_log_id": 0, "events": 0, "statements": 0, "skipped": {}}
        return self.last_log_id

    @property
    def last_log_id(self) -> int:
        return int(self.doc.get("last_log_id", 0))

    def advance(self, last_log_id: int, events: int, statements: int, skipped: dict) -> None:
        """Move on to last_log_id: only after the statements of every event up to it are stored."""
        totals = dict(self.doc.get("skipped", {}))
        for name, n in skipped.items():
            totals[name] = totals.get(name, 0) + n
        doc = {"site": self.site_url, "last_log_id": last_log_id, "events": self.doc.get("events", 0) + events,
               "statements": self.doc.get("statements", 0) + statements, "skipped": totals}
        try:
            etag = self.lrs.put_document("activities/profile", doc, self._etag, create_only=self._etag is None,
                                         **self._where)
        except Refused as e:
            if e.status == 412:
                raise CheckpointMoved("another bridge moved the checkpoint of this site since it was read: only "
                                      "one bridge may sync a Moodle site at a time") from e
            raise
        if etag is None:  # an LRS that does not answer a PUT with the new ETag: read it
            _doc, etag = self.lrs.get_document("activities/profile", **self._where)
        self._etag, self.doc = etag, doc
