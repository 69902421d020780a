"""Pure functions that turn raw lead values into their stored and matching forms.

Shared by every way a lead arrives (form, API, CSV import) so that all of them validate and
match the same way.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_COMPANY_SUFFIX = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|gmbh|sa|sas|srl|bv|nv|plc|corp|corporation|co)\b\.?$"
)
_NON_WORD = re.compile(r"[^\w\s]")


def fold(value: str) -> str:
    """Lower-case, strip accents, collapse white space: ``" José  Núñez "`` → ``"jose nunez"``."""
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


def normalize_phone(value: str, region: str) -> str:
    """A phone number in E.164 (``+442079460958``); raises ``ValueError`` when it is not one."""
    import phonenumbers

    text = (value or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
