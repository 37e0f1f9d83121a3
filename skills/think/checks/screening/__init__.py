"""Sanctions screening: load a list in the OFAC SDN layout, normalise names, match them fuzzily."""

from skills.think.checks.screening.matcher import DEFAULT_THRESHOLD as DEFAULT_THRESHOLD
from skills.think.checks.screening.matcher import Screener as Screener
from skills.think.checks.screening.matcher import ScreeningHit as ScreeningHit
from skills.think.checks.screening.normalize import NormalizedName as NormalizedName
from skills.think.checks.screening.normalize import normalize_name as normalize_name
from skills.think.checks.screening.watchlist import Alias as Alias
from skills.think.checks.screening.watchlist import WatchlistEntry as WatchlistEntry
from skills.think.checks.screening.watchlist import WatchlistError as WatchlistError
from skills.think.checks.screening.watchlist import load_watchlist as load_watchlist

__all__ = [
    "DEFAULT_THRESHOLD",
    "Alias",
    "NormalizedName",
    "Screener",
    "ScreeningHit",
    "WatchlistEntry",
    "WatchlistError",
    "load_watchlist",
    "normalize_name",
]
