"""Simulation: instructors log team-training sessions (participants, roles, rating scales, debrief) as xAPI.

A plugin of the LRS (entry point "kompetanse_lrs.plugins", lrs/plugins.py): it talks to the LRS only through its
HTTP APIs (simulation/lrs.py)."""


def init_app(app, host):
    from simulation import web
    app.extensions["simulation.host"] = host  # the LRS's hand: simulation/'s own credential
    web.init_app(app)
