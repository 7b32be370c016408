"""Question types as pyxform knows them, and what lmreview does with each.

pyxform's own type table (``question_type_dictionary``) says, for every type name an XLSForm may use (``phone
number``, ``imei``, ``uri:deviceid``, ``add date prompt``, ``gps`` ...), which XForm control and data type it
becomes. lmreview reads the same table, so it accepts every name pyxform accepts and gives it one of its own types:
a question it serves, a metadata field the device fills in (kept from imports, never shown), or a feature it does
not support, named in one sentence when the form is refused.

The answers of the types beyond text and numbers are XForm strings, checked here: a time ``10:30:00.000+02:00``, a
date and time ``2024-05-01T10:30:00.000+02:00``, a geopoint ``lat lon [altitude [accuracy]]``, a geotrace or
geoshape of such points joined by ``;``, a range's number within its parameters, a trigger's ``OK``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# lmreview's own types: the ones the web form renders and the engine checks.
SERVED = (
    *("text", "integer", "decimal", "date", "time", "datetime", "select_one", "select_multiple", "note"),
    *("calculate", "trigger", "range", "geopoint", "geotrace", "geoshape", "rank"),
    *("image", "audio", "video", "file"),  # a file sent with the answers (questionnaire/media.py)
)
MEDIA_TYPES = ("image", "audio", "video", "file")
# Filled by the device in ODK/Kobo: lmreview keeps them from imports and does not ask them.
META = (
    *("start", "end", "today", "deviceid", "username", "email", "audit", "phonenumber", "simserial"),
    *("subscriberid", "start-geopoint", "background-geopoint", "background-audio"),
)
_BIND_TYPES = {
    "string": "text",
    "barcode": "text",  # typed in by hand where no scanner is at hand, as Enketo does
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "time": "time",
    "dateTime": "datetime",
    "geopoint": "geopoint",
    "geotrace": "geotrace",
    "geoshape": "geoshape",
}
_MEDIA = {"image/*": "image", "audio/*": "audio", "video/*": "video", "application/*": "file", "osm/*": "osm"}


@dataclass(frozen=True)
class Kind:
    """What a type name means for lmreview: ``type`` (served or metadata), or ``unsupported`` (the feature)."""

    type: str | None = None
    unsupported: str | None = None


def classify(name: str) -> Kind | None:
    """The kind of a type name pyxform knows (exactly, then ignoring case); None for a name pyxform does not know."""
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT as TYPES

    entry = TYPES.get(name)
    if entry is None:
        lowered = {key.lower(): key for key in TYPES}
        entry = TYPES.get(lowered.get(name.lower(), ""))
    if entry is None:
        return None
    control, bind = entry.get("control", {}), entry.get("bind", {})
    tag, data_type = control.get("tag"), bind.get("type")
    key = name.lower()
    if bind.get("jr:preload"):
        return Kind(type=str(bind.get("jr:preloadParams", key)).removeprefix("uri:"))
    if key in META:
        return Kind(type=key)
    if tag is None:
        if key in ("csv-external", "xml-external"):
            return Kind(unsupported=f"external data files ({key})")
        return Kind(type="calculate")
    if tag == "upload":
        media = _MEDIA.get(str(control.get("mediatype")), key)
        if media in MEDIA_TYPES:
            return Kind(type=media)
        return Kind(unsupported=f"{media} questions (files sent with the answers)")
    if tag == "range":
        return Kind(type="range")
    if tag == "trigger":
        return Kind(type="trigger")
    if tag == "odk:rank":
        return Kind(unsupported="rank questions")
    if tag == "input" and data_type in _BIND_TYPES:
        return Kind(type="note" if "note" in key else _BIND_TYPES[str(data_type)])
    return Kind(unsupported=f"{name} questions")


# --- answers ------------------------------------------------------------------------------------------------------

_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?"
TIME = re.compile(_TIME)
DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ]" + _TIME)
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
POINT = re.compile(rf"\s*({_NUMBER})\s+({_NUMBER})(\s+({_NUMBER}))?(\s+({_NUMBER}))?\s*")
MESSAGES = {
    "time": "Enter a time as HH:MM (24 hours), e.g. 14:30.",
    "datetime": "Enter a date and a time, e.g. 2024-05-01T14:30.",
    "geopoint": "Enter a location as latitude and longitude in degrees, e.g. 12.3714 -1.5197 (altitude and "
    "accuracy in metres may follow).",
    "geotrace": "Enter at least 2 points, each as latitude and longitude, separated by ';'.",
    "geoshape": "Enter at least 4 points, each as latitude and longitude, separated by ';'; the last point is the "
    "first one again.",
    "trigger": "Tick the box to confirm.",
    "range": "Choose a number from {start} to {end} in steps of {step}.",
    "media": "A file answer is the name of a file, without folders (e.g. photo.jpg).",
}


def file_name_error(text: str) -> str | None:
    """What is wrong with the answer to an image, audio, video or file question: the name of the file sent with
    the answers (as Kobo and ODK write it), never a path."""
    if "/" in text or "\\" in text or text in (".", "..") or len(text) > 255 or text != text.strip():
        return MESSAGES["media"]
    return None


def point_error(text: str) -> str | None:
    match = POINT.fullmatch(text)
    if match is None:
        return MESSAGES["geopoint"]
    latitude, longitude = float(match[1]), float(match[3])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return "A latitude is between -90 and 90, a longitude between -180 and 180."
    accuracy = match[9]
    if accuracy is not None and float(accuracy) < 0:
        return "The accuracy is a distance in metres, 0 or more."
    return None


def points(text: str) -> list[tuple[float, float]]:
    """The (latitude, longitude) of each point of a geopoint, geotrace or geoshape answer that reads as one."""
    found = []
    for part in text.split(";"):
        if part.strip() and (match := POINT.fullmatch(part)) and point_error(part) is None:
            found.append((float(match[1]), float(match[3])))
    return found


@dataclass(frozen=True)
class RangeParameters:
    start: float = 1.0
    end: float = 10.0
    step: float = 1.0

    def text(self, value: float) -> str:
        return f"{value:g}"


def range_parameters(text: str | None) -> RangeParameters:
    """``start=1 end=10 step=1`` (pyxform's ``parameters`` column, its defaults for a range)."""
    values: dict[str, float] = {}
    for key, value in re.findall(r"(start|end|step)\s*=\s*(-?[0-9.]+)", text or ""):
        try:
            values[key] = float(value)
        except ValueError:
            continue
    return RangeParameters(**values)


def value_error(question_type: str, value: str, parameters: str | None = None) -> str | None:
    """What is wrong with an answer to a time, datetime, geo, range or trigger question; None when it is fine or
    the type is not one of these."""
    text = value.strip()
    if question_type == "time":
        return None if TIME.fullmatch(text) else MESSAGES["time"]
    if question_type == "datetime":
        match = DATETIME.fullmatch(text)
        if match is None or not (1 <= int(match[2]) <= 12 and 1 <= int(match[3]) <= 31):
            return MESSAGES["datetime"]
        return None
    if question_type == "geopoint":
        return point_error(text)
    if question_type in ("geotrace", "geoshape"):
        parts = [p for p in text.split(";") if p.strip()]
        problems = [point_error(p) for p in parts]
        if any(problems):
            return next(p for p in problems if p)
        fewest = 2 if question_type == "geotrace" else 4
        if len(parts) < fewest:
            return MESSAGES[question_type]
        if question_type == "geoshape" and points(parts[0])[0] != points(parts[-1])[0]:
            return MESSAGES["geoshape"]
        return None
    if question_type == "trigger":
        return None if text == "OK" else MESSAGES["trigger"]
    if question_type in MEDIA_TYPES:
        return file_name_error(text)
    if question_type == "range":
        bounds = range_parameters(parameters)
        message = MESSAGES["range"].format(
            start=bounds.text(bounds.start), end=bounds.text(bounds.end), step=bounds.text(bounds.step)
        )
        if not re.fullmatch(_NUMBER, text):
            return message
        number = float(text)
        low, high = sorted((bounds.start, bounds.end))
        steps = (number - bounds.start) / bounds.step if bounds.step else 0.0
        if not low <= number <= high or not math.isclose(steps, round(steps), abs_tol=1e-9):
            return message
    return None
