"""Country names and codes (ISO 3166-1), as review teams write them.

Files name countries by ISO alpha-3 or alpha-2 code, by their ISO short name ("Viet Nam") or by the name people use
("Vietnam", "BiH", "Tanzania", "former Yugoslav Republic of Macedonia"). :func:`resolve` maps all of these to one
alpha-3 code; a name it does not know is kept as written by the importer and reported as a warning.
Kosovo has no ISO code; like IATI and the EU we use the user-assigned ``XKX``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from iso3166 import countries as _iso

# Names in common use that are not ISO short names; keys are normalised (see _key).
_ALIASES: dict[str, str] = {
    "vietnam": "VNM",
    "bih": "BIH",
    "bosnia": "BIH",
    "bosnia herzegovina": "BIH",
    "former yugoslav republic of macedonia": "MKD",
    "fyrom": "MKD",
    "fyr macedonia": "MKD",
    "macedonia": "MKD",
    "north macedonia": "MKD",
    "kosovo unscr 1244": "XKX",
    "kosovo": "XKX",
    "bolivia": "BOL",
    "congo drc": "COD",
    "drc": "COD",
    "dr congo": "COD",
    "democratic republic of the congo": "COD",
    "republic of the congo": "COG",
    "congo brazzaville": "COG",
    "iran": "IRN",
    "north korea": "PRK",
    "south korea": "KOR",
    "korea": "KOR",
    "republic of korea": "KOR",
    "micronesia": "FSM",
    "moldova": "MDA",
    "republic of moldova": "MDA",
    "palestine": "PSE",
    "occupied palestinian territory": "PSE",
    "tanzania": "TZA",
    "united republic of tanzania": "TZA",
    "venezuela": "VEN",
    "russia": "RUS",
    "russian federation": "RUS",
    "syria": "SYR",
    "laos": "LAO",
    "lao pdr": "LAO",
    "swaziland": "SWZ",
    "eswatini": "SWZ",
    "cape verde": "CPV",
    "ivory coast": "CIV",
    "cote d ivoire": "CIV",
    "czech republic": "CZE",
    "czechia": "CZE",
    "turkey": "TUR",
    "turkiye": "TUR",
    "burma": "MMR",
    "myanmar": "MMR",
    "east timor": "TLS",
    "timor leste": "TLS",
    "the gambia": "GMB",
    "gambia": "GMB",
    "kyrgyzstan": "KGZ",
    "kyrgyz republic": "KGZ",
    "uk": "GBR",
    "united kingdom": "GBR",
    "usa": "USA",
    "united states": "USA",
    "united states of america": "USA",
    "sao tome and principe": "STP",
    "brunei": "BRN",
    "marshall islands": "MHL",
    "st lucia": "LCA",
    "saint lucia": "LCA",
    "st kitts and nevis": "KNA",
    "st vincent and the grenadines": "VCT",
    "taiwan": "TWN",
    "vatican": "VAT",
    "holy see": "VAT",
}


@dataclass(frozen=True, slots=True)
class Country:
    iso3: str
    iso2: str
    name: str


def _key(name: str) -> str:
    text = re.sub(r"[\u2018\u2019'`]", " ", name)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


@cache
def _index() -> dict[str, Country]:
    index: dict[str, Country] = {}
    for c in _iso:
        country = Country(iso3=c.alpha3, iso2=c.alpha2, name=c.name)
        index[c.alpha3.lower()] = country
        index[c.alpha2.lower()] = country
        for name in (c.name, c.apolitical_name):
            index[_key(name)] = country
            # "Korea, Republic of" is also found as "Republic of Korea"
            if ", " in name:
                head, tail = name.split(", ", 1)
                index[_key(f"{tail} {head}")] = country
    by_iso3 = {c.iso3: c for c in index.values()}
    for alias, iso3 in _ALIASES.items():
        index[alias] = by_iso3[iso3]
    return index


def resolve(name: str) -> Country | None:
    """The country ``name`` stands for (a name, an alias, an alpha-2 or alpha-3 code), or None."""
    name = name.strip()
    if not name:
        return None
    index = _index()
    if len(name) in (2, 3) and name.isalpha():
        hit = index.get(name.lower())
        if hit is not None:
            return hit
    return index.get(_key(name))


def by_iso3(code: str) -> Country | None:
    hit = _index().get(code.lower())
    return hit if hit is not None and hit.iso3 == code.upper() else None


def all_countries() -> list[Country]:
    return sorted({c.iso3: c for c in _index().values()}.values(), key=lambda c: c.name)
