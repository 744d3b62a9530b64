"""Per-database search backends: SQLite FTS5 and PostgreSQL tsvector + GIN.

Both compose the search into the caller's query as an INNER JOIN on the search table (not `pk IN (...)`):
- on SQLite the FTS5 table becomes the outer loop, yields matches in rowid order and maps each one to its
  object id by arithmetic (rowid = kind code << 40 | object id), so "first 20 visible matches in pk order"
  stops after 20 visible rows however many documents match. `pk IN (subquery)` instead materialised every
  match first: 20-60 ms for a 2-letter prefix at 1M rows, against under 1 ms for the join.
- on PostgreSQL the join on (kind, object_id) lets the planner either drive from the GIN bitmap (few
  matches) or walk the caller's table in pk order probing the (kind, object_id) index (many matches).

Ordering depends on how many documents of the kind match (SQLite: a count capped at the tier limit, cheap
off the FTS doclists; PostgreSQL: the planner's estimate, since counting there means a heap fetch per match
-- 10-30 ms at 1M documents -- while the estimate is within ~1.5x with the raised statistics target):
- up to RANK_LIMIT: full relevance (FTS5 bm25 / ts_rank), best first, then pk;
- up to TIER_LIMIT: whole-word matches first ("john brown" puts the John Browns before the Johnsons), then
  pk -- a membership test per match instead of a score;
- beyond: pk order only. Any ordering other than pk must look at every match before returning the first
  row, and a 2-letter prefix matches a quarter of a million documents at 1M rows (bm25 over those:
  150-700 ms); in pk order the scan stops after the first 20 visible matches.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence

from django.db import connections
from django.db.models import Expression, FloatField, QuerySet, Value
from django.db.models.sql.constants import INNER

# Default match-count thresholds (documents of the kind, before visibility); each backend's rank_limit and
# tier_limit say why (the same values measured best on both).
RANK_LIMIT = 300
TIER_LIMIT = 2000
KIND_SHIFT = 40
TABLE = "core_searchdocument"
FTS_TABLE = "core_search_fts"
# PostgreSQL: terms up to this length are looked up as one exact "^term" prefix lexeme (see migration 0003,
# core_search_tsvector); longer ones as a tsquery prefix match, whose expansion is then small.
PG_PREFIX_LEXEME_LENGTH = 8
# PostgreSQL: the lexemes of a document's owner and team (migration 0006; "~" never occurs in a token).
SCOPE_OWNER = "~o"
SCOPE_TEAM = "~t"
# PostgreSQL: the user's scope goes into the tsquery only when the planner expects at most this share of all
# documents to match (PostgresBackend._scope_pays).
SCOPE_DENSITY = 0.02
UPSERT_BATCH = 500  # rows per INSERT statement: 3,000 parameters, under the 32,766 of SQLite >= 3.32


# ---------------------------------------------------------------------------------------------------------
# Composing a join on the search table into the caller's query


class _SearchJoin:
    """An entry for Query.alias_map: INNER JOIN <table> <alias> ON (<condition>).

    Django has no public API for joining a table that no model relation leads to; this implements the
    small protocol Query/SQLCompiler expect of alias_map entries (as django.db.models.sql.datastructures.Join
    does). The ON condition is rendered from `parent_alias` at compile time, so it survives the alias
    relabelling Django does when the queryset is used as a subquery.
    """

    filtered_relation = None
    nullable = False

    def __init__(self, table_name, parent_alias, pk_column, condition, params, table_alias=None):
        self.table_name = table_name
        self.parent_alias = parent_alias
        self.table_alias = table_alias
        self.pk_column = pk_column
        self.condition = condition  # str.format template: {alias}, {pk}
        self.params = tuple(params)
        self.join_type = INNER

    def as_sql(self, compiler, connection):
        qn = compiler.quote_name_unless_alias
        pk = f"{qn(self.parent_alias)}.{connection.ops.quote_name(self.pk_column)}"
        alias = qn(self.table_alias)
        name = qn(self.table_name)
        alias_sql = "" if self.table_alias == self.table_name else f" {alias}"
        on = self.condition.format(alias=alias, pk=pk)
        return f"{INNER} {name}{alias_sql} ON ({on})", list(self.params)

    def relabeled_clone(self, change_map):
        return self.__class__(
            self.table_name,
            change_map.get(self.parent_alias, self.parent_alias),
            self.pk_column,
            self.condition,
            self.params,
            change_map.get(self.table_alias, self.table_alias),
        )

    # An inner join on a search match must never become a LEFT JOIN: that would drop the filter.
    def promote(self):
        return self

    def demote(self):
        return self

    @property
    def identity(self):
        return (self.__class__, self.table_name, self.parent_alias, self.condition, self.params)

    def __eq__(self, other):
        return isinstance(other, _SearchJoin) and self.identity == other.identity

    def __hash__(self):
        return hash(self.identity)


class _JoinedExpression(Expression):
    """SQL over the joined search table's alias (its rank, its rowid), kept right through relabelling."""

    def __init__(self, alias: str, template: str, params: Sequence = (), output_field=None):
        super().__init__(output_field=output_field or FloatField())
        self.alias = alias
        self.template = template
        self.params = tuple(params)

    def as_sql(self, compiler, connection):
        return self.template.format(alias=compiler.quote_name_unless_alias(self.alias)), list(self.params)

    def relabeled_clone(self, change_map):
        clone = copy.copy(self)
        clone.alias = change_map.get(self.alias, self.alias)
        return clone

    def get_group_by_cols(self):
        return [self]

    @property
    def identity(self):
        return (self.__class__, self.alias, self.template, self.params)

    def __eq__(self, other):
        return isinstance(other, _JoinedExpression) and self.identity == other.identity

    def __hash__(self):
        return hash(self.identity)


def _join(queryset: QuerySet, table: str, condition: str, params: Sequence) -> tuple[QuerySet, str]:
    queryset = queryset.all()
    query = queryset.query
    parent = query.get_initial_alias()
    join = _SearchJoin(table, parent, queryset.model._meta.pk.column, condition, params)
    alias = query.join(join, reuse=set())
    return queryset, alias


# ---------------------------------------------------------------------------------------------------------
# Backends


class SearchBackend:
    vendor = ""
    rank_limit = RANK_LIMIT
    tier_limit = TIER_LIMIT

    # Writing --------------------------------------------------------------------------------------------

    # NULL-safe inequality: SQLite spells it IS NOT, PostgreSQL IS DISTINCT FROM.
    distinct = "IS NOT"

    @property
    def upsert_sql(self) -> str:
        changed = " OR ".join(
            f"{TABLE}.{column} {self.distinct} excluded.{column}" for column in ("owner_id", "team_id")
        )
        return (
            f"INSERT INTO {TABLE} (id, kind, object_id, text, owner_id, team_id) VALUES {{values}} "
            "ON CONFLICT (id) DO UPDATE SET text = excluded.text, owner_id = excluded.owner_id, "
            f"team_id = excluded.team_id WHERE {TABLE}.text <> excluded.text OR {changed}"
        )

    def upsert(self, connection, rows: Sequence[tuple]) -> None:
        """rows: (document id, kind, object id, normalised text, owner id, team id), sorted by id.

        The WHERE on the update skips rows that did not change: re-saving a record without touching its
        name/e-mails/owner then costs neither an FTS5 delete+insert nor a dead tuple + GIN update (and on
        SQLite an owner change alone leaves FTS5 alone: its update trigger fires on a new text only).
        Sorted ids make concurrent writers lock documents in the same order (no deadlocks on PostgreSQL).
        """
        sql = self.upsert_sql
        with connection.cursor() as cursor:
            for start in range(0, len(rows), UPSERT_BATCH):
                batch = rows[start : start + UPSERT_BATCH]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch))
                cursor.execute(sql.format(values=values), [v for row in batch for v in row])

    def set_owner(self, connection, ids: Sequence[int], owner_id: int | None) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(ids), UPSERT_BATCH):
                batch = ids[start : start + UPSERT_BATCH]
                cursor.execute(
                    f"UPDATE {TABLE} SET owner_id = %s WHERE id IN ({', '.join(['%s'] * len(batch))})",
                    [owner_id, *batch],
                )

    def delete(self, connection, ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(ids), UPSERT_BATCH):
                batch = ids[start : start + UPSERT_BATCH]
                cursor.execute(f"DELETE FROM {TABLE} WHERE id IN ({', '.join(['%s'] * len(batch))})", batch)

    def optimize(self, connection) -> None:
        """Compact the index after many deletions (nothing to do where the database does it itself)."""

    # Reading --------------------------------------------------------------------------------------------

    def count_matches(
        self, connection, kind: str, code: int, terms: list[str], limit: int, scope=None
    ) -> int:
        """How many documents of the kind match, within `scope` where the backend uses it (no need to be
        exact beyond `limit`)."""
        raise NotImplementedError

    def filter(
        self,
        queryset: QuerySet,
        kind: str,
        code: int,
        terms: list[str],
        mode: str,
        rank_terms: list[str],
        after: int | None = None,
        scope=None,
        matches: int | None = None,
    ) -> QuerySet:
        """`terms` must all match; `rank_terms` (the terms as typed, a superset) are scored. `scope` (a
        core.visibility.Scope or None) is the visibility already on `queryset`; a backend may repeat it on
        the documents. `matches` is count_matches' answer when the caller already has it.

        mode: "filter" (no ordering change), "rank" (best first, then pk), "tier" (whole-word matches first,
        then pk), "pk" (pk order), or "id_desc" / "id_asc" (pk order the index serves, ids beyond `after`
        only: a keyset page)."""
        raise NotImplementedError

    def filter_alternatives(
        self, queryset: QuerySet, kind: str, code: int, groups: list[list[str]], scope=None
    ) -> QuerySet:
        """Every group must match: its first term as a word prefix, or any other as a whole word; pk order."""
        raise NotImplementedError


class SQLiteBackend(SearchBackend):
    """FTS5 external-content table over core_searchdocument, rowid = document id (migration 0003)."""

    vendor = "sqlite"
    # bm25 costs ~15 us a match at 1M documents (300: under ~5 ms); the whole-word tier ~2 us a match. In pk
    # order FTS5 visits only matches, in order, so even the broadest prefix stays around a millisecond.
    rank_limit = 300
    tier_limit = 2000

    def optimize(self, connection) -> None:
        """FTS5 keeps a deleted document's entries in its segments, marked deleted, until segments merge;
        after a mass deletion (an import of 100,000s of contacts undone) every prefix search reads past
        them: measured at 1M contacts after 1.5M documents came and went, the member's "mar" went from
        15 to 50 ms p95 and the admin's from 5 to 35. 'optimize' merges all segments into one (about 30 s
        for 1M documents, holding the write lock)."""
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")

    @staticmethod
    def _phrase(term: str) -> str:
        # A double-quoted FTS5 string: everything inside is literal text for the tokenizer, with " doubled.
        # (Terms cannot contain quotes anyway -- they are separators in core.search.text.)
        return '"' + term.replace('"', '""') + '"'

    def match_prefix(self, terms: list[str]) -> str:
        return " AND ".join(self._phrase(t) + "*" for t in terms)

    def match_exact(self, terms: list[str]) -> str:
        return " AND ".join(self._phrase(t) for t in terms)

    def match_ranked(self, terms: list[str]) -> str:
        # Same documents as match_prefix; bm25 sums over phrases, so a whole-word hit adds a second match:
        # "john" scores John above Johnny.
        return " AND ".join(f"({self._phrase(t)} OR {self._phrase(t)}*)" for t in terms)

    @staticmethod
    def _range(code: int) -> tuple[int, int]:
        return code << KIND_SHIFT, ((code + 1) << KIND_SHIFT) - 1

    # FTS5 drives SQLite's searches and probes the records by id, which already applies their visibility:
    # `scope` is not used here.

    def count_matches(self, connection, kind, code, terms, limit, scope=None):
        low, high = self._range(code)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
                "AND rowid BETWEEN %s AND %s LIMIT %s)",
                [self.match_prefix(terms), low, high, limit],
            )
            return cursor.fetchone()[0]

    def filter(self, queryset, kind, code, terms, mode, rank_terms, after=None, scope=None, matches=None):
        low, high = self._range(code)
        # `{pk} = rowid - low` (not `rowid = {pk} + low`) leaves SQLite one usable plan: FTS5 outer, the
        # caller's table probed by primary key.
        condition = (
            f"{{pk}} = {{alias}}.rowid - %s AND {{alias}}.{FTS_TABLE} MATCH %s "
            "AND {alias}.rowid BETWEEN %s AND %s"
        )
        match = self.match_ranked(rank_terms) if mode == "rank" else self.match_prefix(terms)
        first, last = low, high
        if after is not None and mode == "id_desc":
            last = min(high, low + after - 1)
        elif after is not None and mode == "id_asc":
            first = max(low, low + after + 1)
        queryset, alias = _join(queryset, FTS_TABLE, condition, [low, match, first, last])
        if mode in ("id_desc", "id_asc"):
            # The FTS rowid is the document id, in object-id order within the kind: FTS5 walks it in either
            # direction and the LIMIT stops the walk.
            rowid = _JoinedExpression(alias, "{alias}.rowid", output_field=FloatField())
            return queryset.order_by(rowid.desc() if mode == "id_desc" else rowid.asc())
        if mode == "rank":
            # FTS5 `rank` is bm25 negated (lower is better); search_rank is higher-is-better on both backends.
            rank = _JoinedExpression(alias, "(-{alias}.rank)")
            return queryset.annotate(search_rank=rank).order_by("-search_rank", "pk")
        if mode == "tier":
            tier = _JoinedExpression(
                alias,
                f"(CASE WHEN {{alias}}.rowid IN (SELECT e.rowid FROM {FTS_TABLE} e "
                f"WHERE e.{FTS_TABLE} MATCH %s AND e.rowid BETWEEN %s AND %s) THEN 1.0 ELSE 0.0 END)",
                [self.match_exact(rank_terms), low, high],
            )
            return queryset.annotate(search_rank=tier).order_by("-search_rank", "pk")
        if mode == "pk":
            # Order by the FTS rowid alone (same order as pk): FTS5 then returns rows already in order and the
            # LIMIT stops the scan early. Adding pk as a tie-breaker would force a sort of every match.
            rowid = _JoinedExpression(alias, "{alias}.rowid", output_field=FloatField())
            return queryset.annotate(search_rank=Value(None, output_field=FloatField())).order_by(rowid.asc())
        return queryset

    def filter_alternatives(self, queryset, kind, code, groups, scope=None):
        low, high = self._range(code)
        match = " AND ".join(
            "(" + " OR ".join([self._phrase(group[0]) + "*", *(self._phrase(t) for t in group[1:])]) + ")"
            for group in groups
        )
        condition = (
            f"{{pk}} = {{alias}}.rowid - %s AND {{alias}}.{FTS_TABLE} MATCH %s "
            "AND {alias}.rowid BETWEEN %s AND %s"
        )
        queryset, alias = _join(queryset, FTS_TABLE, condition, [low, match, low, high])
        rowid = _JoinedExpression(alias, "{alias}.rowid", output_field=FloatField())
        return queryset.annotate(search_rank=Value(None, output_field=FloatField())).order_by(rowid.asc())


class PostgresBackend(SearchBackend):
    """Generated tsvector column (tokens, "^prefix" lexemes and, for scoped kinds, "~o<owner>"/"~t<team>"
    lexemes) with a GIN index (migrations 0003 and 0006)."""

    vendor = "postgresql"
    distinct = "IS DISTINCT FROM"
    # Ranked/tiered orders fetch every match through the GIN bitmap (~5-7 us each, heap included); in pk
    # order the planner may instead walk the searched table in pk order probing documents (~1 us a row,
    # stopping after the first visible matches). Measured at 1M documents, 2,000 beat 5,000 as the tier
    # limit: above ~3,000 matches the planner starts hash-joining every visible row for the tiered order.
    rank_limit = 300
    tier_limit = 2000

    @staticmethod
    def _lexeme(term: str) -> str:
        # A quoted tsquery lexeme: inside single quotes only ' and \ are special; both escaped. The tsquery is
        # cast from a bound parameter (never parsed by a text-search parser/dictionary), so `&|!():*<->`
        # inside a term would be literal -- and cannot occur anyway, being separators in core.search.text.
        return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"

    def query_match(self, terms: list[str]) -> str:
        parts = []
        for term in terms:
            if len(term) <= PG_PREFIX_LEXEME_LENGTH:
                parts.append(self._lexeme("^" + term))  # one exact GIN entry
            else:
                parts.append(self._lexeme(term) + ":*")
        return " & ".join(parts)

    def query_rank(self, terms: list[str]) -> str:
        # ts_rank over the whole-word lexemes only: a prefix-only match scores 0, each exact word adds.
        # (ts_rank cannot tell "john" from "johnny" under a prefix query -- measured, identical scores.)
        return " | ".join(self._lexeme(t) for t in terms)

    def query_exact(self, terms: list[str]) -> str:
        return " & ".join(self._lexeme(t) for t in terms)

    def with_scope(self, match: str, scope) -> str:
        """The tsquery `match` narrowed to `scope` by the owner/team lexemes of the documents (migration
        0006): `match & ('~o1' | '~o2' | '~t7')`. One GIN scan answers both, and GIN's fast scan walks the
        short posting list of the user's owner lexeme instead of the long one of a common prefix (a
        member's "mar" at 1M: 2.4 ms against 37 ms for a bitmap AND of separate indexes, and against
        48 ms for probing the document of each of their records)."""
        if scope is None:
            return match
        lexemes = [self._lexeme(f"{SCOPE_OWNER}{i}") for i in scope.owner_ids]
        lexemes += [self._lexeme(f"{SCOPE_TEAM}{i}") for i in scope.team_ids]
        if not lexemes:
            lexemes = [self._lexeme(f"{SCOPE_OWNER}none")]  # matches no document
        return f"({match}) & ({' | '.join(lexemes)})"

    def count_matches(self, connection, kind, code, terms, limit, scope=None):
        # The planner's row estimate (tsvector statistics, target 1000 in migration 0003): ~0.5 ms, and
        # for single terms within a few percent of the truth at 1M documents; AND-ed terms are assumed
        # independent (measured within ~1.5x). An exact count would fetch every match from the heap.
        # Over every document of the kind, not only the user's scope: counted within the scope, a member's
        # few hundred matches of a common prefix would all be fetched and ranked (measured at 1M: twice
        # the time of the pk order, which stops at the first visible matches).
        with connection.cursor() as cursor:
            cursor.execute(
                f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {TABLE} WHERE kind = %s AND tsv @@ %s::tsquery",
                [kind, self.query_match(terms)],
            )
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def _scope_pays(self, connection, kind: str, terms: list[str], scope, matches: int | None = None) -> bool:
        """Whether narrowing the tsquery to `scope` pays: only when the match is sparse. For a dense match
        (a short common prefix) the planner does better walking the user's own records in the wanted
        order and stopping at the first visible matches than fetching every match in scope from the heap
        (measured at 1M, a member's "mar": 4 ms against 10 ms; "mar sch": 48 ms against 3 ms)."""
        if scope is None:
            return False
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT reltuples FROM pg_class WHERE oid = '{TABLE}'::regclass")
            total = cursor.fetchone()[0]  # -1 before the first ANALYZE
        if total < 10_000:
            return True  # small enough for either plan
        if matches is None:
            matches = self.count_matches(connection, kind, 0, terms, 0)
        return matches <= SCOPE_DENSITY * total

    def filter(self, queryset, kind, code, terms, mode, rank_terms, after=None, scope=None, matches=None):
        condition = "{alias}.kind = %s AND {alias}.object_id = {pk} AND {alias}.tsv @@ %s::tsquery"
        if not self._scope_pays(connections[queryset.db], kind, terms, scope, matches):
            scope = None
        params = [kind, self.with_scope(self.query_match(terms), scope)]
        if mode in ("id_desc", "id_asc"):
            if after is not None:
                # The bound on both sides of the join: a merge join walking the documents backwards then
                # starts at the cursor instead of at the newest document (measured: 450 ms -> ms).
                queryset = queryset.filter(**{"pk__lt" if mode == "id_desc" else "pk__gt": after})
                condition += " AND {alias}.object_id " + ("<" if mode == "id_desc" else ">") + " %s"
                params.append(after)
            queryset, _alias = _join(queryset, TABLE, condition, params)
            return queryset.order_by("-pk" if mode == "id_desc" else "pk")
        queryset, alias = _join(queryset, TABLE, condition, params)
        if mode == "rank":
            rank = _JoinedExpression(
                alias, "ts_rank({alias}.tsv, %s::tsquery, 1)", [self.query_rank(rank_terms)]
            )
            return queryset.annotate(search_rank=rank).order_by("-search_rank", "pk")
        if mode == "tier":
            tier = _JoinedExpression(
                alias,
                "(CASE WHEN {alias}.tsv @@ %s::tsquery THEN 1.0 ELSE 0.0 END)",
                [self.query_exact(rank_terms)],
            )
            return queryset.annotate(search_rank=tier).order_by("-search_rank", "pk")
        if mode == "pk":
            return queryset.annotate(search_rank=Value(None, output_field=FloatField())).order_by("pk")
        return queryset

    def filter_alternatives(self, queryset, kind, code, groups, scope=None):
        match = " & ".join(
            "(" + " | ".join([self.query_match([group[0]]), *(self._lexeme(t) for t in group[1:])]) + ")"
            for group in groups
        )
        condition = "{alias}.kind = %s AND {alias}.object_id = {pk} AND {alias}.tsv @@ %s::tsquery"
        queryset, _alias = _join(queryset, TABLE, condition, [kind, self.with_scope(match, scope)])
        return queryset.annotate(search_rank=Value(None, output_field=FloatField())).order_by("pk")


_BACKENDS: dict[str, SearchBackend] = {"sqlite": SQLiteBackend(), "postgresql": PostgresBackend()}


def backend_for(alias: str) -> tuple[SearchBackend, object]:
    connection = connections[alias]
    try:
        return _BACKENDS[connection.vendor], connection
    except KeyError:
        raise NotImplementedError(f"core.search has no backend for {connection.vendor!r} databases")
