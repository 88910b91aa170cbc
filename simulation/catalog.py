"""Rating scales and scenarios, as data shipped with the project (simulation/scales/*.yaml, scenarios.yaml).
More scales: drop a YAML file of the same shape into the scales folder (or LRS_SIMULATION_SCALES)."""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Item:
    id: str
    nb: str
    en: str
    min: int
    max: int
    is_global: bool


@dataclass(frozen=True)
class Scale:
    id: str
    name_nb: str
    name_en: str
    levels: tuple  # "team", "participant": who it rates
    items: dict  # id -> Item
    anchors: dict

    @property
    def global_item(self) -> Item | None:
        return next((i for i in self.items.values() if i.is_global), None)


def _scale(raw: dict) -> Scale:
    items = {i["id"]: Item(i["id"], i["nb"], i["en"], int(i["min"]), int(i["max"]), bool(i.get("global")))
             for i in raw["items"]}
    return Scale(raw["id"], raw["name"]["nb"], raw["name"]["en"], tuple(raw.get("levels", ["team", "participant"])),
                 items, raw.get("anchors", {}))


@lru_cache(maxsize=4)
def scales(folder: str = str(HERE / "scales")) -> dict[str, Scale]:
    found = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        scale = _scale(yaml.safe_load(path.read_text(encoding="utf-8")))
        found[scale.id] = scale
    return found


@lru_cache(maxsize=4)
def scenarios(path: str = str(HERE / "scenarios.yaml")) -> dict[str, dict]:
    return {s["id"]: s for s in yaml.safe_load(Path(path).read_text(encoding="utf-8"))}


def competence_rules() -> list[dict]:
    """Evidence rules for the competences each scenario gives evidence for: a completed session of the scenario
    (its sessions have the scenario as context parent). For `lrs competence import` (see `sim rules`)."""
    from simulation.sessions import ADL, V
    return [{"id": f"sim-{scenario['id']}-{code}".lower(), "competence": code, "kind": "any",
             "parts": [{"verbs": [ADL + "completed"], "within": [f"{V}/scenarios/{scenario['id']}"]}]}
            for scenario in scenarios().values() for code in scenario.get("competences", ())]
