"""Meta's money in minor units: each currency's offset, from Meta's "Currency codes" page
(https://developers.facebook.com/docs/marketing-api/currencies, "Supported currencies": Name,
Code, Offset). Budgets and bids are sent as integers in these units (`daily_budget=1000` is
USD 10.00 but JPY 1000); insights answer money as decimal strings in the currency itself
(`spend: "12.34"`), which mojito stores times the offset.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

logger = logging.getLogger(__name__)

# Code -> offset, as Meta's table lists them (1: a currency without minor unit).
OFFSETS: dict[str, int] = {
    "DZD": 100, "ARS": 100, "AUD": 100, "BHD": 100, "BDT": 100, "BOB": 100, "BGN": 100,
    "BRL": 100, "GBP": 100, "CAD": 100, "CLP": 1, "CNY": 100, "COP": 1, "CRC": 1,
    "HRK": 100, "CZK": 100, "DKK": 100, "EGP": 100, "EUR": 100, "GTQ": 100, "HNL": 100,
    "HKD": 100, "HUF": 1, "ISK": 1, "INR": 100, "IDR": 1, "ILS": 100, "JPY": 1, "JOD": 100,
    "KES": 100, "KRW": 1, "LVL": 100, "LTL": 100, "MOP": 100, "MYR": 100, "MXN": 100,
    "NZD": 100, "NIO": 100, "NGN": 100, "NOK": 100, "PKR": 100, "PYG": 1, "PEN": 100,
    "PHP": 100, "PLN": 100, "QAR": 100, "RON": 100, "RUB": 100, "SAR": 100, "RSD": 100,
    "SGD": 100, "SKK": 100, "ZAR": 100, "SEK": 100, "CHF": 100, "TWD": 1, "THB": 100,
    "TRY": 100, "AED": 100, "UAH": 100, "USD": 100, "UYU": 100, "VEF": 100, "VND": 1,
    "FBZ": 100, "VES": 100,
}  # fmt: skip
DEFAULT_OFFSET = 100


def offset(currency: str) -> int:
    """The currency's offset; a code Meta's table does not list counts as 100 (most do)."""
    code = (currency or "").upper()
    if code not in OFFSETS:
        if code:
            logger.warning("Currency %s is not in Meta's table: taken as offset 100", code)
        return DEFAULT_OFFSET
    return OFFSETS[code]


def to_minor(amount: str | float | int | None, currency: str) -> int | None:
    """Meta's decimal string ("12.34") as an integer in the currency's minor unit (1234 for
    USD; "1234" JPY is 1234), rounded half up; None for a value Meta left out or sent empty."""
    if amount is None or amount == "":
        return None
    try:
        value = Decimal(str(amount)) * offset(currency)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
