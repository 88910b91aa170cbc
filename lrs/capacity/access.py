"""Who sees which units' capacity and indicators, and who may set targets.

    region        every unit, read-only (the regional role)
    admin         every unit; sets targets anywhere
    trust_admin   the trusts (units) in their led_units and below; sets targets there
    leader        the units they lead and below, read-only
    a credential with the scope capacity/read (the region's reporting): every unit, read-only"""
from lrs.principal import Principal

READERS = ("region", "admin", "trust_admin", "leader")
EDITORS = ("admin", "trust_admin")


def visible_units(org, who: Principal | None) -> set[str] | None:
    """The unit ids this person sees (None: all of them, the region)."""
    if who is None or who.has("region") or who.has("admin"):
        return None
    if who.has("trust_admin") or who.has("leader"):
        return set().union(*(org.subtree(u) for u in who.led_units if u in org.units))
    return set()


def editable_units(org, who: Principal) -> set[str] | None:
    if who.has("admin"):
        return None
    if who.has("trust_admin"):
        return set().union(*(org.subtree(u) for u in who.led_units if u in org.units))
    return set()


def sees(org, who, unit_id: str | None) -> bool:
    seen = visible_units(org, who)
    return seen is None or (unit_id is not None and unit_id in seen)


def home_unit(org, who: Principal) -> str | None:
    """Where this person's view starts: the region (None) for the regional role and admins, else their first unit."""
    if visible_units(org, who) is None:
        return None
    led = sorted(u for u in who.led_units if u in org.units)
    return led[0] if led else None
