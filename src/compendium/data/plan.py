"""The plan of one build: which networks and settings it runs, and the hashes of what they read.

:func:`compendium.build.plan.prepare` writes it (``build/plan.json``) after validating and
slicing the data package; the job runners and the book read it. Reading a plan imports no
pandas, so the workflow and each notebook run start fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..paths import ProjectPaths

PLAN_FILE = "plan.json"


@dataclass
class Plan:
    """What one build will run."""

    networks: dict[str, str]  # network_id -> setting
    names: dict[str, str]  # network_id -> pseudonymous name
    data_hash: str
    synthetic: bool
    settings: dict[str, list[str]] = field(default_factory=dict)  # setting -> network_ids
    slice_hashes: dict[str, str] = field(default_factory=dict)  # network_id -> content hash
    inputs: str = ""  # digest of the data, package source and slices the plan was made from

    def __post_init__(self):
        if not self.settings:
            from . import schema

            for setting in schema.SETTINGS:
                ids = sorted(n for n, s in self.networks.items() if s == setting)
                if ids:
                    self.settings[setting] = ids

    def to_json(self) -> str:
        return json.dumps(
            {
                "networks": self.networks,
                "names": self.names,
                "settings": self.settings,
                "data_hash": self.data_hash,
                "synthetic": self.synthetic,
                "slice_hashes": self.slice_hashes,
                "inputs": self.inputs,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        d = json.loads(text)
        return cls(
            d["networks"],
            d["names"],
            d["data_hash"],
            d["synthetic"],
            d["settings"],
            d.get("slice_hashes", {}),
            d.get("inputs", ""),
        )


def read_plan(paths: ProjectPaths) -> Plan:
    return Plan.from_json((paths.build_dir / PLAN_FILE).read_text())
