"""Generated data with injected duplicates, for the quality tests and the benchmark.

A duplicate is a copy of a contact as someone else might have typed it: one to three of a typo in a name,
first and last name swapped, another case, accents dropped or added; the e-mail address as a Gmail-style
alias (+tag, dots) or in capitals, the phone number in another format; and some of e-mail, phone and
company left out (at least one of them is kept, else nothing but a name would say it is the same person).
"""

from __future__ import annotations

import random
import unicodedata

import phonenumbers

SYLLABLES = [  # fmt: skip
    "ka",
    "lo",
    "mi",
    "ra",
    "sen",
    "tor",
    "bel",
    "vin",
    "da",
    "ne",
    "os",
    "lu",
    "fer",
    "gan",
    "hol",
    "ris",
    "ta",
    "mar",
    "ben",
    "ul",
    "pe",
    "zo",
    "ki",
    "chan",
    "dre",
]
ACCENTED = {"a": "á", "e": "é", "o": "ö", "u": "ü", "i": "í", "c": "ç", "n": "ñ"}


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _ascii(text: str) -> str:
    return "".join(ch for ch in _strip_accents(text).lower() if ch.isalnum())


def base_contacts(rng: random.Random, count: int, company_ids: list[int], domains: dict[int, str]):
    """`count` contact rows (the keys of `contact_create`) with distinct names."""
    seen: set[tuple[str, str]] = set()
    rows = []
    while len(rows) < count:
        first, last = _word(rng, rng.choice((2, 2, 3))), _word(rng, rng.choice((2, 3, 3)))
        if rng.random() < 0.15:
            vowel = next((ch for ch in last if ch in ACCENTED), None)
            if vowel:
                last = last.replace(vowel, ACCENTED[vowel], 1)
        if (first, last) in seen:
            continue
        seen.add((first, last))
        row: dict = {"first_name": first, "last_name": last}
        emails = []
        if company_ids and rng.random() < 0.7:
            company = rng.choice(company_ids)
            row["company_id"] = company
            emails.append(f"{_ascii(first)}.{_ascii(last)}@{domains[company]}")
        if not emails or rng.random() < 0.2:
            emails.append(f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@gmail.com")
        row["emails"] = emails
        if rng.random() < 0.85:
            row["phones"] = [f"+49 151 {rng.randint(10_000_000, 99_999_999)}"]
        rows.append(row)
    return rows


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # transposition
    if kind < 0.7:
        return text[:i] + text[i + 1 :]  # a letter left out
    return text[:i] + rng.choice("aeiourstln") + text[i + 1 :]  # a wrong letter


def _accents(text: str) -> str:
    stripped = _strip_accents(text)
    if stripped != text:
        return stripped
    vowel = next((ch for ch in text if ch in ACCENTED), None)
    return text.replace(vowel, ACCENTED[vowel], 1) if vowel else text


def _alias(rng: random.Random, email: str) -> str:
    local, _, domain = email.partition("@")
    choice = rng.random()
    if domain in {"gmail.com", "googlemail.com"} and choice < 0.4:
        local = local.replace(".", "") if "." in local else local[:2] + "." + local[2:]
    elif choice < 0.75:
        local = f"{local}+{rng.choice(['crm', 'news', 'shop', 'work'])}"
    else:
        return email.upper()
    return f"{local}@{domain}"


def _reformat_phone(rng: random.Random, number: str) -> str:
    parsed = phonenumbers.parse(number, None)
    style = rng.choice(
        [
            phonenumbers.PhoneNumberFormat.E164,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.RFC3966,
        ]
    )
    text = phonenumbers.format_number(parsed, style)
    return text.removeprefix("tel:")


def duplicate_of(rng: random.Random, row: dict) -> dict:
    """A copy of `row` as someone else might have entered it."""
    first, last = row.get("first_name", ""), row.get("last_name", "")
    for _ in range(rng.choice((1, 1, 2, 3))):
        change = rng.random()
        if change < 0.35:
            if rng.random() < 0.5:
                first = _typo(rng, first)
            else:
                last = _typo(rng, last)
        elif change < 0.55:
            first, last = last, first
        elif change < 0.75:
            first, last = (
                (first.upper(), last.upper()) if rng.random() < 0.5 else (first.lower(), last.lower())
            )
        else:
            first, last = _accents(first), _accents(last)
    duplicate: dict = {"first_name": first, "last_name": last}
    emails = [e if isinstance(e, str) else e["email"] for e in row.get("emails", [])]
    phones = [p if isinstance(p, str) else p["number"] for p in row.get("phones", [])]
    keep_email = bool(emails) and rng.random() < 0.65
    keep_phone = bool(phones) and rng.random() < 0.6
    keep_company = row.get("company_id") is not None and rng.random() < 0.8
    if not (keep_email or keep_phone or keep_company):
        keep_email, keep_phone = bool(emails), not emails
    if keep_email:
        email = rng.choice(emails)
        duplicate["emails"] = [_alias(rng, email) if rng.random() < 0.5 else email]
    if keep_phone and phones:
        duplicate["phones"] = [_reformat_phone(rng, phones[0])]
    if keep_company:
        duplicate["company_id"] = row["company_id"]
    return duplicate


def pair_quality(groups: list[list[int]], truth: set[tuple[int, int]]) -> tuple[float, float, int, int]:
    """(precision, recall, predicted pairs, true pairs found) of `groups` against the `truth` pairs."""
    predicted = set()
    for members in groups:
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                predicted.add((a, b))
    found = predicted & truth
    precision = len(found) / len(predicted) if predicted else 1.0
    recall = len(found) / len(truth) if truth else 1.0
    return precision, recall, len(predicted), len(found)
