"""Load a sanctions list in the OFAC SDN CSV layout (``sdn.csv`` + optional ``alt.csv``).

``sdn.csv`` has no header and 12 columns: ``ent_num, SDN_Name, SDN_Type, Program, Title,
Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks``. ``alt.csv`` has 5:
``ent_num, alt_num, alt_type (aka/fka/nka), alt_name, alt_remarks``. ``-0-`` means empty. Any
list written in this layout (a national list converted to it, a bank's internal list) loads the
same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

SDN_COLUMNS = 12
ALT_COLUMNS = 5


class WatchlistError(ValueError):
    """A sanctions list file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Alias:
    """Another name of an entry: ``kind`` is ``aka``, ``fka`` (formerly) or ``nka`` (now)."""

    name: str
    kind: str


@dataclass(frozen=True)
class WatchlistEntry:
    """One listed person, entity, vessel or aircraft.

    Attributes:
        uid: the list's entry number (``ent_num``).
        name: the primary name as listed.
        entry_type: ``individual``, ``entity``, ``vessel`` or ``aircraft``.
        programs: sanctions programmes (``SDGT``, ``IRAN``...).
        remarks: the list's remarks (dates of birth, ids, links), empty when none.
        aliases: the other names.
    """

    uid: str
    name: str
    entry_type: str
    programs: tuple[str, ...]
    remarks: str = ""
    aliases: tuple[Alias, ...] = ()

    def names(self) -> Iterator[Alias]:
        """The primary name (kind ``primary``) then every alias."""
        yield Alias(self.name, "primary")
        yield from self.aliases


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == "-0-" else value


def _rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise WatchlistError(f"{path}: cannot read the sanctions list file: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != columns:
                    raise WatchlistError(
                        f"{path}:{reader.line_num}: expected {columns} comma-separated columns "
                        f"(OFAC SDN layout), found {len(row)}"
                    )
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise WatchlistError(f"{path}:{reader.line_num}: not a readable UTF-8 CSV file: {exc}") from exc


def load_watchlist(path: str | Path) -> list[WatchlistEntry]:
    """Read the list at ``path``: a folder holding ``sdn.csv`` (and ``alt.csv``), or ``sdn.csv`` itself.

    Raises:
        WatchlistError: the file is missing, not UTF-8 CSV, or a row has the wrong shape.
    """
    path = Path(path)
    sdn_path = path / "sdn.csv" if path.is_dir() else path
    if not sdn_path.is_file():
        raise WatchlistError(f"{sdn_path}: no sanctions list here (expected sdn.csv in the OFAC SDN layout)")
    entries: dict[str, WatchlistEntry] = {}
    for line, row in _rows(sdn_path, SDN_COLUMNS):
        uid, name = _field(row[0]), _field(row[1])
        if not uid or not name:
            raise WatchlistError(f"{sdn_path}:{line}: an entry needs ent_num and SDN_Name")
        programs = tuple(p.strip() for p in _field(row[3]).strip("[]").split("] [") if p.strip())
        entries[uid] = WatchlistEntry(uid, name, _field(row[2]) or "entity", programs, _field(row[11]))
    aliases: dict[str, list[Alias]] = {uid: [] for uid in entries}
    alt_path = sdn_path.with_name("alt.csv")
    if alt_path.is_file():
        for line, row in _rows(alt_path, ALT_COLUMNS):
            uid, kind, name = _field(row[0]), _field(row[2]), _field(row[3])
            if uid not in entries:
                raise WatchlistError(f"{alt_path}:{line}: alias of unknown entry {uid!r}")
            if name:
                aliases[uid].append(Alias(name, kind or "aka"))
    return [replace(entry, aliases=tuple(aliases[uid])) for uid, entry in entries.items()]
