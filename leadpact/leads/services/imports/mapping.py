"""The mapping file: how the columns of one kind of CSV file become leads.

A mapping is a JSON object, saved next to the files it describes so the same kind of file
imports the same way every time (``examples/*.mapping.json``). Every key is optional except
``columns``; an unknown key or value is an error, never silently ignored::

    {
      "delimiter": ",",                # "," ";" "\\t" ("tab") or "|"; else detected from the header
      "encoding": "utf-8",             # any ASCII-compatible codec; a UTF-8 BOM is skipped
      "missing_values": ["Select"],    # cell values that mean "empty" (compared after trimming)
      "external_source": "olist",      # the system the ids come from; with external_id an identity
      "columns": {                     # CSV column → target
        "mql_id": "external_id",       #   a lead field (see LEAD_TARGETS)
        "first_contact_date": "captured_at",
        "landing_page_id": "campaign", #   the campaign key, turned into a code by "campaigns"
        "origin": "source_channel",
        "Score": "attribute",          #   an attribute named like the column
        "Lead Number": "attribute:lead_number",   # an attribute with another name
        "Internal": "ignore"
      },
      "attributes": "rest",            # "rest": every column not named in "columns" becomes an
                                       # attribute; or a list of column names; default: none
      "dates": {"first_contact_date": "%d-%m-%Y"},   # strptime format per column; else ISO 8601
      "values": {"origin": {"": "not_set"}},         # per column: raw value → value, applied
                                                     # before missing_values
      "required": ["external_id"],     # lead fields every row must have
      "campaigns": {                   # how the "campaign" column finds its campaign
        "code": "olist-lp-{value}",    #   the campaign code ({value}: the cell, slugified)
        "name": "Olist landing page {value}",   # the name of a campaign created for it
        "create_missing": true         #   create unknown campaigns (channel: the row's channel);
      },                               #   false: a row naming an unknown campaign is rejected
      "touch": {"kind": "form_fill", "occurred_at": "first_contact_date"}
    }                                  # the touch each row records; null: none. Default: kind
                                       # "import", occurring at the lead's first contact.

Columns of the file that the mapping does not use are ignored and listed in the result; columns
the mapping names but the file lacks are an error that lists them.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.text import slugify

from leadpact.campaigns.models import TouchKind
from leadpact.common.errors import ApplicationError
from leadpact.leads.normalize import fold
from leadpact.leads.records import IDENTITY_FIELDS, PROFILE_FIELDS, SOURCE_FIELDS

LEAD_TARGETS: tuple[str, ...] = (
    *PROFILE_FIELDS,
    *IDENTITY_FIELDS,
    *SOURCE_FIELDS,
    "captured_at",
)
IGNORE = "ignore"
ATTRIBUTE = "attribute"
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|"}
MAPPING_MAX_BYTES = 1024 * 1024
_CODE_TEXT = re.compile(r"^[a-z0-9_-]*$")
_KEYS = {
    "delimiter",
    "encoding",
    "missing_values",
    "external_source",
    "columns",
    "attributes",
    "dates",
    "values",
    "required",
    "campaigns",
    "touch",
}


@lru_cache(maxsize=4096)
def _slug(value: str) -> str:
    return slugify(value)


class MappingError(ApplicationError):
    """The mapping is not valid; the message says which key and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_mapping")


@dataclass(frozen=True)
class CampaignRule:
    code: str = "{value}"
    name: str = "{value}"
    create_missing: bool = False

    def code_for(self, value: str) -> str:
        return self.code.replace("{value}", _slug(value))[:100]

    def name_for(self, value: str) -> str:
        return self.name.replace("{value}", value)[:200]


@dataclass(frozen=True)
class TouchRule:
    kind: str = TouchKind.IMPORT
    occurred_at: str = ""  # a column; empty: the lead's first contact


@dataclass(frozen=True)
class ColumnMapping:
    """A validated mapping (see the module docstring for the file format)."""

    columns: dict[str, str]
    delimiter: str = ""
    encoding: str = "utf-8"
    missing_values: frozenset[str] = frozenset()
    external_source: str = ""
    attributes: str | tuple[str, ...] = ()
    dates: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    campaigns: CampaignRule = CampaignRule()
    touch: TouchRule | None = TouchRule()

    def as_dict(self) -> dict[str, Any]:
        """The JSON form, as saved in a mapping file (``mapping_from_dict`` reads it back)."""
        out: dict[str, Any] = {}
        if self.delimiter:
            out["delimiter"] = "tab" if self.delimiter == "\t" else self.delimiter
        out["encoding"] = self.encoding
        if self.missing_values:
            out["missing_values"] = sorted(self.missing_values)
        if self.external_source:
            out["external_source"] = self.external_source
        out["columns"] = dict(self.columns)
        out["attributes"] = (
            self.attributes if isinstance(self.attributes, str) else list(self.attributes)
        )
        if self.dates:
            out["dates"] = dict(self.dates)
        if self.values:
            out["values"] = {k: dict(v) for k, v in self.values.items()}
        if self.required:
            out["required"] = list(self.required)
        if self.campaigns != CampaignRule():
            out["campaigns"] = {
                "code": self.campaigns.code,
                "name": self.campaigns.name,
                "create_missing": self.campaigns.create_missing,
            }
        out["touch"] = (
            None
            if self.touch is None
            else {"kind": self.touch.kind, "occurred_at": self.touch.occurred_at or None}
        )
        return out

    def used_columns(self) -> set[str]:
        """Columns the file must have."""
        used = set(self.columns)
        if isinstance(self.attributes, tuple):
            used |= set(self.attributes)
        used |= set(self.dates) | set(self.values)
        if self.touch and self.touch.occurred_at:
            used.add(self.touch.occurred_at)
        return used


def _text(value: Any, where: str, *, max_length: int = 200) -> str:
    if not isinstance(value, str):
        raise MappingError(f"{where} must be a text, not {json.dumps(value)[:60]}")
    if len(value) > max_length:
        raise MappingError(f"{where} is longer than {max_length} characters")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be an object")
    return value


def _target(column: str, target: Any) -> str:
    target = _text(target, f"columns[{column!r}]").strip()
    if target in LEAD_TARGETS or target in (IGNORE, ATTRIBUTE):
        return target
    if target.startswith(ATTRIBUTE + ":") and target[len(ATTRIBUTE) + 1 :].strip():
        return f"{ATTRIBUTE}:{target[len(ATTRIBUTE) + 1 :].strip()}"
    raise MappingError(
        f"column {column!r} maps to unknown field {target!r}; use one of "
        f"{', '.join(LEAD_TARGETS)}, attribute, attribute:NAME or ignore"
    )


def check_encoding(name: str) -> str:
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise MappingError(f"unknown encoding {name!r} (try utf-8, cp1252 or latin-1)") from None
    if info.name != "utf-8-sig" and "\n".encode(info.name) != b"\n":
        raise MappingError(
            f"encoding {name!r} is not supported: save the file as UTF-8 CSV and import that"
        )
    return name


def _check_date_format(column: str, fmt: str) -> str:
    if "%" not in fmt:
        raise MappingError(
            f"dates[{column!r}] = {fmt!r} is not a strptime format (e.g. %d-%m-%Y for dd-mm-yyyy)"
        )
    try:
        datetime.now().strftime(fmt)
    except ValueError as exc:
        raise MappingError(f"dates[{column!r}] = {fmt!r} is not a valid format: {exc}") from None
    return fmt


def mapping_from_dict(data: Any) -> ColumnMapping:
    """Validate a mapping given as a decoded JSON object; raises ``MappingError``."""
    data = _object(data, "the mapping")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise MappingError(
            f"unknown mapping key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(sorted(_KEYS))}"
        )
    columns_raw = _object(data.get("columns", {}), "columns")
    columns: dict[str, str] = {}
    taken: dict[str, str] = {}
    for column, target in columns_raw.items():
        target = _target(column, target)
        if target in LEAD_TARGETS:
            if target in taken:
                raise MappingError(
                    f"columns {taken[target]!r} and {column!r} both map to {target}; "
                    "map one of them to an attribute or ignore it"
                )
            taken[target] = column
        columns[column] = target

    delimiter = ""
    if data.get("delimiter") not in (None, ""):
        raw = _text(data["delimiter"], "delimiter")
        if raw not in DELIMITERS:
            raise MappingError(f"delimiter {raw!r} is not one of , ; tab |")
        delimiter = DELIMITERS[raw]
    encoding = check_encoding(_text(data.get("encoding") or "utf-8", "encoding"))

    missing = data.get("missing_values") or []
    if not isinstance(missing, list):
        raise MappingError('missing_values must be a list of texts, e.g. ["Select", "N/A"]')
    missing_values = frozenset(_text(v, "missing_values[]").strip() for v in missing)

    external_source = _text(data.get("external_source") or "", "external_source", max_length=50)

    attributes_raw = data.get("attributes", [])
    attributes: str | tuple[str, ...]
    if attributes_raw == "rest":
        attributes = "rest"
    elif isinstance(attributes_raw, list):
        attributes = tuple(_text(c, "attributes[]") for c in attributes_raw)
    else:
        raise MappingError('attributes must be "rest" or a list of column names')

    dates = {
        column: _check_date_format(column, _text(fmt, f"dates[{column!r}]"))
        for column, fmt in _object(data.get("dates") or {}, "dates").items()
    }
    values: dict[str, dict[str, str]] = {}
    for column, table in _object(data.get("values") or {}, "values").items():
        table = _object(table, f"values[{column!r}]")
        values[column] = {
            str(k).strip(): _text(v, f"values[{column!r}][{k!r}]", max_length=1000).strip()
            for k, v in table.items()
        }

    required_raw = data.get("required") or []
    if not isinstance(required_raw, list):
        raise MappingError("required must be a list of lead fields")
    for name in required_raw:
        if name not in LEAD_TARGETS:
            raise MappingError(f"required names unknown field {name!r}")
    required = tuple(required_raw)

    campaigns = CampaignRule()
    if data.get("campaigns") is not None:
        raw = _object(data["campaigns"], "campaigns")
        extra = sorted(set(raw) - {"code", "name", "create_missing"})
        if extra:
            raise MappingError(f"unknown campaigns key(s) {', '.join(map(repr, extra))}")
        code = _text(raw.get("code", "{value}"), "campaigns.code")
        if "{value}" not in code:
            raise MappingError('campaigns.code must contain "{value}", e.g. "lp-{value}"')
        if not _CODE_TEXT.match(code.replace("{value}", "")):
            raise MappingError(f"campaigns.code {code!r} may hold only a-z, 0-9, - and _")
        create = raw.get("create_missing", False)
        if not isinstance(create, bool):
            raise MappingError("campaigns.create_missing must be true or false")
        campaigns = CampaignRule(
            code=code,
            name=_text(raw.get("name", "{value}"), "campaigns.name"),
            create_missing=create,
        )

    touch: TouchRule | None = TouchRule()
    if "touch" in data and data["touch"] is None:
        touch = None
    elif data.get("touch") is not None:
        raw = _object(data["touch"], "touch")
        extra = sorted(set(raw) - {"kind", "occurred_at"})
        if extra:
            raise MappingError(f"unknown touch key(s) {', '.join(map(repr, extra))}")
        kind = _text(raw.get("kind", TouchKind.IMPORT), "touch.kind")
        if kind not in TouchKind.values:
            raise MappingError(f"touch.kind {kind!r} is not one of {', '.join(TouchKind.values)}")
        touch = TouchRule(
            kind=kind, occurred_at=_text(raw.get("occurred_at") or "", "touch.occurred_at")
        )

    mapping = ColumnMapping(
        columns=columns,
        delimiter=delimiter,
        encoding=encoding,
        missing_values=missing_values,
        external_source=external_source,
        attributes=attributes,
        dates=dates,
        values=values,
        required=required,
        campaigns=campaigns,
        touch=touch,
    )
    if not columns and attributes != "rest" and not attributes:
        raise MappingError("the mapping maps no column: fill in columns")
    return mapping


def mapping_from_json(text: str | bytes, *, source: str = "the mapping") -> ColumnMapping:
    """Parse and validate mapping JSON text."""
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise MappingError(f"{source} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise MappingError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    try:
        return mapping_from_dict(data)
    except MappingError as exc:
        raise MappingError(f"{source}: {exc.message}") from None


def mapping_load(path: str | Path) -> ColumnMapping:
    """Read a mapping file; every problem is a ``MappingError`` with a one-line message."""
    path = Path(path)
    try:
        if path.stat().st_size > MAPPING_MAX_BYTES:
            raise MappingError(f"mapping {path} is larger than {MAPPING_MAX_BYTES:,} bytes")
        text = path.read_bytes()
    except FileNotFoundError:
        raise MappingError(f"mapping file not found: {path}") from None
    except IsADirectoryError:
        raise MappingError(f"mapping {path} is a folder, not a file") from None
    except OSError as exc:
        raise MappingError(f"cannot read mapping {path}: {exc.strerror}") from None
    return mapping_from_json(text, source=f"mapping {path}")


def as_mapping(value: ColumnMapping | Mapping[str, Any] | str | Path) -> ColumnMapping:
    """Accept a parsed mapping, a decoded JSON object or the path of a mapping file."""
    if isinstance(value, ColumnMapping):
        return value
    if isinstance(value, Mapping):
        return mapping_from_dict(dict(value))
    return mapping_load(value)


# Header words → lead field, for the first guess on the mapping page.
_GUESSES: dict[str, str] = {
    "first name": "first_name",
    "firstname": "first_name",
    "given name": "first_name",
    "last name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family name": "last_name",
    "email": "email",
    "e mail": "email",
    "email address": "email",
    "mail": "email",
    "phone": "phone",
    "phone number": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "title": "title",
    "job title": "title",
    "position": "title",
    "company": "company_name",
    "company name": "company_name",
    "organisation": "company_name",
    "organization": "company_name",
    "account": "company_name",
    "country": "country",
    "city": "city",
    "id": "external_id",
    "external id": "external_id",
    "lead id": "external_id",
    "prospect id": "external_id",
    "mql id": "external_id",
    "channel": "source_channel",
    "source": "source_channel",
    "origin": "source_channel",
    "lead source": "source_channel",
    "campaign": "campaign",
    "utm campaign": "campaign",
    "created": "captured_at",
    "created at": "captured_at",
    "date": "captured_at",
    "captured at": "captured_at",
    "first contact date": "captured_at",
    "first contact": "captured_at",
}


def mapping_guess(headers: Iterable[str]) -> dict[str, str]:
    """A first guess of column → target from header names; unrecognised columns → attribute."""
    guess: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        key = " ".join(fold(header).replace("_", " ").replace("-", " ").split())
        target = _GUESSES.get(key)
        if not header.strip():
            guess[header] = IGNORE
        elif target and target not in taken:
            guess[header] = target
            taken.add(target)
        else:
            guess[header] = ATTRIBUTE
    return guess
