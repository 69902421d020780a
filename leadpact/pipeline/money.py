"""Deal amounts: Decimal with two places in an ISO 4217 currency. The one check every entry
point (service, API, page, backtest import) goes through."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from leadpact.campaigns.currencies import ISO_CURRENCIES
from leadpact.common.errors import ApplicationError

MAX_AMOUNT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2


def money_clean(amount: Any, currency: Any) -> tuple[Decimal, str]:
    """``(amount, currency)`` checked, or ApplicationError naming what is wrong.

    Floats are refused: 0.1 + 0.2 is not a sum of money; send a string or a Decimal.
    """
    code = str(currency or "").strip().upper()
    if code not in ISO_CURRENCIES:
        raise ApplicationError(
            f"{currency!r} is not an ISO 4217 currency code (for example EUR, USD, BRL).",
            extra={"currency": ["Unknown currency."]},
        )
    if isinstance(amount, float):
        raise ApplicationError(
            "Give the amount as a decimal string such as '1200.50', not a float.",
            extra={"amount": ["Not a decimal."]},
        )
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            f"{amount!r} is not an amount.", extra={"amount": ["Not a number."]}
        ) from None
    if not value.is_finite():
        raise ApplicationError(
            "The amount must be a finite number.", extra={"amount": ["Not finite."]}
        )
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ApplicationError(
            f"{amount} has more than 2 decimal places; amounts are kept to the cent.",
            extra={"amount": ["At most 2 decimal places."]},
        )
    if value < 0 or value > MAX_AMOUNT:
        raise ApplicationError(
            f"The amount must be between 0 and {MAX_AMOUNT}.", extra={"amount": ["Out of range."]}
        )
    return value.quantize(Decimal("0.01")), code
