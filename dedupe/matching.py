"""Keys and scores shared by the warnings on create and the whole-database job.

Blocking keys say which records are worth comparing; scores (0–100) say how likely two records are the
same. Names are compared folded (lower case, accents and punctuation dropped), with rapidfuzz: Jaro-Winkler
for typos, token-sort ratio for swapped first and last names. A name alone is never enough: two records
are a likely duplicate when they share an e-mail address (or a Gmail-style alias of it), a phone number, a
company (contacts) or a domain or normalised name (companies), and their names agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

# A pair scoring at least this much is a likely duplicate: stored by the job, shown as a warning.
THRESHOLD = 75
# A blocking key shared by more records than this (info@…, a switchboard number, a very common name at a
# huge company) says nothing about identity; the block is skipped.
MAX_BLOCK = 50

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
LEGAL_FORMS = frozenset(
    [
        "ab",
        "ag",
        "as",
        "bv",
        "co",
        "corp",
        "corporation",
        "company",
        "gmbh",
        "inc",
        "incorporated",
        "kg",
        "kk",
        "limited",
        "llc",
        "llp",
        "ltd",
        "mbh",
        "nv",
        "oy",
        "plc",
        "pty",
        "sa",
        "sarl",
        "sas",
        "spa",
        "srl",
        "the",
        "und",
        "and",
    ]
)
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """ "Jürgen O'Connor-Smith" → "jurgen o connor smith": lower case, no accents, plain words."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.split(text)).strip()


def name_key(*parts: str) -> str:
    """Sorted folded name tokens: "Müller, Anna" and "anna MULLER" give the same key."""
    return " ".join(sorted(" ".join(fold(p) for p in parts if p).split()))


def email_canonical(email: str) -> str:
    """The mailbox an address delivers to: "+tag" dropped everywhere, dots dropped at Gmail."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_variants(email: str) -> list[str]:
    """Stored forms an address typed now may match: itself, without +tag, and Gmail without dots."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return [email] if email else []
    variants = {email, f"{local.split('+', 1)[0]}@{domain}"}
    if domain in GMAIL_DOMAINS:
        bare = local.split("+", 1)[0].replace(".", "")
        variants |= {f"{bare}@gmail.com", f"{bare}@googlemail.com"}
    return sorted(variants)


@functools.lru_cache(maxsize=100_000)
def company_name_key(name: str) -> str:
    """ "The ACME Industries, Inc." → "acmeindustries": folded, legal forms and spaces dropped."""
    tokens = [t for t in fold(name).split() if t not in LEGAL_FORMS]
    return "".join(tokens) or fold(name).replace(" ", "")


def company_prefix_key(name: str) -> str:
    """The first four letters of each significant word, sorted: tolerant of typos late in words."""
    tokens = [t[:4] for t in fold(name).split() if t not in LEGAL_FORMS]
    return " ".join(sorted(tokens))


def name_similarity(a: str, b: str) -> float | None:
    """0–100 for two folded full names; None when either is empty."""
    if not a or not b:
        return None
    if a == b:
        return 100.0
    return max(JaroWinkler.normalized_similarity(a, b) * 100, fuzz.token_sort_ratio(a, b))


# ---------------------------------------------------------------------------------------------------------
# Contacts


@dataclass
class ContactFacts:
    """What the scoring needs to know about one contact (or about the data typed into the form)."""

    id: int | None
    name: str  # folded "first middle last"
    first: str
    last: str
    company_id: int | None
    emails: set[str] = field(default_factory=set)  # normalised
    phones: set[str] = field(default_factory=set)  # E.164


def contact_facts(pk, first, last, company_id, emails=(), phones=(), middle="") -> ContactFacts:
    f, lst = fold(first or ""), fold(last or "")
    return ContactFacts(
        id=pk,
        name=" ".join(p for p in (f, lst) if p),
        first=f,
        last=lst,
        company_id=company_id,
        emails={e.lower() for e in emails if e},
        phones={p for p in phones if p},
    )


def _jw(a: str, b: str) -> float:
    return 1.0 if a == b else JaroWinkler.normalized_similarity(a, b)


def person_similarity(a: ContactFacts, b: ContactFacts) -> float | None:
    """0–100: first name against first name and last against last (or crosswise, for swapped names),
    the weaker of the two counting, so "Anna Berg" and "Anna Schmidt" are not similar. Without both
    parts on both sides, the token-sort ratio of the whole names."""
    if a.first and a.last and b.first and b.last:
        straight = min(_jw(a.first, b.first), _jw(a.last, b.last))
        crossed = min(_jw(a.first, b.last), _jw(a.last, b.first))
        return max(straight, crossed) * 100
    if not a.name or not b.name:
        return None
    short, full = (a, b) if len(a.name.split()) <= len(b.name.split()) else (b, a)
    if len(short.name.split()) == 1:  # one name given: as either part of the other
        return max(_jw(short.name, part) for part in full.name.split()) * 100
    return float(fuzz.token_sort_ratio(a.name, b.name))


def contact_keys(facts: ContactFacts) -> list[str]:
    """The blocking keys of one contact; each names its kind before the colon."""
    keys = [f"e:{email_canonical(e)}" for e in facts.emails]
    keys += [f"p:{p}" for p in facts.phones]
    if facts.company_id is not None:
        company = facts.company_id
        if facts.name:
            keys.append(f"cn:{company}:{name_key(facts.name)}")
        if facts.last:
            keys.append(f"cl:{company}:{facts.last}")
        if facts.first:
            keys.append(f"cf:{company}:{facts.first}")
    return keys


def contact_score(a: ContactFacts, b: ContactFacts) -> tuple[int, list[str]]:
    """(score 0–100, reasons) for two contacts."""
    reasons: list[str] = []
    shared_emails = a.emails & b.emails
    alias = not shared_emails and bool(
        {email_canonical(e) for e in a.emails} & {email_canonical(e) for e in b.emails}
    )
    shared_phone = bool(a.phones & b.phones)
    same_company = a.company_id is not None and a.company_id == b.company_id
    similarity = person_similarity(a, b)
    if shared_emails:
        reasons.append("Same e-mail address")
    elif alias:
        reasons.append("Same e-mail address apart from +tag or dots")
    if shared_phone:
        reasons.append("Same phone number")
    if same_company:
        reasons.append("Same company")
    if similarity is not None:
        if similarity >= 99.5:
            reasons.append("Same name")
        elif similarity >= 80:
            reasons.append(f"Similar name ({similarity:.0f}%)")
    channels = int(bool(shared_emails)) + int(alias) + int(shared_phone)
    if channels:
        base = 95 if shared_emails else 90 if alias else 88
        base += 3 * (channels - 1) + (2 if same_company else 0)
        if similarity is None:
            score = base - 10
        elif similarity >= 85:
            score = base + (similarity - 85) / 3
        elif similarity >= 60:
            score = base - 16  # a shared mailbox or family phone with a somewhat similar name
        else:
            score = 50
    elif same_company and similarity is not None:
        score = similarity * 0.9 + 8 if similarity >= 80 else similarity * 0.6
    else:
        score = min(similarity or 0, 100) * 0.7  # a name alone is never enough
    return max(0, min(100, round(score))), reasons


# ---------------------------------------------------------------------------------------------------------
# Companies


@dataclass
class CompanyFacts:
    id: int | None
    name: str  # folded
    domain: str
    phone: str


def company_facts(pk, name, domain="", phone="") -> CompanyFacts:
    return CompanyFacts(id=pk, name=fold(name or ""), domain=(domain or "").lower(), phone=phone or "")


def company_keys(facts: CompanyFacts) -> list[str]:
    keys = []
    if facts.domain:
        keys.append(f"d:{facts.domain}")
    if facts.phone:
        keys.append(f"p:{facts.phone}")
    if facts.name:
        keys.append(f"n:{company_name_key(facts.name)}")
        keys.append(f"t:{company_prefix_key(facts.name)}")
    return keys


def company_score(a: CompanyFacts, b: CompanyFacts) -> tuple[int, list[str]]:
    reasons: list[str] = []
    same_domain = bool(a.domain) and a.domain == b.domain
    same_phone = bool(a.phone) and a.phone == b.phone
    same_key = bool(a.name) and company_name_key(a.name) == company_name_key(b.name)
    similarity = None
    if a.name and b.name:
        similarity = max(
            fuzz.token_set_ratio(a.name, b.name),
            JaroWinkler.normalized_similarity(company_name_key(a.name), company_name_key(b.name)) * 100,
        )
    if same_domain:
        reasons.append("Same domain")
    if same_phone:
        reasons.append("Same phone number")
    if same_key:
        reasons.append("Same name")
    elif similarity is not None and similarity >= 85:
        reasons.append(f"Similar name ({similarity:.0f}%)")
    if same_key:
        score = 92 + 4 * (same_domain + same_phone)
    elif same_domain or same_phone:
        base = 90 if same_domain else 85
        if similarity is None or similarity >= 80:
            score = base + (3 if same_domain and same_phone else 0)
        else:
            score = base - 12  # one domain, maybe two organisations (subsidiaries, agencies)
    else:
        score = (similarity or 0) * 0.95 if (similarity or 0) >= 90 else (similarity or 0) * 0.7
    return max(0, min(100, round(score))), reasons


# ---------------------------------------------------------------------------------------------------------
# Within one set of new records (the rows of an import batch)


def pairs_within(facts: list, keys, score, *, limit: int = 3) -> list[list[tuple[int, int, list[str]]]]:
    """For each record of `facts`, the earlier ones of the same list it probably duplicates, as
    (index, score, reasons), best first, at most `limit`: records sharing a blocking key (`keys`, e.g.
    contact_keys) are scored with `score` (e.g. contact_score); keys shared by more than MAX_BLOCK records
    are skipped, as in the job. Linear in the list's size apart from the blocks."""
    blocks: dict[str, list[int]] = {}
    found: list[list[tuple[int, int, list[str]]]] = []
    for index, record in enumerate(facts):
        earlier: set[int] = set()
        for key in keys(record):
            block = blocks.setdefault(key, [])
            if len(block) <= MAX_BLOCK:
                earlier.update(block)
            block.append(index)
        matches = []
        for other in sorted(earlier):
            value, reasons = score(record, facts[other])
            if value >= THRESHOLD:
                matches.append((other, value, reasons))
        matches.sort(key=lambda m: (-m[1], m[0]))
        found.append(matches[:limit])
    return found
