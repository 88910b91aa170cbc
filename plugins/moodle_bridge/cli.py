"""`moodle-bridge`: Moodle's log to the LRS as xAPI.

    moodle-bridge --config bridge.yaml sync       # what is new since the last run (for cron)
    moodle-bridge --config bridge.yaml backfill   # all history, with a progress bar
    moodle-bridge --config bridge.yaml status     # where the checkpoint is, what waits
    moodle-bridge --config bridge.yaml sync --source webservice   # through Moodle's Web Services instead
    moodle-bridge --config bridge.yaml map        # course -> competence mapping into the LRS's rules

Settings: plugins/moodle_bridge/config.py (a YAML file and/or MOODLE_BRIDGE_* in the environment)."""
import json
import logging
import os

import click

from plugins.moodle_bridge import config, mapping, sync, websync
from plugins.moodle_bridge.logstore import Moodle, MoodleUnavailable
from plugins.moodle_bridge.lrs import CheckpointMoved, Refused, Unreachable, remote
from plugins.moodle_bridge.webservice import MoodleError

FAILURES = (config.ConfigError, MoodleUnavailable, Refused, Unreachable, CheckpointMoved, MoodleError,
            mapping.MappingError)


@click.group(help=__doc__.split("\n\n")[0])
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="MOODLE_BRIDGE_CONFIG",
              help="YAML settings file (or MOODLE_BRIDGE_CONFIG); MOODLE_BRIDGE_* variables override it.")
@click.pass_context
def main(ctx, config_path):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = config_path


def _parts(settings):
    if settings.source != "log":
        raise config.ConfigError("backfill follows Moodle's log (source: log); with source: webservice the first "
                                 "`sync` is the backfill")
    return settings, Moodle(settings.log_db_url, settings.table_prefix), remote(
        settings.lrs_url, settings.lrs_key, settings.lrs_secret, settings.lrs_timeout)


def _guarded(work):
    try:
        return work()
    except FAILURES as e:
        raise click.ClickException(str(e))


def _report(summary: sync.Summary) -> None:
    click.echo(summary.line())
    if summary.kept_earlier:
        click.echo(f"{summary.kept_earlier} statements were in the LRS already with other content (kept as sent)")
    for reason, n in summary.skipped.most_common():
        click.echo(f"  skipped {n}: {reason}")


@main.command("sync", help="Send what is new since the last run (one run; for cron).")
@click.option("--source", type=click.Choice(sorted(config.SOURCES)),
              help="Which way in: Moodle's log (database) or its Web Services (default: the setting source).")
@click.pass_obj
def sync_command(config_path, source):
    def work():
        environ = {**os.environ, **({config.ENV_PREFIX + "SOURCE": source} if source else {})}
        settings = config.load(config_path, environ)
        lrs = remote(settings.lrs_url, settings.lrs_key, settings.lrs_secret, settings.lrs_timeout)
        if settings.source == "webservice":
            summary = websync.run(settings, websync.web_service(settings), lrs)
            click.echo(summary.line())
            for reason, n in summary.skipped.most_common():
                click.echo(f"  skipped {n}: {reason}")
            for problem in summary.problems:
                click.echo(f"WARNING: {problem}", err=True)
            return
        _report(sync.run(settings, Moodle(settings.log_db_url, settings.table_prefix), lrs))
    _guarded(work)


@main.command("map", help="Keep the course -> competence mapping (competence_map) as rules in the LRS.")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.pass_obj
def map_command(config_path, dry_run):
    def work():
        settings = config.load(config_path)
        ws = websync.web_service(settings) if settings.ws_token else None
        lrs = remote(settings.lrs_url, settings.lrs_key, settings.lrs_secret, settings.lrs_timeout)
        for answer in mapping.apply(settings, lrs, ws, dry_run):
            what = ("would change" if dry_run else "saved") if answer["changed"] else "unchanged"
            click.echo(f"{answer['id']}: {what} (version {answer['version']}), "
                       f"{answer['status_changes']} plan status changes")
    _guarded(work)


@main.command("backfill", help="Send all of Moodle's log history not sent yet, with a progress bar.")
@click.pass_obj
def backfill_command(config_path):
    def work():
        settings, moodle, lrs = _parts(config.load(config_path))
        waiting = sync.status(settings, moodle, lrs)
        with click.progressbar(length=waiting["events_waiting"], label="Moodle log events",
                               show_pos=True, file=click.get_text_stream("stderr")) as bar:
            summary = sync.run(settings, moodle, lrs, upto=waiting["last_log_id"], on_batch=bar.update)
        _report(summary)
    _guarded(work)


@main.command("status", help="The checkpoint, the log's last id and what waits.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def status_command(config_path, as_json):
    def work():
        settings = config.load(config_path)
        if settings.source == "webservice":
            lrs = remote(settings.lrs_url, settings.lrs_key, settings.lrs_secret, settings.lrs_timeout)
            found = websync.status(settings, websync.web_service(settings), lrs)
            if as_json:
                click.echo(json.dumps(found, indent=2))
                return
            click.echo(f"site {found['site']} (Moodle {found['moodle']}), through web services:")
            for c in found["courses"]:
                click.echo(f"  course {c['id']} {c['shortname']}: {c['participants']} participants followed, "
                           f"{c['course_completions_sent']} course completions sent")
            return
        settings, moodle, lrs = _parts(settings)
        found = sync.status(settings, moodle, lrs)
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        click.echo(f"site {found['site']}: sent up to log id {found['last_log_id_sent']} of {found['last_log_id']}, "
                   f"{found['events_waiting']} events waiting")
        click.echo(f"so far {found['events_done']} events read, {found['statements_sent']} statements sent")
        for reason, n in sorted(found["skipped"].items(), key=lambda kv: -kv[1]):
            click.echo(f"  skipped {n}: {reason}")
    _guarded(work)


if __name__ == "__main__":
    main()
