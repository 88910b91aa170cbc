"""One sync: from the checkpoint to the log's end, a batch at a time: read, translate, POST, then advance the
checkpoint. A crash anywhere re-sends at most the one batch whose checkpoint did not move; its statements have
the same ids and content, so the LRS takes them again as the repeats they are. Nothing is lost or doubled."""
import dataclasses
import logging
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor

from plugins.moodle_bridge.events import Skip, Translator
from plugins.moodle_bridge.logstore import Moodle
from plugins.moodle_bridge.lrs import LRS, Checkpoint, Refused

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Summary:
    first_log_id: int = 0
    last_log_id: int = 0
    events: int = 0
    statements: int = 0
    # Statements the LRS holds already with other content: sent before (the Moodle rows changed since).
    kept_earlier: int = 0
    skipped: Counter = dataclasses.field(default_factory=Counter)
    # Where the time goes (seconds): reading Moodle, translating, waiting for the LRS to take a batch (beyond the
    # reading and translating done meanwhile), checkpointing, throttling.
    seconds: Counter = dataclasses.field(default_factory=Counter)

    def line(self) -> str:
        spent = sum(self.seconds.values()) or 1e-9
        return (f"{self.events} events after log id {self.first_log_id} up to {self.last_log_id}: "
                f"{self.statements} statements sent, {sum(self.skipped.values())} events skipped "
                f"({self.events / spent:.0f} events/s)")


def run(settings, moodle: Moodle, lrs: LRS, *, upto: int | None = None, on_batch=None) -> Summary:
    """Sync the events after the checkpoint up to log id `upto` (default: the last one now, so a busy site does
    not keep one run going forever). on_batch(events_done) is called after each batch.

    Up to settings.concurrency batches are in flight at once (the next one is read and translated while the
    last ones are sent); the checkpoint still advances in log order, each time all batches up to it are stored."""
    translator = Translator(settings)
    checkpoint = Checkpoint(lrs, settings.site_url)
    summary = Summary()
    clock = time.monotonic
    t = clock()
    after = summary.first_log_id = summary.last_log_id = checkpoint.load()
    if upto is None:
        upto = moodle.last_log_id()
    summary.seconds["read"] += clock() - t
    started = clock()
    in_flight = deque()

    def finish_oldest():
        t = clock()
        sending, last_id, n_events, n_statements, skipped = in_flight.popleft()
        kept, refused = sending.result()
        summary.kept_earlier += kept
        skipped.update(refused)
        n_statements -= sum(refused.values())
        t2 = clock()
        summary.seconds["send"] += t2 - t
        checkpoint.advance(last_id, n_events, n_statements, skipped)
        summary.seconds["checkpoint"] += clock() - t2
        summary.last_log_id = last_id
        summary.events += n_events
        summary.statements += n_statements
        summary.skipped.update(skipped)
        if on_batch:
            on_batch(n_events)

    with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="moodle-bridge-send") as pool:
        while after < upto:
            t = clock()
            events = moodle.events_after(after, settings.batch_size, upto)
            if not events:
                break
            facts = moodle.facts_for(events, translator.wants)
            t2 = clock()
            summary.seconds["read"] += t2 - t
            statements, skipped = [], Counter()
            for e in events:
                try:
                    statements += translator.translate(e, facts)
                except Skip as why:
                    skipped[str(why)] += 1
            summary.seconds["translate"] += clock() - t2
            in_flight.append((pool.submit(_send, lrs, statements, settings.batch_size), events[-1].id, len(events),
                              len(statements), skipped))
            after = events[-1].id
            while in_flight and (len(in_flight) >= settings.concurrency or in_flight[0][0].done()):
                finish_oldest()
            if after < upto:
                summary.seconds["throttle"] += _throttle(settings, summary.events + sum(
                    b[2] for b in in_flight), clock() - started)
        while in_flight:
            finish_oldest()
    return summary


def _send(lrs: LRS, statements: list[dict], size: int) -> tuple[int, Counter]:
    """POST in batches the LRS takes. Returns how many it held already with other content, and the statements it
    refused as invalid (by reason)."""
    kept, refused = 0, Counter()
    for i in range(0, len(statements), size):
        chunk = statements[i:i + size]
        try:
            lrs.post_statements(chunk)
            continue
        except Refused as e:
            if e.status not in (400, 409):
                raise
        # 409: an id the LRS holds with other content (a re-send after Moodle's rows changed): that record is in
        # the LRS already. 400: a statement the LRS finds invalid (odd Moodle data). Either way, send the batch
        # one by one so the rest land, rather than stop the sync at this batch for good.
        invalid = 0
        for stmt in chunk:
            try:
                lrs.post_statements([stmt])
            except Refused as one:
                if one.status == 409:
                    kept += 1
                    log.warning("statement %s is in the LRS already with other content: kept as it was",
                                stmt["id"])
                elif one.status == 400:
                    invalid += 1
                    refused["refused by the LRS: " + one.message[:200]] += 1
                    log.warning("the LRS refused statement %s: %s", stmt["id"], one.message)
                else:
                    raise
        if invalid == len(chunk) > 1:  # not odd data but something wrong with every statement: stop here
            raise Refused(400, f"the LRS refused every statement of a batch; the first: {next(iter(refused))}")
    return kept, refused


def _throttle(settings, rows_done: int, elapsed: float) -> float:
    """Rest so Moodle's database is not crowded: pause_seconds after each batch, and no more than
    max_rows_per_second on average."""
    rest = settings.pause_seconds
    if settings.max_rows_per_second:
        rest = max(rest, rows_done / settings.max_rows_per_second - elapsed)
    if rest > 0:
        time.sleep(rest)
    return max(rest, 0)


def status(settings, moodle: Moodle, lrs: LRS) -> dict:
    checkpoint = Checkpoint(lrs, settings.site_url)
    last_sent = checkpoint.load()
    last = moodle.last_log_id()
    return {"site": settings.site_url, "last_log_id_sent": last_sent, "last_log_id": last,
            "events_waiting": moodle.count_after(last_sent, last), "events_done": checkpoint.doc.get("events", 0),
            "statements_sent": checkpoint.doc.get("statements", 0), "skipped": checkpoint.doc.get("skipped", {})}
