"""core.search through its public interface, against real rows (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from contacts.models import Company, Contact
from core import search
from core.search import backends
from core.search.models import SearchDocument
from users.models import User

HOSTILE = [
    '"',
    "*",
    "NEAR(",
    "NEAR(a b)",
    "a OR b",
    "-x",
    ":*",
    "'",
    "\\",
    "&|!",
    "''",
    '"a" AND "b"',
    "col:value",
    "^",
    "(",
    ")",
    "a & b | !c",
    "a <-> b",
    "'a':* & 'b'",
    "\x00",
    "%",
    "_",
    "\u200b",
    "'); DROP TABLE contacts_contact; --",
    "x" * 10_000,
    "a " * 5_000,
    "",
    "   ",
]


def contact(first: str, last: str = "", *, text: str | None = None, **fields) -> Contact:
    """A contact and its search document (the text defaults to the name)."""
    c = Contact.objects.create(first_name=first, last_name=last, **fields)
    search.index("contact", [(c.id, text if text is not None else f"{first} {last}", c.owner_id, c.team_id)])
    return c


def analyze() -> None:
    """PostgreSQL picks the ordering mode from planner estimates: give the planner statistics."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE core_searchdocument")


def ids(queryset) -> list[int]:
    return list(queryset.values_list("id", flat=True))


def found(text: str, **kwargs) -> list[int]:
    return ids(search.filter_queryset(Contact.objects.all(), "contact", text, **kwargs))


# ---------------------------------------------------------------------------------------------------------
# Normalisation (pure Python; the same tokens go to both databases)


def test_normalise_terms_folds_case_accents_and_splits_punctuation():
    assert search.normalise_terms("Zoë MÜLLER, jo-") == ["zoe", "muller", "jo"]
    assert search.normalise_terms("Łukasz Søren Straße ǅ") == ["lukasz", "soren", "strasse", "dz"]
    assert search.normalise_terms("smith,john (acme)") == ["smith", "john", "acme"]
    assert search.normalise_terms("O'Brien") == ["obrien"]
    assert search.normalise_terms("jo jo JO") == ["jo"]


def test_normalise_terms_keeps_addresses_whole():
    assert search.normalise_terms("Maria.Mueller@Example.com") == ["_maria.mueller@example.com"]
    assert search.normalise_terms("example.com.") == ["_example.com"]
    assert search.normalise_terms("+49 151") == ["49", "151"]


@pytest.mark.parametrize("text", HOSTILE)
def test_normalise_terms_never_returns_syntax(text):
    terms = search.normalise_terms(text)
    assert len(terms) <= 12
    for term in terms:
        assert term and len(term) <= 100
        assert not set(term) & set("\"'*():^|!<>\\% \x00"), term


# ---------------------------------------------------------------------------------------------------------
# Matching


@pytest.mark.django_db
def test_every_term_matches_as_a_word_prefix():
    john = contact("John", "Smith")
    jonas = contact("Jonas", "Smithers")
    jane = contact("Jane", "Doe")
    assert set(found("jo smi")) == {john.id, jonas.id}
    assert found("john smith") == [john.id]
    assert found("smith john") == [john.id]
    assert set(found("j")) == {john.id, jonas.id, jane.id}
    assert found("ohn") == []  # prefixes, not substrings
    assert found("john doe") == []  # AND, not OR


@pytest.mark.django_db
def test_a_term_that_prefixes_another_is_implied():
    santos = contact("Ana", "Santos")
    sam = contact("Sam", "Sanders")
    john = contact("John", "Smith")
    assert set(found("sa san")) == {santos.id, sam.id}  # one word may satisfy both terms
    assert found("san sa") == found("sa san")
    assert found("jo john") == [john.id]
    assert found("smith smi") == [john.id]


@pytest.mark.django_db
def test_case_and_accents_are_folded_both_ways():
    muller = contact("Maria", "Müller")
    zoe = contact("Zoë", "Ångström")
    plain = contact("Zoe", "Angstrom")
    assert found("muller") == [muller.id]
    assert found("MÜLLER") == [muller.id]
    assert found("mueller") == [muller.id]  # German transliteration is indexed too
    assert set(found("zoe")) == {zoe.id, plain.id}
    assert set(found("ZOË ÅNG")) == {zoe.id, plain.id}


@pytest.mark.django_db
def test_email_address_and_domain_typed_whole():
    maria = contact("Maria", "Müller", text="Maria Müller maria.mueller@example.com Acme GmbH")
    other = contact("Maria", "Mueller", text="Maria Mueller maria@example.org")
    assert found("maria.mueller@example.com") == [maria.id]
    assert found("Maria.Mueller@EXAMPLE.com") == [maria.id]
    assert found("example.com") == [maria.id]
    assert found("mueller@example") == [maria.id]  # a fragment from the middle, as a prefix
    assert found("maria.mu") == [maria.id]
    assert set(found("example")) == {maria.id, other.id}  # the parts are words too
    assert found("maria@example.org") == [other.id]
    assert found("nobody@example.com") == []


@pytest.mark.django_db
def test_phone_numbers_as_digits():
    ada = contact("Ada", "Lovelace", text="Ada Lovelace +4915123456789")
    contact("Bob", "Builder", text="Bob Builder +4930123456")
    assert found("4915123456789") == [ada.id]
    assert found("+4915123456789") == [ada.id]
    assert found("4915") == [ada.id]
    assert found("15123456789") == []  # the caller normalises phone queries to E.164 digits


@pytest.mark.django_db
def test_hyphens_apostrophes_and_company_names():
    anna = contact("Anna", "Smith-Jones")
    sean = contact("Seán", "O'Brien")
    att = contact("Tina", "Turner", text="Tina Turner AT&T Inc.")
    assert found("smith-jones") == [anna.id]
    assert found("jones") == [anna.id]
    assert found("o'brien") == [sean.id]
    assert found("obrien") == [sean.id]
    assert found("brien sean") == [sean.id]
    assert found("at&t") == [att.id]


@pytest.mark.django_db
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_text_not_syntax(text):
    safe = contact("Xavier", "Near", text="Xavier Near a or b x col value")
    result = found(text)  # must not raise
    assert result in ([], [safe.id])
    # With nothing searchable, nothing matches (rather than everything).
    if not search.normalise_terms(text):
        assert result == []
    assert Contact.objects.filter(pk=safe.pk).exists()


@pytest.mark.django_db
def test_operators_are_plain_words():
    near = contact("Near", "Field", text="near field")
    ab = contact("A", "B", text="a or b")
    assert found("NEAR(") == [near.id]
    assert found("a OR b") == [ab.id]  # three terms, all required; not a disjunction
    assert found("-field") == [near.id]  # not a negation


# ---------------------------------------------------------------------------------------------------------
# Ranking


@pytest.mark.django_db
def test_exact_word_beats_prefix_and_rank_is_annotated():
    johnny = contact("Johnny", "Walker")
    john = contact("John", "Walker")
    johnson = contact("Mary", "Johnson")
    results = list(search.filter_queryset(Contact.objects.all(), "contact", "john"))
    assert results[0].id == john.id
    assert {r.id for r in results} == {john.id, johnny.id, johnson.id}
    ranks = [r.search_rank for r in results]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] > ranks[1]


@pytest.mark.django_db
def test_more_whole_words_rank_higher():
    neither = contact("Johnny", "Smithers")
    partial = contact("Johnny", "Smith")
    both = contact("John", "Smith")
    assert found("john smith") == [both.id, partial.id, neither.id]  # all three match as prefixes
    assert found("john smi")[0] == both.id


@pytest.mark.django_db
def test_ties_are_broken_by_pk():
    first = contact("Alex", "Same")
    second = contact("Alex", "Same")
    third = contact("Alex", "Same")
    assert found("alex same") == [first.id, second.id, third.id]


@pytest.mark.django_db
def test_mid_size_match_sets_put_whole_word_matches_first(monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 1)
    monkeypatch.setattr(search, "TIER_LIMIT", 10)
    johnny = contact("Johnny", "Brown")
    john = contact("John", "Brown")
    browning = contact("John", "Browning")
    johnson = contact("Mary", "Johnson", text="Mary Johnson brownfield")
    analyze()
    results = list(search.filter_queryset(Contact.objects.all(), "contact", "john brown"))
    assert [r.id for r in results] == [john.id, johnny.id, browning.id, johnson.id]
    assert [r.search_rank for r in results] == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.django_db
def test_large_match_sets_come_in_pk_order_unranked(monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 1)
    monkeypatch.setattr(search, "TIER_LIMIT", 2)
    rows = [contact("Johnny", f"N{i}") for i in range(3)] + [contact("John", "X")]
    analyze()
    results = list(search.filter_queryset(Contact.objects.all(), "contact", "john"))
    assert [r.id for r in results] == [r.id for r in rows]
    assert all(r.search_rank is None for r in results)
    assert sorted(found("john", ranked=False)) == [r.id for r in rows]


@pytest.mark.django_db
def test_unranked_keeps_the_callers_order():
    a = contact("Jo", "Zulu")
    b = contact("Jo", "Alpha")
    qs = search.filter_queryset(Contact.objects.order_by("last_name"), "contact", "jo", ranked=False)
    assert ids(qs) == [b.id, a.id]
    assert not hasattr(qs.first(), "search_rank")


# ---------------------------------------------------------------------------------------------------------
# Writing


@pytest.mark.django_db
def test_reindex_replaces_the_old_text():
    c = contact("Maria", "Müller")
    search.index("contact", [(c.id, "Maria Schmidt", None, None)])
    assert found("muller") == []
    assert found("schmidt") == [c.id]
    assert SearchDocument.objects.filter(kind="contact", object_id=c.id).count() == 1
    search.index("contact", [(c.id, "Maria Schmidt", None, None)])  # unchanged: a no-op
    assert found("maria schmidt") == [c.id]


@pytest.mark.django_db
def test_last_text_wins_within_one_call():
    c = Contact.objects.create(first_name="A")
    search.index("contact", [(c.id, "first", None, None), (c.id, "second", None, None)])
    assert found("first") == []
    assert found("second") == [c.id]


@pytest.mark.django_db
def test_remove():
    keep = contact("Keep", "Me")
    gone = contact("Keep", "Gone")
    search.remove("contact", [gone.id, 999_999])  # an unknown id is ignored
    assert found("keep") == [keep.id]
    search.remove("contact", [])
    assert not SearchDocument.objects.filter(kind="contact", object_id=gone.id).exists()


@pytest.mark.django_db
def test_optimize_compacts_and_changes_no_answer():
    from django.db import connection

    people = [contact("Mara", f"Person{i}") for i in range(30)]
    for person in people[:20]:  # one statement each: one FTS5 segment each on SQLite
        search.remove("contact", [person.id])
    before = found("mara")
    segments = "SELECT count(*) FROM core_search_fts_data"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(segments)
            (many,) = cursor.fetchone()
    search.optimize()
    assert found("mara") == before == sorted(p.id for p in people[20:])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(segments)
            assert cursor.fetchone()[0] < many


@pytest.mark.django_db
def test_kinds_are_separate():
    person = contact("Acme", "Person")
    company = Company.objects.create(name="Acme GmbH")
    search.index("company", [(company.id, "Acme GmbH acme.de", None, None)])
    assert found("acme") == [person.id]
    assert ids(search.filter_queryset(Company.objects.all(), "company", "acme")) == [company.id]
    search.remove("company", [company.id])
    assert found("acme") == [person.id]
    with pytest.raises(ValueError):
        search.index("nonsense", [(1, "x")])
    with pytest.raises(ValueError):
        search.filter_queryset(Contact.objects.all(), "nonsense", "x")
    with pytest.raises(ValueError):
        search.index("contact", [(0, "x", None, None)])


@pytest.mark.django_db
def test_index_follows_the_callers_transaction():
    c = Contact.objects.create(first_name="Rolled")
    with pytest.raises(RuntimeError), transaction.atomic():
        search.index("contact", [(c.id, "Rolled Back", None, None)])
        assert found("rolled back") == [c.id]  # visible inside the transaction
        raise RuntimeError
    assert found("rolled") == []
    assert not SearchDocument.objects.filter(object_id=c.id).exists()


@pytest.mark.django_db
def test_bulk_index_5000_rows(django_assert_max_num_queries):
    contacts = Contact.objects.bulk_create(
        [Contact(first_name=f"Person{i}", last_name="Bulk") for i in range(5000)]
    )
    rows = [
        (c.id, f"Person{i} Bulk person{i}@bulk.example +49151{i:07d}", None, None)
        for i, c in enumerate(contacts)
    ]
    with django_assert_max_num_queries(14):  # 10 INSERTs of 500 rows (+ savepoint/transaction statements)
        search.index("contact", rows)
    assert SearchDocument.objects.filter(kind="contact").count() == 5000
    assert found("person4321") == [contacts[4321].id]
    assert found("person4321@bulk.example") == [contacts[4321].id]
    assert found("491510004321") == [contacts[4321].id]
    assert search.filter_queryset(Contact.objects.all(), "contact", "bulk", ranked=False).count() == 5000
    # Re-indexing the same rows again (unchanged) and removing them all in one call.
    search.index("contact", rows)
    search.remove("contact", [c.id for c in contacts])
    assert SearchDocument.objects.count() == 0


# ---------------------------------------------------------------------------------------------------------
# Composition with the caller's query


@pytest.fixture
def owners(db):
    return User.objects.create(username="mine"), User.objects.create(username="theirs")


@pytest.mark.django_db
def test_visibility_filter_and_limit_apply_in_one_statement(owners, django_assert_num_queries):
    mine, theirs = owners
    visible = [contact("Jordan", f"Mine{i}", owner=mine) for i in range(15)]
    for i in range(30):
        contact("Jordan", f"Theirs{i}", owner=theirs)
    queryset = Contact.objects.filter(owner=mine)
    with django_assert_num_queries(2):  # the capped match count, then the search itself
        page = list(search.filter_queryset(queryset, "contact", "jor")[:10])
    assert len(page) == 10
    assert {c.id for c in page} <= {c.id for c in visible}
    sql = str(search.filter_queryset(queryset, "contact", "jor")[:10].query).upper()
    assert sql.count("SELECT") == 1 and "INNER JOIN" in sql and "LIMIT 10" in sql


@pytest.mark.django_db
def test_composes_with_queryset_features(owners):
    mine, theirs = owners
    a = contact("Jo", "Alpha", owner=mine)
    b = contact("Jo", "Beta", owner=theirs)
    contact("Kim", "Gamma", owner=mine)
    qs = search.filter_queryset(Contact.objects.all(), "contact", "jo")
    assert qs.count() == 2
    assert qs.exists()
    assert ids(qs.filter(owner=mine)) == [a.id]
    assert ids(qs.order_by("-id")) == [b.id, a.id]
    assert ids(qs.exclude(pk=a.pk)) == [b.id]
    # (Both match "jo" as a whole word; which ranks first is the backend's business: shorter documents win.)
    assert sorted(c.id for c in qs.select_related("owner").only("id", "first_name", "owner__username")) == [
        a.id,
        b.id,
    ]
    assert sorted(qs.values_list("last_name", flat=True)) == ["Alpha", "Beta"]
    # As a subquery (its aliases are relabelled) and combined with another search (two joins).
    assert ids(Contact.objects.filter(pk__in=qs.values("pk")).order_by("pk")) == [a.id, b.id]
    assert ids(search.filter_queryset(qs, "contact", "alpha")) == [a.id]
    beta = search.filter_queryset(qs, "contact", "beta")
    assert ids(Contact.objects.filter(pk__in=beta.values("pk"))) == [b.id]
    # Writes through a searched queryset touch only the matching rows.
    unranked = search.filter_queryset(Contact.objects.all(), "contact", "beta", ranked=False)
    assert unranked.update(source="x") == 1
    assert list(Contact.objects.filter(source="x").values_list("id", flat=True)) == [b.id]
    search.filter_queryset(Contact.objects.filter(owner=mine), "contact", "jo", ranked=False).delete()
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["Beta", "Gamma"]


@pytest.mark.django_db
def test_empty_or_none_querysets():
    contact("Jo", "Alpha")
    assert found("") == []
    assert found("   ") == []
    assert ids(search.filter_queryset(Contact.objects.none(), "contact", "jo")) == []


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plan")
def test_sqlite_plan_drives_from_fts(owners, monkeypatch):
    mine, _ = owners
    monkeypatch.setattr(search, "RANK_LIMIT", search.RANK_LIMIT)
    monkeypatch.setattr(search, "TIER_LIMIT", search.TIER_LIMIT)
    contact("Jo", "Alpha", owner=mine)
    for limits, ranked in [((300, 2000), True), ((0, 2000), True), ((0, 0), True), ((0, 0), False)]:
        search.RANK_LIMIT, search.TIER_LIMIT = limits  # rank, tier, pk and filter modes
        qs = search.filter_queryset(Contact.objects.filter(owner=mine), "contact", "jo", ranked=ranked)[:20]
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[-1] for row in cursor.fetchall()]
        assert plan[0].startswith(f"SCAN {backends.FTS_TABLE}") or "VIRTUAL TABLE" in plan[0], plan
        assert any("USING INTEGER PRIMARY KEY" in step for step in plan), plan


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite unranked order comes from the FTS rowid")
def test_sqlite_pk_order_needs_no_sort(monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 0)
    monkeypatch.setattr(search, "TIER_LIMIT", 0)
    contact("Jo", "Alpha")
    qs = search.filter_queryset(Contact.objects.all(), "contact", "jo")[:20]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(row[-1] for row in cursor.fetchall())
    assert "TEMP B-TREE" not in plan, plan


# ---------------------------------------------------------------------------------------------------------
# Typo tolerance (core.search.fuzzy)


@pytest.mark.django_db
def test_vocabulary_holds_alphabetic_words_once():
    from core.search.models import SearchTerm

    contact("Johanna", "Schmidt", text="Johanna Schmidt johanna.schmidt@example.com +4915123456789 Ab")
    contact("Johanna", "Schmitt")
    words = set(SearchTerm.objects.values_list("term", flat=True))
    assert {"johanna", "schmidt", "schmitt", "example"} <= words
    assert not {"ab", "4915123456789", "_johanna.schmidt@example.com"} & words
    assert SearchTerm.objects.filter(term="johanna").count() == 1
    row = SearchTerm.objects.get(term="schmidt")
    assert (row.head, row.length) == ("s", 7)


@pytest.mark.django_db
def test_corrections_by_edit_distance():
    from core.search.fuzzy import corrections

    for first, last in [("John", "Smith"), ("Joan", "Smyth"), ("Johnny", "Smithers"), ("Maria", "Schmidt")]:
        contact(first, last)
    assert corrections("jonh") == ["john"]  # a swap; "joan" is two edits away
    assert corrections("smiht") == ["smith"]  # "smyth" is two edits away, too many for five letters
    assert corrections("smithrs") == ["smithers", "smith"]  # seven letters: up to two edits, closest first
    assert "schmidt" in corrections("scmidt")  # a missing letter
    assert "schmidt" in corrections("schmitd")  # two swapped letters
    assert corrections("smi") == []  # too short to correct
    assert corrections("xmith") == []  # the first letter is trusted
    assert corrections("john") == ["joan"]  # never the word itself


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("jonh smith", {"John Smith"}),
        ("john smiht", {"John Smith"}),
        ("jonh smi", {"John Smith"}),  # a typo in one word, the next still being typed
        ("marai", {"Maria Garcia"}),
        ("garcai", {"Maria Garcia"}),
    ],
)
def test_typos_find_the_record(typed, expected):
    people = [contact("John", "Smith"), contact("Maria", "Garcia"), contact("Peter", "Brown")]
    analyze()
    assert ids(search.filter_queryset(Contact.objects.all(), "contact", typed)) == []
    found = search.filter_queryset(Contact.objects.all(), "contact", typed, typos=True)
    names = {str(c) for c in found}
    assert names == expected, typed
    assert all(c.pk in {p.pk for p in people} for c in found)


@pytest.mark.django_db
def test_typo_search_keeps_the_callers_filter():
    owner = User.objects.create(username="finder")
    mine = contact("John", "Smith", owner=owner)
    contact("John", "Smith")
    found = search.filter_queryset(Contact.objects.filter(owner=owner), "contact", "jonh", typos=True)
    assert ids(found) == [mine.pk]


@pytest.mark.django_db
def test_nothing_to_correct_matches_nothing():
    contact("John", "Smith")
    assert ids(search.filter_queryset(Contact.objects.all(), "contact", "zzzzzz", typos=True)) == []
    assert ids(search.filter_queryset(Contact.objects.all(), "contact", "jo", typos=True)) == []


@pytest.mark.parametrize(
    ("own", "shared"),
    [
        ("Søren O'Brien-Müller soren.obrien@example.com +4915123456789", "Müller & Söhne GmbH"),
        ("Ada ada@x.example", ""),
        ("", "AT&T"),
        ("Zoë zoe@same.example", "same.example Zoë"),
    ],
)
def test_merged_document_holds_the_tokens_of_the_joined_text(own, shared):
    """Bulk writers tokenise a contact's own part ahead and add the company's tokens later: the merged
    document must hold exactly the tokens of tokenising the whole text at once."""
    from core.search.text import document_text, document_text_merge

    merged = document_text_merge(document_text(own), document_text(shared))
    whole = document_text(f"{own} {shared}")
    assert sorted(merged.split()) == sorted(whole.split())
    assert len(merged.split()) == len(set(merged.split()))


def test_bulk_and_single_create_index_the_same_tokens(db):
    from contacts import bulk
    from contacts.services import company_create, contact_create

    admin = User.objects.create(username="tok-admin", role="admin")
    company = company_create(actor=admin, data={"name": "Müller & Söhne"})
    data = {
        "first_name": "Søren",
        "last_name": "O'Brien",
        "email": "soren.obrien@example.com",
        "phone": "+49 151 23456789",
        "company_id": company.pk,
    }
    single = contact_create(actor=admin, data=dict(data))
    ids: list[int] = []
    bulk.contacts_bulk_create(actor=admin, rows=[dict(data, email="soren.obrien@example.com")], ids=ids)
    texts = dict(
        SearchDocument.objects.filter(kind="contact", object_id__in=[single.pk, ids[0]]).values_list(
            "object_id", "text"
        )
    )
    assert sorted(texts[single.pk].split()) == sorted(texts[ids[0]].split())
