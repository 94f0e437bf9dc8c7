"""How partners of two systems are compared (pure Python)."""


def normalized_vat(value):
    """A VAT number as compared: without spaces, upper case (stored as typed)."""
    return "".join(str(value or "").split()).upper()


def normalized_email(value):
    """An email address as compared: trimmed, lower case."""
    return str(value or "").strip().lower()
