"""Simulation: instructors log team-training sessions (participants, roles, rating scales, debrief) as xAPI."""


def init_app(app):
    from simulation import web
    web.init_app(app)
