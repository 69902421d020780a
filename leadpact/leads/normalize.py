"""Pure functions that turn raw lead values into their stored and matching forms.

Shared by every way a lead arrives (form, API, CSV import) so that all of them validate and
match the same way.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_COMPANY_SUFFIX = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|gmbh|sa|sas|srl|bv|nv|plc|corp|corporation|co)\b\.?$"
)
_NON_WORD = re.compile(r"[^\w\s]")
LAST_NAME_KEY_MAX = 200
# Mailbox names shared by many people: the same one at two domains says nothing.
# fmt: off
GENERIC_LOCAL_PARTS = frozenset({
    "accounts", "admin", "billing", "careers", "contact", "enquiries", "hello", "help", "hr",
    "info", "inquiries", "jobs", "mail", "marketing", "me", "no-reply", "noreply", "office",
    "sales", "service", "support", "team", "test", "user", "webmaster",
})
# fmt: on


def fold(value: str) -> str:
    """Lower-case, strip accents, collapse white space: ``" José  Núñez "`` → ``"jose nunez"``."""
    if not value:
        return ""
    if value.isascii():  # nothing to decompose (most names): the same result, 5x faster
        return _SPACES.sub(" ", value).strip().lower()
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_ish = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", ascii_ish).strip().lower()


def email_key(email: str | None) -> str | None:
    """The matching key of an e-mail address: trimmed and lower-cased; ``None`` when empty."""
    value = (email or "").strip().lower()
    return value or None


def search_key(first_name: str, last_name: str) -> str:
    return fold(f"{first_name} {last_name}")[:201]


def company_key(name: str) -> str:
    """``"ACME, Inc."`` and ``"Acme Inc"`` → ``"acme"``."""
    folded = _SPACES.sub(" ", _NON_WORD.sub(" ", fold(name))).strip()
    while True:  # "Acme PLC, Inc." carries two legal suffixes
        stripped = _COMPANY_SUFFIX.sub("", folded).strip()
        if stripped == folded or not stripped:
            return (stripped or folded)[:200]
        folded = stripped


def last_name_key(last_name: str) -> str:
    """The blocking key of a last name: folded (case and accents) like ``search_key``."""
    return fold(last_name)[:LAST_NAME_KEY_MAX]


def name_block_key(last_name: str, company_key: str) -> str:
    """The likely-duplicate block of a person by name: folded last name and the company key's
    first letter (``"smith|a"``); empty without a last name or a company."""
    last = last_name_key(last_name)
    return f"{last}|{company_key[:1]}" if last and company_key else ""


def email_local_part(email_key: str | None) -> str:
    """``"john.smith+news@acme.com"`` → ``"john.smith"``; empty for a generic mailbox."""
    local = (email_key or "").partition("@")[0].partition("+")[0]
    return "" if local in GENERIC_LOCAL_PARTS or len(local) < 3 else local


def normalize_phone(value: str, region: str) -> str:
    """A phone number in E.164 (``+442079460958``); raises ``ValueError`` when it is not one."""
    text = (value or "").strip()
    if not text:
        return ""
    return _e164(text, region)


@lru_cache(maxsize=65536)
def _e164(text: str, region: str) -> str:
    """Parsing and validating a number costs ~40 us; switchboards and repeated rows in an import
    send the same one many times. Invalid numbers raise (and are not cached)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{text!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
