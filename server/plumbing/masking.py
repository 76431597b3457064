"""Masking personal data by role, on the server: 138****5678, 110101********1234, 张*."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last four digits of a phone number."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_card(number: str | None) -> str | None:
    """Keep the six-digit region code and the last four characters of an ID card number."""
    if not number:
        return number
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str | None) -> str | None:
    """Keep the first character of a name (the family name in Chinese): 张三 -> 张*."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)
