"""Jinja filters: how values read on a page, as people write them ("6 December 2026", "10%",
"$75.00", "1 renewal"), never ISO stamps, fractions, cents or "1 renewals".  Formatting only;
every number comes from a view."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "FILTERS",
    "ceus",
    "day",
    "days_in_words",
    "hour",
    "missing_in_words",
    "money",
    "moment",
    "offset",
    "percent",
    "plural",
    "words",
]


def ceus(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(value):.2f}"


def money(cents: int | None) -> str:
    return "" if cents is None else f"${cents / 100:,.2f}"


def missing_in_words(shortfalls: list[Any]) -> str:
    """[ceus 2.5, fee 7500] -> "2.50 CEUs and the $75.00 fee"."""
    parts = []
    for s in shortfalls:
        if s.requirement == "fee":
            parts.append(f"the {money(int(s.missing))} fee")
        elif s.requirement == "category":
            parts.append(f"{ceus(s.missing)} CEUs of {s.category}")
        elif s.requirement == "source":
            parts.append(
                f"{ceus(s.missing)} more {s.source} CEUs ({ceus(s.required)} needed,"
                f" {ceus(s.counted)} counted)"
            )
        else:
            parts.append(f"{ceus(s.missing)} CEUs")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def days_in_words(days: int) -> str:
    if days > 1:
        return f"{days} days left"
    if days == 1:
        return "1 day left"
    if days == 0:
        return "due today"
    return f"{-days} day{'s' if days < -1 else ''} past the deadline"


def day(value: date | datetime | None) -> str:
    """2026-12-06 -> "6 December 2026" (an instant: its day in UTC); None -> ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime | None) -> str:
    """An instant to the minute, as people write it: "6 December 2026 at 14:05 UTC"."""
    if value is None:
        return ""
    at = value.astimezone(UTC) if value.tzinfo else value
    return f"{day(at)} at {at:%H:%M} UTC"


def age_in_words(then: datetime | None, now: datetime) -> str:
    """How long before `now` `then` was: "just now", "12 seconds ago", "3 minutes ago"; None ->
    "not checked yet" (the chain verification's checkpoint, on the program page)."""
    if then is None:
        return "not checked yet"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now" if seconds < 2 else f"{seconds} seconds ago"


def percent(fraction: Decimal | float | None) -> str:
    """0.10 -> "10%", 0.125 -> "12.5%"."""
    if fraction is None:
        return ""
    shown = (Decimal(str(fraction)) * 100).normalize()
    return f"{shown:f}%"


def plural(n: int, singular: str, many: str | None = None) -> str:
    """(1, "renewal") -> "1 renewal"; (1000, "line") -> "1,000 lines"."""
    return f"{n:,} {singular if n == 1 else (many or singular + 's')}"


def words(value: Any) -> str:
    """An enum-like value as a word: "not_counted" -> "Not counted"; None -> ""."""
    return "" if value is None else str(value).replace("_", " ").capitalize()


def hour(value: datetime | None, like: datetime | None = None) -> str:
    """An instant's time of day to the minute, in the offset of `like` (a workshop session's
    own, so a check-in reads beside the session's times) or else its own: "09:05"."""
    if value is None:
        return ""
    tz = like.tzinfo if like is not None and like.tzinfo is not None else value.tzinfo
    return f"{value.astimezone(tz) if tz else value:%H:%M}"


def offset(value: datetime | None) -> str:
    """An instant's offset from UTC, as a clock's zone is written: "UTC", "UTC-05:00"."""
    if value is None:
        return ""
    delta = value.utcoffset()
    if not delta:
        return "UTC"
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


SOURCE_WORDS = {"approved": "approved activity", "provider": "provider", "self": "self-reported"}
"""A source of credit (SPEC 12) as people say it."""


def source_word(source: str | None) -> str:
    """ "approved" -> "approved activity"; None -> ""."""
    return "" if source is None else SOURCE_WORDS.get(source, source)


def by_source(counted: Any) -> str:
    """The CEUs counted per source, said plainly: a register row (`approved_ceus`, ...) or a
    mapping {source: ceus} -> "12.00 from approved activities, 12.00 self-reported" (sources
    with none left out)."""
    if not isinstance(counted, dict):
        counted = {s: getattr(counted, f"{s}_ceus", 0) for s in SOURCE_WORDS}
    short = {
        "approved": "from approved activities",
        "provider": "from providers, not approved",
        "self": "self-reported",
    }
    parts = [f"{ceus(counted[s])} {short[s]}" for s in SOURCE_WORDS if counted.get(s)]
    return ", ".join(parts)


FILTERS = {
    "day": day,
    "moment": moment,
    "percent": percent,
    "plural": plural,
    "words": words,
    "ceus": ceus,
    "money": money,
    "missing_in_words": missing_in_words,
    "days_in_words": days_in_words,
    "hour": hour,
    "offset": offset,
    "source_word": source_word,
    "by_source": by_source,
}
