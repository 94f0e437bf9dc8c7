"""Amounts and document versions as accounting connectors send them (pure Python).

Ledgers compare totals to the cent: amounts travel as ``Decimal``, never as binary floats.
"""

import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)


def decimal(value):
    """A number as a Decimal (floats through their shortest repr, so 0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value) if isinstance(value, float) else str(value or 0))


def round_money(value):
    """Rounded half up to the cent, as ledgers round."""
    return decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def number(value):
    """A Decimal as a JSON number with no more digits than it has (4.2, not 4.2000)."""
    value = decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def content_hash(payload):
    """A short, stable fingerprint of what is sent: the *content version* of a document.

    Kept on its binding (``content_hash``, ``refused_hash``): a document posted again unchanged
    is not sent again, a version the remote system refused is reported once.
    """
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
