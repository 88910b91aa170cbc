"""The pages, one module per audience, all on the one `web` blueprint (endpoints `web.<view>`):

- `auth`: sign-in and -out, language, the start page by role;
- `plan`: an employee's competence plan, evidence and certificates;
- `leader`: a unit's matrix, expiry, forecast, attestation and exports;
- `admin`: users, credentials, rules, imports, the outbox, the audit log;
- `author`: course authors' modules and numbers;
- `browser`: the statement browser;
- `capacity`: staffing targets, the capacity forecast and the monthly indicators (region, trusts, units).
- `programmes`: education programmes (progression, trainees, overview, record).

`base` holds the blueprint and what the modules share, `forms` the forms, lrs.web.guard `login_required` and
`audit`. Each view checks who is asking, reads through a service (no SQL here) and renders a template."""
from lrs.web.pages import admin, auth, author, browser, capacity, leader, plan, programmes  # each adds its views to bp
from lrs.web.pages.base import bp

__all__ = ["bp", "admin", "auth", "author", "browser", "capacity", "leader", "plan", "programmes"]
