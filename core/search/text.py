"""Text folding and tokenising shared by both search backends.

All normalisation happens here, in Python, for both the stored documents and the queries, so SQLite and
PostgreSQL match exactly the same tokens: the database only ever sees space-separated, already-folded
tokens. (PostgreSQL's `unaccent` is not IMMUTABLE and its text-search parser has its own ideas about e-mails
and hosts; FTS5's unicode61 tokenizer folds slightly differently. Doing it once in Python sidesteps both.)
"""

from __future__ import annotations

import re
import unicodedata

# Characters that glue parts of one "word" together: e-mail addresses, domains, hyphenated names, AT&T.
# A chunk containing them is indexed as its parts *and* as the joined compound (and the compound's suffixes),
# so "maria.mueller@example.com", "example.com", "mueller@exa" and "maria" all find the document.
# The FTS5 tokenizer must treat exactly these as token characters (see TOKENCHARS / migration 0003).
JOINERS = ".@-_+&"
# Compound tokens are stored and searched with this mark in front ("_maria.mueller@example.com"), so a word
# prefix such as "john" never expands into the hundreds of thousands of distinct e-mail/domain tokens that
# start with it (measured: that expansion made `"john"* "smith"*` 5-40 ms on FTS5 at 1M documents).
# Leading joiners are always stripped from chunks, so no plain token can start with it.
COMPOUND_MARK = "_"
# Apostrophes are dropped inside a word ("O'Brien" -> "obrien"), and also split on ("o", "brien").
APOSTROPHES = "'\u2019\u02bc\u2018`\u00b4"
# Letters NFKD does not decompose.
_SPECIAL = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"}
)
# Alternative spellings indexed as well, so "mueller" finds "Müller" and "soeren" finds "Søren"
# (the plain fold "muller"/"soren" is always indexed too).
_TRANSLITERATIONS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa"})

MAX_TOKEN_LENGTH = 100  # longer tokens are truncated, identically for documents and queries
MAX_DOCUMENT_TOKENS = 2000
MAX_QUERY_TERMS = 12  # more terms in one search box only ever narrow to nothing; bounds the SQL size
_MAX_COMPOUND_PARTS = 12


def normalise_text(text: str) -> str:
    """Fold case and accents: "Zoë MÜLLER" -> "zoe muller". Used for documents and queries alike."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if ch < "\x80" or unicodedata.category(ch) != "Mn")
    # NFC re-composes what stripping left decomposed (Hangul syllables); Latin has nothing left to compose.
    return unicodedata.normalize("NFC", text.translate(_SPECIAL))


_JOINER_CLASS = "".join("\\" + ch for ch in JOINERS)
_APOSTROPHE_CLASS = "".join(APOSTROPHES)
# Runs of word characters (\w: Unicode letters and digits, and "_"), joiners and apostrophes; anything else
# separates. Nearly the classes FTS5's unicode61 tokenizer keeps (it also keeps private-use characters).
_CHUNK = re.compile(f"[\\w{_JOINER_CLASS}{_APOSTROPHE_CLASS}]+")
_PLAIN = re.compile(r"[^\W_]+")  # a chunk with no joiner or apostrophe: the common case, one token
_PART_SEPARATORS = re.compile(f"[{_JOINER_CLASS}{_APOSTROPHE_CLASS}]+")
_APOSTROPHE_RUN = re.compile(f"[{_APOSTROPHE_CLASS}]+")
_JOINER_RUN = re.compile(f"([{_JOINER_CLASS}])[{_JOINER_CLASS}]*")


def _chunks(folded: str) -> list[str]:
    """Split folded text into runs of word characters, joiners and apostrophes; all else separates."""
    return _CHUNK.findall(folded)


def _split_parts(chunk: str) -> list[str]:
    return [part for part in _PART_SEPARATORS.split(chunk) if part]


_HAS_APOSTROPHE = re.compile(f"[{_APOSTROPHE_CLASS}]")
_JOINER_REPEAT = re.compile(f"[{_JOINER_CLASS}]{{2}}")


def _compound(chunk: str) -> str:
    """The chunk as one token: apostrophes dropped, outer joiners stripped, joiner runs collapsed."""
    if _HAS_APOSTROPHE.search(chunk):
        chunk = _APOSTROPHE_RUN.sub("", chunk)
    if _JOINER_REPEAT.search(chunk):
        chunk = _JOINER_RUN.sub(lambda match: match.group(1), chunk)
    return chunk.strip(JOINERS)


def _document_chunk_tokens(chunk: str) -> list[str]:
    if _PLAIN.fullmatch(chunk):
        return [chunk]
    compound = _compound(chunk)
    if not compound:
        return []
    parts = _split_parts(chunk)
    tokens = list(parts)
    if len(parts) > 1:
        # The compound and each suffix that starts at a joiner, so a typed fragment from the middle of an
        # address ("mueller@example", "example.com") still prefix-matches one token. Prefixes need no extra
        # token: "maria.mueller" is a prefix of the whole compound. The single last part is a plain word,
        # so every start but the last begins a suffix that still holds a joiner.
        starts = [0] + [i + 1 for i, ch in enumerate(compound) if ch in JOINERS]
        if len(starts) > _MAX_COMPOUND_PARTS:
            starts = starts[-_MAX_COMPOUND_PARTS:]
        tokens.extend(COMPOUND_MARK + compound[start:] for start in starts[:-1])
        # Each apostrophe word joined up: "o'brien-smith" -> "obrien" (the query "o'brien" searches that).
        if _HAS_APOSTROPHE.search(chunk):
            for segment in _split_on_joiners(chunk):
                if any(ch in APOSTROPHES for ch in segment):
                    joined = "".join(ch for ch in segment if ch not in APOSTROPHES)
                    if joined:
                        tokens.append(joined)
    return tokens


def _split_on_joiners(chunk: str) -> list[str]:
    segments = [chunk]
    for joiner in JOINERS:
        segments = [piece for segment in segments for piece in segment.split(joiner)]
    return segments


def document_tokens(text: str) -> list[str]:
    """The tokens stored for one document, de-duplicated, in first-seen order."""
    lowered = text.casefold()
    sources = [normalise_text(lowered)]
    transliterated = lowered.translate(_TRANSLITERATIONS)
    if transliterated != lowered:
        sources.append(normalise_text(transliterated))
    seen: dict[str, None] = {}
    done: set[str] = set()  # chunks already tokenised (the transliterated text repeats most of them)
    for source in sources:
        for chunk in _chunks(source):
            if chunk in done:
                continue
            done.add(chunk)
            for token in _document_chunk_tokens(chunk):
                seen.setdefault(token[:MAX_TOKEN_LENGTH], None)
                if len(seen) >= MAX_DOCUMENT_TOKENS:
                    return list(seen)
    return list(seen)


def document_text(text: str) -> str:
    """What `SearchDocument.text` holds: the document's tokens joined by single spaces."""
    return " ".join(document_tokens(text))


def document_text_merge(*texts: str) -> str:
    """Several `document_text` results as one document: the same tokens `document_text` gives for the
    texts joined by spaces (perhaps in another order, which no search depends on). Lets a bulk writer
    tokenise a record's own part ahead, in another process, and add a shared part (its company's name)
    tokenised once."""
    seen: dict[str, None] = {}
    for text in texts:
        for token in text.split():
            seen.setdefault(token, None)
            if len(seen) >= MAX_DOCUMENT_TOKENS:
                return " ".join(seen)
    return " ".join(seen)


def normalise_terms(text: str) -> list[str]:
    """The query terms: folded, split on punctuation, a chunk with joiners kept whole (an e-mail address).

    Anything that is not a letter, digit or joiner is a separator, so FTS/tsquery syntax typed by the user
    (quotes, `*`, `:`, parentheses, `|`, `!`, `-x`) never survives into a term.
    """
    terms: dict[str, None] = {}
    for chunk in _chunks(normalise_text(text or "")):
        term = chunk if _PLAIN.fullmatch(chunk) else _compound(chunk)
        if any(ch in JOINERS for ch in term):
            term = COMPOUND_MARK + term
        term = term[:MAX_TOKEN_LENGTH]
        if term:
            terms.setdefault(term, None)
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return list(terms)
