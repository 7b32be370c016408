"""The words of the follow-up as people write them (in a matrix, on the command line) and as lmreview keeps them."""

from __future__ import annotations

import datetime as dt
import re

from lmreview.tracking.models import ACTION_STATUSES, STANCES

STANCE_LABELS = {
    "agrees": "Agrees",
    "partially_agrees": "Partially agrees",
    "disagrees": "Disagrees",
    "no_response": "No response yet",
}
STATUS_LABELS = {
    "not_initiated": "Not initiated",
    "initiated": "Initiated",
    "completed": "Completed",
    "no_longer_applicable": "No longer applicable",
}
_STANCE_WORDS = {
    "agree": "agrees",
    "accepted": "agrees",
    "accept": "agrees",
    "partially agree": "partially_agrees",
    "partially accepted": "partially_agrees",
    "partly agrees": "partially_agrees",
    "disagree": "disagrees",
    "rejected": "disagrees",
    "no response": "no_response",
    "": "no_response",
}
_STATUS_WORDS = {"not started": "not_initiated", "ongoing": "initiated", "in progress": "initiated", "n/a": ""}


def _key(value: str) -> str:
    return re.sub(r"[\s_-]+", " ", value.strip().lower()).removesuffix(" yet").strip()


def stance(value: str) -> str | None:
    """``agrees``, ``partially_agrees``, ``disagrees`` or ``no_response`` for a way of writing one; None if unknown."""
    key = _key(value)
    for name in STANCES:
        if key in (name.replace("_", " "), STANCE_LABELS[name].lower().removesuffix(" yet")):
            return name
    return _STANCE_WORDS.get(key)


def status(value: str) -> str | None:
    """An action status from its name or label; None if unknown."""
    key = _key(value)
    for name in ACTION_STATUSES:
        if key in (name.replace("_", " "), STATUS_LABELS[name].lower()):
            return name
    return _STATUS_WORDS.get(key) or None


def stance_choices() -> str:
    return ", ".join(STANCE_LABELS[s].lower().removesuffix(" yet") for s in STANCES)


def status_choices() -> str:
    return ", ".join(STATUS_LABELS[s].lower() for s in ACTION_STATUSES)


_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")


def date(value: str) -> dt.date | None:
    """A date written as 2027-03-31 or 31/03/2027 (day first, as in the reports); None when it is no such day."""
    text = value.strip()
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DMY.match(text)
        if match is None:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
