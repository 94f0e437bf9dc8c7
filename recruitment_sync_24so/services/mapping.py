"""How Odoo values become 24SevenOffice values: lengths, decimals, dates, keys (pure functions)."""

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

# Field lengths 24SevenOffice enforces [V lengths S6 S7 S8; I enforcement]: longer values are cut.
LIMITS = {
    "company_name": 200,
    "company_first_name": 50,
    "organization_number": 20,
    "product_no": 100,
    "product_name": 125,
    "customer_name": 100,
    "customer_org_no": 20,
    "your_reference": 50,
    "reference_number": 50,
    "invoice_title": 300,
    "invoice_text": 750,
    "invoice_email": 250,
    "row_name": 300,
    "external_id": 100,
    "email": 100,
    "street": 100,
    "postal_code": 20,
    "city": 50,
}
# The smallest values of .NET types: 24SevenOffice's "not set".
INT_NOT_SET = -2147483648
DECIMAL_NOT_SET = Decimal("-79228162514264337593543950335")
TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")


def truncate(value, limit):
    """``value`` cut to ``LIMITS[limit]`` (or ``limit`` characters), without surrounding spaces."""
    if value is None or value is False:
        return None
    size = LIMITS[limit] if isinstance(limit, str) else limit
    text = " ".join(str(value).split())
    return text[:size].rstrip() or None


def decimal(value, places=TWO_PLACES):
    """A fixed-point decimal string (never scientific notation): ``1122062.5`` → ``'1122062.50'``."""
    quantized = Decimal(str(value or 0)).quantize(places, rounding=ROUND_HALF_UP)
    if quantized == 0:
        quantized = abs(quantized)  # no "-0.00"
    return format(quantized, "f")


def local_date(value):
    """A calendar date as 24SevenOffice wants it: that day at midnight, without a time zone.

    Converting the date to a UTC datetime first could move it to the previous day.
    """
    if not value:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        value = date.fromisoformat(str(value))
    return datetime(value.year, value.month, value.day)


def digits(value):
    return re.sub(r"\D", "", value or "")


def organization_number(partner_registry, vat=None, country_code=None):
    """A customer's organisation number, digits only (None when it has none).

    The company registry first; a Norwegian VAT number (``NO999888777MVA``) holds it too.
    """
    number = digits(partner_registry)
    if not number and vat and (country_code or "").upper() in ("NO", "") and str(vat).upper().startswith("NO"):
        number = digits(vat)
    return number[: LIMITS["organization_number"]] or None


def customer_external_id(database_uuid, partner_id):
    """The stable key written on every 24SevenOffice customer Odoo creates."""
    return f"odoo-{database_uuid}-{partner_id}"


def product_number(code):
    """A product number as compared with 24SevenOffice's ``No`` (trimmed)."""
    return (code or "").strip()


def set_value(value):
    """``None`` for 24SevenOffice's "not set" sentinels, else the value."""
    if value in (None, "", INT_NOT_SET):
        return None
    if isinstance(value, Decimal) and value == DECIMAL_NOT_SET:
        return None
    return value


def api_exception(item):
    """The per-item error of a save answer as a sentence (None: the item was saved)."""
    error = (item or {}).get("APIException") or None
    if not error:
        return None
    message = (error.get("Message") or "").strip()
    kind = (error.get("Type") or "").strip()
    if not message and not kind:
        return None
    kind = kind.rsplit(".", 1)[-1]
    return f"{message} ({kind})" if message and kind else message or kind


def payment_days(invoice_date, due_date):
    """24SevenOffice's PaymentTime: days of credit (0: none)."""
    if not invoice_date or not due_date:
        return 0
    return max(0, (due_date - invoice_date).days)


def tax_code(tax_no):
    """A VAT code's ``TaxNo`` as the row's ``TaxSettings.TaxCode`` (an int; None when it is not a number)."""
    text = str(tax_no or "").strip()
    return int(text) if text.isdigit() else None


def rate(value):
    """A VAT rate in percent as a Decimal (``25.0`` → ``Decimal('25')``)."""
    return Decimal(str(value or 0)).quantize(FOUR_PLACES).normalize()


def money(value):
    """An amount rounded to the cent, as a Decimal."""
    return Decimal(str(value or 0)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP) + 0


def order_totals(rows, rates, include_vat=False):
    """(total including VAT, VAT) that 24SevenOffice gives an order of ``rows`` (payload rows),
    computed row by row as it does [I]: each Normal row's amount (price x quantity less the
    discount percentage) and its VAT at the rate of its ``TaxSettings.TaxCode`` (``rates``:
    {TaxCode: percent}), each rounded to the cent; with ``include_vat`` the prices include VAT."""
    total = vat = Decimal(0)
    for row in rows:
        if row.get("Type", "Normal") != "Normal":
            continue
        amount = Decimal(row["Price"]) * Decimal(row["Quantity"])
        amount = money(amount * (1 - Decimal(row.get("DiscountRate") or 0) / 100))
        percent = rates.get((row.get("TaxSettings") or {}).get("TaxCode"), Decimal(0))
        if include_vat:
            row_vat = money(amount - amount / (1 + percent / 100))
            total += amount
        else:
            row_vat = money(amount * percent / 100)
            total += amount + row_vat
        vat += row_vat
    return money(total), money(vat)
