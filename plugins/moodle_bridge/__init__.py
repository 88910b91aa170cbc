"""The Moodle bridge: learning records out of Moodle, into the LRS as xAPI through the LRS's HTTP API.

Log-store path (this package's `logstore`, `events`, `sync`; CLI `moodle-bridge sync|backfill|status`): Moodle's
standard log read from a checkpoint, each event translated as Moodle's logstore_xapi plugin translates it (`xapi`
holds the shared builders), sent in batches, the checkpoint (last log id) kept in the LRS as an activity profile
of the site, advanced with If-Match after the batch is stored. Statement ids are UUID v5 of site + log id (+ the
statement's number within its event), those of completions UUID v5 of site + the fact (user, module or course,
time, state), the same from both paths; no statement holds the time of sending, so a re-send after a crash, or
the same completion read the other way, is a repeat the LRS recognises.

Web-services path (`webservice`, `websync`; `moodle-bridge sync --source webservice`, or `source: webservice`):
Moodle's REST functions with a token, for sites that give no database access; activity and course completions
and module grades, built with the same `xapi` builders, ids UUID v5 of site + natural key, a checkpoint per
course in the LRS. Course -> competence mapping (`mapping`; `moodle-bridge map`): one evidence rule per
competence through the LRS's rules API. In the LRS app (`job`): both, as a scheduled job. See docs/moodle.md.

Where the bridge departs from logstore_xapi, on purpose:
- a quiz attempt's score is that attempt's own grade (quiz_attempts.sumgrades scaled to the quiz's grade), not
  the user's overall quiz grade at send time, so a backfill gives old attempts their own scores; an attempt that
  waits for manual grading has no score (rather than a false fail);
- SCORM results take min/max/status from the attempt's tracks (4.3+ tables, or the older one) and the event's own
  value; H5P results (mod_h5pactivity statement_received, which logstore_xapi does not translate) become
  completed/passed/failed on the H5P activity with the content's own result;
- no context registration (logstore_xapi derives it from the PHP session, which the log does not keep).
Scores are scaled as logstore_xapi scales them (raw over max: 80 of 100 is 0.8), so competence rules read
statements from the plugin and from the bridge alike."""
