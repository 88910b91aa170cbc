"""Query parameters shared by the xAPI resources: marshmallow fields over lrs.model's validators."""
import orjson
from flask import g
from marshmallow import ValidationError, fields

from lrs.model.agents import ifi
from lrs.model.validation import StatementError, validate_agent


def field_check(validate, *args):
    """Run a validator of lrs.model.validation; its StatementError becomes the parameter's ValidationError."""
    try:
        validate(*args)
    except StatementError as e:
        raise ValidationError(str(e))


class AgentParam(fields.Field):
    """A JSON Agent (or identified Group, where allowed): deserialized to its inverse functional identifier.
    `anonymous` says why an anonymous Group cannot be used here."""

    def __init__(self, groups: bool, anonymous: str, **kwargs):
        super().__init__(**kwargs)
        self.groups, self.anonymous = groups, anonymous

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            agent = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValidationError('must be a JSON Agent, e.g. {"mbox": "mailto:kari@example.no"}')
        if not isinstance(agent, dict):
            raise ValidationError("must be a JSON object (an Agent)")
        field_check(validate_agent, agent, attr, g.xapi_version)
        if agent.get("objectType") == "Group" and not self.groups:
            raise ValidationError("must be an Agent, not a Group (put an identified Group's identifier in an Agent)")
        key = ifi(agent)
        if key is None:
            raise ValidationError(self.anonymous)
        return key
