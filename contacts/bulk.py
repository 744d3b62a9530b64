"""Bulk creation of contacts and companies (the seed generator, imports) and the key lookups an import's
create-or-update runs per batch.

The rows take the same keys as `contact_create` / `company_create` and are validated with the same helpers
(and the same messages), but with everything that costs a query per row done once per call or per batch:
owners, teams, custom-field definitions, visible companies and tags. Each batch is written in one
transaction: the records, their e-mails, phones, addresses, roles and tag links, one `created` history
entry and one `<noun>.created` outbox event per record, and the search documents.

The rows are written raw through `core.bulkwrite` (explicit columns, executemany on SQLite, COPY on
PostgreSQL, ids allocated ahead; why: see that module); the history and event rows are the ones
`contact_create` writes, which the tests compare.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from types import SimpleNamespace

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Model

from core import search
from core.bulkwrite import Writer
from core.bulkwrite import allocate_ids as _allocate_ids
from core.custom_fields import custom_fields_for, custom_values_clean
from core.normalize import domain_normalize, email_normalize, phone_normalize
from core.search.text import document_text, document_text_merge
from core.services import model_fields_clean
from core.visibility import require_create, restrict, role_of
from users.models import Team, User

from .models import Address, Company, Contact, ContactEmail, ContactPhone, ContactRole
from .services import (
    ADDRESS_FIELDS,
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    COUNTRIES,
    MAX_LIST_ITEMS,
    _as_list,
    _clean_addresses,
    _clean_entries,
    _clean_tags,
    _id_or_error,
    _tags_resolve,
    company_search_text,
    contact_search_text,
)

RowErrors = list[tuple[int, dict[str, list[str]]]]
Progress = Callable[[int], None]


# ---------------------------------------------------------------------------------------------------------
# Cheap validation


_LOCAL_PART = re.compile(r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*\Z")
_DOMAIN_CACHE_LIMIT = 100_000


class EmailNormalizer:
    """`email_normalize` with the domain validated once per distinct domain.

    Validating the domain (IDNA, DNS syntax rules) is most of `email_validator`'s cost, and an import has
    few distinct domains. The fast path takes only plain ASCII dot-atom local parts, for which the library's
    normalisation is the identity before lower-casing; anything else goes through `email_normalize`, so the
    result and the error message are always exactly its own.
    """

    def __init__(self) -> None:
        self._domains: dict[str, str | None] = {}

    def __call__(self, text: str) -> str:
        text = (text or "").strip()
        local, at, domain = text.rpartition("@")
        if at and len(local) <= 64 and domain.isascii() and _LOCAL_PART.match(local):
            normalised_domain = self._domains.get(domain, False)
            if normalised_domain is False:
                try:
                    normalised_domain = email_normalize("x@" + domain).partition("@")[2]
                except ValueError:
                    normalised_domain = None
                if len(self._domains) < _DOMAIN_CACHE_LIMIT:
                    self._domains[domain] = normalised_domain
            if normalised_domain:
                result = (local + "@" + normalised_domain).lower()
                if len(result) <= 254:
                    return result
        return email_normalize(text)


_TEXT_TYPES = {"CharField", "TextField", "SlugField"}


class ScalarCleaner:
    """`model_fields_clean` with a fast path for the common case (text within its length and choices,
    dates as `date` objects); anything else takes the model's own field validation, per field."""

    def __init__(self, model: type[Model], names: list[str]) -> None:
        self.model = model
        self.names = names
        self.fast: dict[str, tuple[str, int | None, frozenset | None, bool]] = {}
        self.defaults: dict[str, object] = {}
        for name in names:
            field = model._meta.get_field(name)
            kind = field.get_internal_type()
            self.defaults[field.attname] = field.get_default()
            choices = frozenset(str(k) for k, _ in field.flatchoices) if field.choices else None
            if kind in _TEXT_TYPES:
                self.fast[name] = ("text", field.max_length, choices, field.blank)
            elif kind == "DateField" and field.null:
                self.fast[name] = ("date", None, None, True)

    def __call__(self, data: dict) -> tuple[dict, dict[str, list[str]]]:
        cleaned: dict = {}
        slow: list[str] = []
        fast = self.fast
        for name in self.names:
            if name not in data:
                continue
            value = data[name]
            spec = fast.get(name)
            if spec is not None:
                kind, max_length, choices, blank = spec
                if kind == "text" and isinstance(value, str):
                    value = value.strip()
                    if (
                        (max_length is None or len(value) <= max_length)
                        and "\x00" not in value
                        and (value in choices if choices is not None and value else True)
                        and (value or blank)
                    ):
                        cleaned[name] = value
                        continue
                elif kind == "date" and (value is None or value == ""):
                    cleaned[name] = None
                    continue
                elif kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    cleaned[name] = value
                    continue
            slow.append(name)
        if not slow:
            return cleaned, {}
        more, errors = model_fields_clean(self.model, data, slow)
        cleaned.update(more)
        return cleaned, errors


def _addresses_clean(errors, value, cleaner: ScalarCleaner) -> list[dict] | None:
    """`_clean_addresses` of contacts.services without its per-field model validation when every value is
    plainly fine; anything else goes through it, for its exact messages."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) > MAX_LIST_ITEMS:
        return _clean_addresses(errors, value)
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return _clean_addresses(errors, value)
        data = {k: item.get(k) for k in ADDRESS_FIELDS if item.get(k) is not None}
        if isinstance(data.get("country"), str):
            data["country"] = data["country"].strip().upper()
        cleaned, field_errors = cleaner(data)
        if field_errors or (cleaned.get("country") and cleaned["country"] not in COUNTRIES):
            return _clean_addresses(errors, value)
        cleaned.setdefault("kind", Address.Kind.WORK)
        cleaned["is_primary"] = bool(item.get("is_primary")) or (index == 0)
        result.append({k: cleaned.get(k, "") for k in _ADDRESS_KEYS})
    return result


_ADDRESS_KEYS = [*ADDRESS_FIELDS, "is_primary"]


# ---------------------------------------------------------------------------------------------------------
# Ownership, checked in memory (the rules of core.services.ownership_resolve, looked up once per call)


class Ownership:
    """Who may own and which team may share the records `actor` creates. `actor=None` is the console
    (the seed, a management command) with an administrator's rights and no name in the history."""

    def __init__(self, actor, *, owner_ids: Iterable[int] | None, team_ids: Iterable[int] | None) -> None:
        self.actor = actor
        self.role = "admin" if actor is None else role_of(actor)
        self.actor_id = getattr(actor, "pk", None)
        self.active_ids = set(User.objects.filter(is_active=True).values_list("id", flat=True))
        # A user's default team is their first team in the order `User.team_ids` gives (by team name).
        self.user_teams: dict[int, list[int]] = {}
        for user_id, team_id in (
            User.teams.through.objects.filter(user_id__in=self.active_ids)
            .order_by("team__name", "team_id")
            .values_list("user_id", "team_id")
        ):
            self.user_teams.setdefault(user_id, []).append(team_id)
        self.existing_team_ids = set(Team.objects.values_list("id", flat=True))
        self.actor_team_ids = set(actor.team_ids) if actor is not None else set()
        self.managed_ids = set(actor.managed_user_ids) if self.role == "manager" else set()
        self.share_by_default = settings.CRM_SHARE_WITH_TEAM_BY_DEFAULT
        self.owner_cycle = list(owner_ids or [])
        self.team_cycle = list(team_ids or [])
        self._owner_turn = 0
        self._team_turn = 0

    def resolve(self, data: dict, errors: dict[str, list[str]]) -> tuple[int | None, int | None]:
        owner_id = _id_or_error(errors, "owner_id", data["owner_id"]) if "owner_id" in data else None
        team_id = _id_or_error(errors, "team_id", data["team_id"]) if "team_id" in data else None
        if owner_id is None and self.owner_cycle:
            owner_id = self.owner_cycle[self._owner_turn % len(self.owner_cycle)]
            self._owner_turn += 1
        if owner_id is None:
            owner_id = self.actor_id
        if team_id is None and self.team_cycle:
            team_id = self.team_cycle[self._team_turn % len(self.team_cycle)]
            self._team_turn += 1
        owner_ok = True
        if owner_id is not None:
            if owner_id not in self.active_ids:
                errors["owner_id"] = ["No active user with this id."]
                owner_ok = False
            elif (
                self.role == "member"
                and owner_id != self.actor_id
                and not set(self.user_teams.get(owner_id, ())) & self.actor_team_ids
            ):
                errors["owner_id"] = ["You may assign records only to yourself or people in your teams."]
            elif self.role == "manager" and owner_id not in self.managed_ids:
                errors["owner_id"] = ["You may assign records only to people in the teams you manage."]
        if team_id is not None:
            team_id = team_id or None
            if team_id is not None and self.role != "admin" and team_id not in self.actor_team_ids:
                errors["team_id"] = ["You may share records only with your own teams."]
            elif team_id is not None and team_id not in self.existing_team_ids:
                errors["team_id"] = ["No team with this id."]
        elif self.share_by_default and owner_id is not None and owner_ok and self.user_teams.get(owner_id):
            team_id = self.user_teams[owner_id][0]
        return owner_id, team_id


# What a `created` history entry leaves out of the snapshot (as contact_create / company_create do: the
# id, and the contact's mirrors of fields the entry already shows).
_CONTACT_HISTORY_SKIP = frozenset({"id", "stage", "email", "phone"})
_COMPANY_HISTORY_SKIP = frozenset({"id"})


def _created_changes(snapshot: dict, related: dict, skip: frozenset) -> dict:
    """The `changes` of a `created` history entry: every non-empty value, as (None, value)."""
    return {k: v for k, v in {**snapshot, **related}.items() if v not in (None, "", [], {}) and k not in skip}


def _address_text(address: dict) -> str:
    return ", ".join(
        p for p in (address["street"], address["postal_code"], address["city"], address["country"]) if p
    )


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _cleaned_batches(rows: Iterable, batch_size: int, clean, context, workers: int) -> Iterator[tuple]:
    """(plans, errors) per batch: plans as (row index, plan), errors as (row index, {field: messages})."""

    def produce() -> Iterator[tuple]:
        offset = 0
        for batch in _batches(rows, batch_size):
            plans, errors = [], []
            for index, data in enumerate(batch, start=offset):
                plan, row_errors = clean(data, context=context)
                if row_errors:
                    errors.append((index, row_errors))
                else:
                    plans.append((index, plan))
            offset += len(batch)
            yield plans, errors

    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        return _forked(produce)
    return produce()


def _forked(produce: Callable[[], Iterator]) -> Iterator:
    """Run `produce` in a forked child and yield what it yields, at most about one item ahead."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce_into, args=(produce, sender), daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError("the bulk validation process ended unexpectedly") from None
            if kind == "done":
                return
            if kind == "error":
                raise RuntimeError(f"the bulk validation process failed:\n{payload}")
            yield payload
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()


_inherited_connections: list = []


def _produce_into(produce: Callable[[], Iterator], sender) -> None:
    # The child must never talk over the parent's database connections: forget them (but keep them
    # referenced, so that closing them cannot send a goodbye on the parent's session); should `rows` read
    # from the database here, it opens a connection of its own.
    for alias in connections:
        wrapper = connections[alias]
        _inherited_connections.append(wrapper.connection)
        wrapper.connection = None
    try:
        for item in produce():
            sender.send(("item", item))
        sender.send(("done", None))
    except BaseException:
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def _visible_companies(actor, ids: set[int]) -> dict[int, str]:
    """id -> name of the companies among `ids` that the actor sees (in chunks: SQLite bounds parameters)."""
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 10_000):
        queryset = Company.objects.filter(pk__in=ordered[start : start + 10_000])
        if actor is not None:
            queryset = restrict(queryset, actor, "view")
        found.update(queryset.values_list("pk", "name"))
    return found


def _company_ref(errors, field: str, value) -> int | None:
    """The id part of `_company_visible`: a company id, or an error; visibility is checked per batch."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[field] = ["Enter a company id."]
        return None


def _start(actor, batch_size: int) -> None:
    if actor is not None:
        require_create(actor)
    if batch_size < 1:
        raise ValueError("batch_size must be positive")


# ---------------------------------------------------------------------------------------------------------
# Contacts


_CONTACT_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "owner_id",
    "team_id",
    "version",
    "custom",
    *CONTACT_FIELDS,
    "email",
    "phone",
    "company_id",
]


EMAIL_COLUMNS = ["contact_id", "email", "label", "is_primary"]
PHONE_COLUMNS = ["contact_id", "number", "raw", "label", "is_primary"]


def _contact_clean(data, *, context) -> tuple[dict | None, dict[str, list[str]]]:
    """Validate one row as `contact_create` would; company visibility is checked later, per batch."""
    if not isinstance(data, dict):
        return None, {"__all__": ["Expected an object."]}
    errors: dict[str, list[str]] = {}
    scalars, field_errors = context.scalars(data)
    errors.update(field_errors)

    normalise_email = context.email
    emails = _clean_entries(errors, "emails", data.get("emails"), "email", normalise_email, "work")
    if emails is None and data.get("email") is not None:
        emails = _clean_entries(
            errors, "email", [data["email"]] if data["email"] else [], "email", normalise_email, "work"
        )
    for key in [k for k in errors if k.startswith("email.0")]:
        errors["email"] = errors.pop(key)
    phones = _clean_entries(errors, "phones", data.get("phones"), "number", phone_normalize, "mobile")
    if phones is None and data.get("phone") is not None:
        phones = _clean_entries(
            errors, "phone", [data["phone"]] if data["phone"] else [], "number", phone_normalize, "mobile"
        )
    for key in [k for k in errors if k.startswith("phone.0")]:
        errors["phone"] = errors.pop(key)
    addresses = _addresses_clean(errors, data.get("addresses"), context.address_fields)
    tags = _clean_tags(errors, data.get("tags"))

    # Roles as (company id, title, is_primary, error field); the batch checks the ids are visible.
    roles = None
    if data.get("roles") is not None:
        roles = []
        for index, item in enumerate(_as_list(errors, "roles", data.get("roles"))):
            if not isinstance(item, dict):
                errors[f"roles.{index}"] = ["Expected an object."]
                continue
            field = f"roles.{index}.company_id"
            company_id = _company_ref(errors, field, item.get("company_id"))
            title = item.get("title") or ""
            if not isinstance(title, str) or len(title) > 150:
                errors[f"roles.{index}.title"] = ["Enter a title of at most 150 characters."]
                continue
            if company_id is not None and company_id not in {r[0] for r in roles}:
                roles.append([company_id, title.strip(), bool(item.get("is_primary")), field])
        if roles and not any(r[2] for r in roles):
            roles[0][2] = True
    company_check = None
    if "company_id" in data:
        company_id = _company_ref(errors, "company_id", data.get("company_id"))
        if company_id is not None:
            company_check = company_id
            if roles is None:
                roles = [[company_id, scalars.get("job_title", "") or "", True, "company_id"]]
        elif roles is None:
            roles = []

    custom, custom_errors = custom_values_clean(
        "contacts.contact", data.get("custom"), current=None, fields=context.custom_fields
    )
    errors.update(custom_errors)
    owner_id, team_id = context.ownership.resolve(data, errors)

    if not (scalars.get("first_name") or scalars.get("last_name")) and not emails and not phones:
        errors.setdefault("first_name", ["Give the contact a name, an e-mail address or a phone number."])
    if errors:
        return None, errors
    person = SimpleNamespace(**{name: scalars.get(name, "") or "" for name in _SEARCH_NAME_FIELDS})
    return {
        # The search document's own part, tokenised here (in the validating process when forked); the
        # writer adds the company's name.
        "search_text": document_text(
            contact_search_text(
                person, [e["email"] for e in emails or []], [p["number"] for p in phones or []], ""
            )
        ),
        "scalars": scalars,
        "emails": emails or [],
        "phones": phones or [],
        "addresses": addresses or [],
        "tags": tags or [],
        "roles": roles or [],
        "company_check": company_check,
        "custom": custom,
        "owner_id": owner_id,
        "team_id": team_id,
    }, {}


def contacts_bulk_create(
    *,
    actor,
    rows: Iterable[dict],
    batch_size: int = 5000,
    owner_ids: Iterable[int] | None = None,
    team_ids: Iterable[int] | None = None,
    errors: RowErrors | None = None,
    ids: list[int] | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    validate_only: bool = False,
) -> int:
    """Create contacts from `rows` (the keys of `contact_create`), `batch_size` rows per transaction.

    Rows that fail validation are skipped; each is reported in `errors` as (row index, {field: messages})
    and the others are written. `owner_ids` / `team_ids` spread the rows that name no owner / team over
    these users / teams in turn (each checked against the actor's rights like an explicit one); otherwise
    the owner is the actor and the team the owner's first team, as in `contact_create`. `ids` receives the
    new ids in row order, `progress` the running total after each committed batch. `rows` is consumed
    lazily, so a generator of a million rows needs the memory of one batch. Returns how many were created.

    `workers=2` validates in a second process (forked; it iterates `rows` there, one batch ahead of the
    writes), which on two cores takes the validation off the writer's critical path. Batches that have
    been committed stay committed if a later one fails. `validate_only=True` (an import's dry run) checks
    every row the same way and writes nothing; `ids` then receives 0 per row that would be created.
    """
    _start(actor, batch_size)
    context = SimpleNamespace(
        scalars=ScalarCleaner(Contact, CONTACT_FIELDS),
        address_fields=ScalarCleaner(Address, ADDRESS_FIELDS),
        email=EmailNormalizer(),
        custom_fields=custom_fields_for("contacts.contact"),
        ownership=Ownership(actor, owner_ids=owner_ids, team_ids=team_ids),
    )
    actor_id = getattr(actor, "pk", None)
    created = 0
    for plans, row_errors in _cleaned_batches(rows, batch_size, _contact_clean, context, workers):
        if errors is not None:
            errors.extend(row_errors)
        company_ids = {r[0] for _, p in plans for r in p["roles"]}
        company_names = _visible_companies(actor, company_ids)
        good = []
        for index, plan in plans:
            problems = {}
            if plan["company_check"] is not None and plan["company_check"] not in company_names:
                problems["company_id"] = ["No company with this id."]
            for company_id, _, _, field in plan["roles"]:
                if company_id not in company_names:
                    problems[field] = ["No company with this id."]
            if not problems:
                good.append(plan)
            elif errors is not None:
                errors.append((index, problems))
        if not good:
            continue
        if validate_only:
            new_ids = [0] * len(good)
        else:
            with transaction.atomic():
                new_ids = _contacts_write(good, company_names, actor_id)
        created += len(new_ids)
        if ids is not None:
            ids.extend(new_ids)
        if progress is not None:
            progress(created)
    if errors is not None:
        errors.sort(key=lambda e: e[0])
    return created


def _contacts_write(plans: list[dict], company_names: dict[int, str], actor_id) -> list[int]:
    writer = Writer()
    new_ids = _allocate_ids(Contact, len(plans))
    tag_names = {n for p in plans for n in p["tags"]}
    tags = {t.name.lower(): t for t in _tags_resolve(sorted(tag_names))} if tag_names else {}
    now = writer.now_db
    contact_rows, email_rows, phone_rows, address_rows, role_rows, tag_rows = [], [], [], [], [], []
    history, events, documents = [], [], []
    company_texts: dict[int, str] = {}
    for contact_id, plan in zip(new_ids, plans, strict=True):
        scalars = plan["scalars"]
        values = {name: scalars.get(name, default) for name, default in _CONTACT_DEFAULTS.items()}
        emails = [e["email"] for e in plan["emails"]]
        phones = [p["number"] for p in plan["phones"]]
        roles = sorted(plan["roles"], key=lambda r: not r[2])
        company_id = next((r[0] for r in plan["roles"] if r[2]), None)
        email = emails[0] if emails else ""
        phone = phones[0] if phones else ""
        owner_id, team_id, custom = plan["owner_id"], plan["team_id"], plan["custom"]
        contact_rows.append(
            (
                contact_id,
                now,
                now,
                owner_id,
                team_id,
                1,
                writer.json(custom),
                *(writer.date(values[n]) if n == "birthday" else values[n] for n in CONTACT_FIELDS),
                email,
                phone,
                company_id,
            )
        )
        for e in plan["emails"]:
            email_rows.append((contact_id, e["email"], e["label"], e["is_primary"]))
        for p in plan["phones"]:
            phone_rows.append((contact_id, p["number"], p["raw"][:64], p["label"], p["is_primary"]))
        addresses = sorted(plan["addresses"], key=lambda a: not a["is_primary"])
        for a in addresses:
            address_rows.append((contact_id, *(a[k] for k in ADDRESS_FIELDS), a["is_primary"]))
        for role_company_id, title, is_primary, _ in roles:
            role_rows.append((contact_id, role_company_id, title, is_primary))
        tag_objects = [tags[n.lower()] for n in plan["tags"]]
        for tag in tag_objects:
            tag_rows.append((contact_id, tag.pk))
        snapshot = {
            "id": contact_id,
            **values,
            "stage": values["lifecycle_stage"],
            "email": email,
            "phone": phone,
            "company_id": company_id,
            "owner_id": owner_id,
            "team_id": team_id,
            "custom": custom,
        }
        related = {
            "emails": emails,
            "phones": phones,
            "tags": sorted(t.name for t in tag_objects),
            "addresses": [_address_text(a) for a in addresses],
            "roles": [[r[0], r[1]] for r in roles],
        }
        history.append((contact_id, _created_changes(snapshot, related, _CONTACT_HISTORY_SKIP)))
        events.append((contact_id, snapshot))
        if company_id and company_id not in company_texts:
            company_texts[company_id] = document_text(company_names.get(company_id, ""))
        text = document_text_merge(plan["search_text"], company_texts.get(company_id, ""))
        documents.append((contact_id, text, owner_id, team_id))
    writer.insert(Contact, _CONTACT_COLUMNS, contact_rows)
    writer.insert(ContactEmail, EMAIL_COLUMNS, email_rows)
    writer.insert(ContactPhone, PHONE_COLUMNS, phone_rows)
    writer.insert(Address, ["contact_id", *ADDRESS_FIELDS, "is_primary"], address_rows)
    writer.insert(ContactRole, ["contact_id", "company_id", "title", "is_primary"], role_rows)
    writer.insert(Contact.tags.through, ["contact_id", "tag_id"], tag_rows)
    writer.history(Contact, actor_id, history)
    writer.events("contact.created", Contact, actor_id, events)
    search.index_tokenised("contact", documents)
    return new_ids


_CONTACT_DEFAULTS = {name: Contact._meta.get_field(name).get_default() for name in CONTACT_FIELDS}
_SEARCH_NAME_FIELDS = ("first_name", "middle_name", "last_name")


# ---------------------------------------------------------------------------------------------------------
# Companies


_COMPANY_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "owner_id",
    "team_id",
    "version",
    "custom",
    *COMPANY_FIELDS,
    "parent_id",
]
_COMPANY_DEFAULTS = {name: Company._meta.get_field(name).get_default() for name in COMPANY_FIELDS}


def _company_clean(data, *, context) -> tuple[dict | None, dict[str, list[str]]]:
    """Validate one row as `company_create` would; the parent's visibility is checked per batch."""
    if not isinstance(data, dict):
        return None, {"__all__": ["Expected an object."]}
    errors: dict[str, list[str]] = {}
    data = dict(data)
    if isinstance(data.get("domain"), str):
        domain = data["domain"]
        cached = context.domains.get(domain)
        if cached is None:
            try:
                cached = domain_normalize(domain)
            except ValueError as exc:
                cached = exc
            if len(context.domains) < _DOMAIN_CACHE_LIMIT:
                context.domains[domain] = cached
        if isinstance(cached, ValueError):
            errors["domain"] = [str(cached)]
            data.pop("domain")
        else:
            data["domain"] = cached
    if isinstance(data.get("currency"), str):
        data["currency"] = data["currency"].strip().upper()
    if isinstance(data.get("phone"), str) and data["phone"].strip():
        try:
            data["phone"] = phone_normalize(data["phone"])
        except ValueError as exc:
            errors["phone"] = [str(exc)]
            data.pop("phone")
    scalars, field_errors = context.scalars(data)
    errors.update(field_errors)
    if "currency" in scalars and (len(scalars["currency"]) != 3 or not scalars["currency"].isalpha()):
        errors["currency"] = ["Enter a three-letter currency code such as EUR."]
    if scalars.get("annual_revenue") is not None and scalars["annual_revenue"] < 0:
        errors["annual_revenue"] = ["Annual revenue cannot be negative."]
    if not scalars.get("name"):
        errors.setdefault("name", ["This field is required."])
    parent_id = _company_ref(errors, "parent_id", data.get("parent_id")) if "parent_id" in data else None
    addresses = _addresses_clean(errors, data.get("addresses"), context.address_fields)
    tags = _clean_tags(errors, data.get("tags"))
    custom, custom_errors = custom_values_clean(
        "contacts.company", data.get("custom"), current=None, fields=context.custom_fields
    )
    errors.update(custom_errors)
    owner_id, team_id = context.ownership.resolve(data, errors)
    if errors:
        return None, errors
    return {
        "scalars": scalars,
        "parent_id": parent_id,
        "addresses": addresses or [],
        "tags": tags or [],
        "custom": custom,
        "owner_id": owner_id,
        "team_id": team_id,
    }, {}


def companies_bulk_create(
    *,
    actor,
    rows: Iterable[dict],
    batch_size: int = 5000,
    owner_ids: Iterable[int] | None = None,
    team_ids: Iterable[int] | None = None,
    errors: RowErrors | None = None,
    ids: list[int] | None = None,
    progress: Progress | None = None,
    validate_only: bool = False,
) -> int:
    """Create companies from `rows` (the keys of `company_create`); see `contacts_bulk_create`.
    A `parent_id` must name a company that exists (and that the actor sees) before the call."""
    _start(actor, batch_size)
    context = SimpleNamespace(
        scalars=ScalarCleaner(Company, COMPANY_FIELDS),
        address_fields=ScalarCleaner(Address, ADDRESS_FIELDS),
        domains={},
        custom_fields=custom_fields_for("contacts.company"),
        ownership=Ownership(actor, owner_ids=owner_ids, team_ids=team_ids),
    )
    actor_id = getattr(actor, "pk", None)
    created = 0
    for plans, row_errors in _cleaned_batches(rows, batch_size, _company_clean, context, 1):
        if errors is not None:
            errors.extend(row_errors)
        parents = _visible_companies(actor, {p["parent_id"] for _, p in plans if p["parent_id"] is not None})
        good = []
        for index, plan in plans:
            if plan["parent_id"] is None or plan["parent_id"] in parents:
                good.append(plan)
            elif errors is not None:
                errors.append((index, {"parent_id": ["No company with this id."]}))
        if not good:
            continue
        if validate_only:
            new_ids = [0] * len(good)
        else:
            with transaction.atomic():
                new_ids = _companies_write(good, actor_id)
        created += len(new_ids)
        if ids is not None:
            ids.extend(new_ids)
        if progress is not None:
            progress(created)
    if errors is not None:
        errors.sort(key=lambda e: e[0])
    return created


def _companies_write(plans: list[dict], actor_id) -> list[int]:
    writer = Writer()
    new_ids = _allocate_ids(Company, len(plans))
    tag_names = {n for p in plans for n in p["tags"]}
    tags = {t.name.lower(): t for t in _tags_resolve(sorted(tag_names))} if tag_names else {}
    now = writer.now_db
    company_rows, address_rows, tag_rows = [], [], []
    history, events, documents = [], [], []
    for company_id, plan in zip(new_ids, plans, strict=True):
        scalars = plan["scalars"]
        values = {name: scalars.get(name, default) for name, default in _COMPANY_DEFAULTS.items()}
        owner_id, team_id, custom, parent_id = (
            plan["owner_id"],
            plan["team_id"],
            plan["custom"],
            plan["parent_id"],
        )
        company_rows.append(
            (
                company_id,
                now,
                now,
                owner_id,
                team_id,
                1,
                writer.json(custom),
                *(writer.decimal(values[n]) if n == "annual_revenue" else values[n] for n in COMPANY_FIELDS),
                parent_id,
            )
        )
        addresses = sorted(plan["addresses"], key=lambda a: not a["is_primary"])
        for a in addresses:
            address_rows.append((company_id, *(a[k] for k in ADDRESS_FIELDS), a["is_primary"]))
        tag_objects = [tags[n.lower()] for n in plan["tags"]]
        for tag in tag_objects:
            tag_rows.append((company_id, tag.pk))
        snapshot = {
            "id": company_id,
            **values,
            "parent_id": parent_id,
            "owner_id": owner_id,
            "team_id": team_id,
            "custom": custom,
        }
        related = {
            "tags": sorted(t.name for t in tag_objects),
            "addresses": [_address_text(a) for a in addresses],
        }
        history.append((company_id, _created_changes(snapshot, related, _COMPANY_HISTORY_SKIP)))
        events.append((company_id, snapshot))
        documents.append((company_id, company_search_text(SimpleNamespace(**values)), owner_id, team_id))
    writer.insert(Company, _COMPANY_COLUMNS, company_rows)
    writer.insert(Address, ["company_id", *ADDRESS_FIELDS, "is_primary"], address_rows)
    writer.insert(Company.tags.through, ["company_id", "tag_id"], tag_rows)
    writer.history(Company, actor_id, history)
    writer.events("company.created", Company, actor_id, events)
    search.index("company", documents)
    return new_ids


# ---------------------------------------------------------------------------------------------------------
# Create-or-update: matching a batch's keys in bulk


MATCH_KEYS = {"contact": ("email", "external_id"), "company": ("domain", "external_id", "name")}


def records_match(kind: str, key: str, values: Iterable[str]) -> dict[str, list[int]]:
    """key value → ids of the non-archived records holding it (all records, whoever sees them: the caller
    decides what a match the actor may not change means). E-mails and domains are compared normalised,
    names case-insensitively; one query per 10,000 values."""
    if key not in MATCH_KEYS.get(kind, ()):
        raise ValueError(f"cannot match {kind} on {key!r}")
    found: dict[str, list[int]] = {}
    ordered = sorted({v for v in values if v})
    for start in range(0, len(ordered), 10_000):
        chunk = ordered[start : start + 10_000]
        if kind == "contact" and key == "email":
            # Two indexed lookups: joining in the same query lets SQLite's planner walk every contact.
            pairs = list(ContactEmail.objects.filter(email__in=chunk).values_list("email", "contact_id"))
            live = set(
                Contact.objects.filter(pk__in={c for _, c in pairs}, archived_at__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            rows = [(email, contact_id) for email, contact_id in pairs if contact_id in live]
        elif kind == "contact":
            rows = Contact.objects.filter(external_id__in=chunk, archived_at__isnull=True).values_list(
                "external_id", "id"
            )
        elif key == "name":
            from django.db.models.functions import Lower

            rows = (
                Company.objects.annotate(folded=Lower("name"))
                .filter(folded__in=chunk, archived_at__isnull=True)
                .values_list("folded", "id")
            )
        else:
            rows = Company.objects.filter(**{f"{key}__in": chunk, "archived_at__isnull": True}).values_list(
                key, "id"
            )
        for value, object_id in rows:
            ids = found.setdefault(value, [])
            if object_id not in ids:
                ids.append(object_id)
    return found


# ---------------------------------------------------------------------------------------------------------
# Validation and writing as separate steps (an import validates in a second process, one batch ahead, and
# resolves companies and keys itself before writing)


def contact_plan_context(actor) -> SimpleNamespace:
    """What `contact_plan` needs, looked up once (owners, teams, custom fields); safe to use after fork."""
    if actor is not None:
        require_create(actor)
    return SimpleNamespace(
        scalars=ScalarCleaner(Contact, CONTACT_FIELDS),
        address_fields=ScalarCleaner(Address, ADDRESS_FIELDS),
        email=EmailNormalizer(),
        custom_fields=custom_fields_for("contacts.contact"),
        ownership=Ownership(actor, owner_ids=None, team_ids=None),
    )


def contact_plan(data: dict, context: SimpleNamespace) -> tuple[dict | None, dict[str, list[str]]]:
    """Validate one row as `contact_create` would (no database access): (plan, {}) or (None, errors).
    A company named by `company_id` must be checked for visibility by the caller before writing."""
    return _contact_clean(data, context=context)


def contact_plan_link_company(plan: dict, company_id: int) -> None:
    """Make a validated plan's primary role the company `company_id` (already checked to be visible)."""
    plan["roles"] = [[company_id, plan["scalars"].get("job_title", "") or "", True, "company_id"]]
    plan["company_check"] = company_id


def contacts_plans_write(*, actor, plans: list[dict], company_names: dict[int, str]) -> list[int]:
    """Write validated plans in the caller's transaction (records, related rows, history, events, search
    documents); `company_names` holds id → name of every company the plans link. Returns the new ids."""
    if not plans:
        return []
    return _contacts_write(plans, company_names, getattr(actor, "pk", None))


forked = _forked
