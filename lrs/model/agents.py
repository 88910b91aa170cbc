"""Inverse functional identifiers: one string per Agent or identified Group, used as the index key."""


def ifi(agent: dict) -> str | None:
    """'mbox:mailto:kari@example.no', 'account:<homePage> <name>', … or None for an anonymous Group."""
    if "mbox" in agent:
        return "mbox:" + agent["mbox"].lower()
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum:" + agent["mbox_sha1sum"].lower()
    if "openid" in agent:
        return "openid:" + agent["openid"]
    if "account" in agent:
        account = agent["account"]
        return "account:" + account["homePage"] + " " + account["name"]
    return None


def members(agent: dict) -> list:
    return agent.get("member") or [] if agent.get("objectType") == "Group" else []
