"""Names of parties on the real OFAC SDN list, written the way they arrive in payments.

A payment never spells a listed name exactly as the list does: persons are written given name
first (the list writes ``SURNAME, Given``), case and punctuation change, legal forms are spelt
differently. The variations used here are the ones a screening step must catch; the sanctions
list is read from the shared OFAC snapshot (the same one ``think.screen_names`` loads by default).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from examples.messages.parties import is_swift_x
from skills.think.check_skills import DEFAULT_SANCTIONS_LIST as DEFAULT_SDN_FOLDER  # the shipped snapshot

MAX_NAME = 33  # an MT103 50F/59 name line


@dataclass(frozen=True)
class ListedName:
    """A name written in a payment and the SDN entry it stands for."""

    written: str
    uid: str
    listed_name: str
    entry_type: str
    variation: str


class SanctionsListMissingError(RuntimeError):
    """The SDN snapshot is not where the generator looks for it."""


def load_candidates(folder: Path = DEFAULT_SDN_FOLDER) -> list[tuple[str, str, str]]:
    """(uid, listed name, type) of persons and entities whose names fit an MT103 party line."""
    from skills.think.checks.screening.watchlist import load_watchlist

    if not (folder / "sdn.csv").is_file():
        raise SanctionsListMissingError(f"the OFAC SDN snapshot is missing: expected {folder / 'sdn.csv'}")
    candidates = []
    for entry in load_watchlist(folder):
        if entry.entry_type not in ("individual", "entity"):
            continue
        name = entry.name.strip()
        words = re.findall(r"[A-Za-z]+", name)
        if not is_swift_x(name) or len(words) < 2 or len(name) > MAX_NAME or any(len(w) < 2 for w in words):
            continue
        candidates.append((entry.uid, name, entry.entry_type))
    return candidates


def _person_as_written(name: str) -> str:
    """``SURNAME, Given Names`` -> ``Given Names SURNAME`` (how a payment names a person)."""
    if "," in name:
        surname, given = (part.strip() for part in name.split(",", 1))
        return f"{given} {surname}".strip()
    return name


def _entity_as_written(name: str, rng: random.Random) -> str:
    """Case and punctuation as a clerk abroad would type them; legal forms spelt another way."""
    written = re.sub(r"[.,']", "", name)
    written = re.sub(r"\bLTD\b", rng.choice(["LTD", "LIMITED"]), written, flags=re.IGNORECASE)
    written = re.sub(r"\s+", " ", written).strip()
    return written if rng.random() < 0.5 else written.title()


class ListProximity:
    """Tells whether a generated name is close to a listed one (score at or above ``threshold``).

    Clean parties must not be listed parties: a randomly built name such as NORTHSTAR TRADING
    GMBH can coincide with a real SDN entity (NORTHSTAR TRADING CORPORATION), and a compliance
    officer would rightly stop it. The generator draws clean names again until they are clearly
    away from the list; the threshold (80) is below the routing threshold (85), so a clean name
    is never a borderline case either.
    """

    def __init__(self, folder: Path = DEFAULT_SDN_FOLDER, threshold: float = 80.0) -> None:
        from skills.think.checks.screening import Screener

        if not (folder / "sdn.csv").is_file():
            raise SanctionsListMissingError(
                f"the OFAC SDN snapshot is missing: expected {folder / 'sdn.csv'}"
            )
        self.screener = Screener.from_path(folder)
        self.threshold = threshold

    @classmethod
    @cache
    def of(cls, folder: Path = DEFAULT_SDN_FOLDER) -> ListProximity:
        """One per list folder and process (indexing the list takes a second or two)."""
        return cls(folder)

    def too_close(self, *names: str) -> bool:
        return any(self.screener.screen(name, threshold=self.threshold, limit=1) for name in names if name)


def listed_names(count: int, rng: random.Random, folder: Path = DEFAULT_SDN_FOLDER) -> list[ListedName]:
    """``count`` different listed parties, each written as it would arrive in a payment."""
    candidates = load_candidates(folder)
    chosen = rng.sample(candidates, count)
    names = []
    for uid, listed, entry_type in chosen:
        if entry_type == "individual":
            written, variation = _person_as_written(listed), "given_name_first"
        else:
            written, variation = _entity_as_written(listed, rng), "case_punctuation_legal_form"
        if len(written) > MAX_NAME:  # a spelt-out legal form made it too long for MT
            written = re.sub(r"\bLIMITED\b", "LTD", written, flags=re.IGNORECASE)[:MAX_NAME].rstrip()
        names.append(ListedName(written, uid, listed, entry_type, variation))
    return names
