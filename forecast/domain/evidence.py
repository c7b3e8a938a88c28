"""Domain operations on the store: questions, experts and append-only evidence.

Every function takes an open session and raises :mod:`forecast.errors` on bad input
before writing anything; the caller's transaction makes each operation all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import replace

from sqlmodel import Session, func, select

from ..basics import validate
from ..basics.authors import author as author_of
from ..basics.numbers import refuse_foreign_digits
from ..basics.months import parse_month, utc_now
from ..claims import check_informative, check_within_horizon, describe_claim, parse_claim
from ..errors import DuplicateError, InputError, NotFoundError, ProbableDuplicateError
from ..store.tables import (
    DATE_PRECISIONS,
    EXPERT_KINDS,
    OBSERVATION_KINDS,
    QUOTE_KINDS,
    STRENGTHS,
    Expert,
    Observation,
    Question,
    Statement,
)
from ..store.vocab import canonical_observation_kind
from .experts import expert_by_name, identities, similar_experts  # noqa: F401  (expert_by_name re-exported)
from .questions import question_by_slug, stored_spec

_REF_RE = re.compile(r"^([SsOo])([0-9]{1,30})$")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InputError(f"unknown {what} {value!r} (expected one of: {', '.join(allowed)})")
    return value


def content_uid(*parts: object) -> str:
    """A stable identity for an evidence row, from the content that makes it distinct."""
    text = json.dumps([str(part) for part in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def add_expert(
    session: Session, name: str, kind: str, role: str = "", affiliation: str = "",
    aliases: list[str] | None = None, notes: str = "", refuse_similar: bool = False, author: str | None = None,
) -> Expert:
    """Add an expert; names and aliases must not clash with existing ones (``refuse_similar``: nor be close to
    them, see :func:`similar_experts`)."""
    name = validate.text(name, "name").strip()
    if not name:
        raise InputError("an expert needs a name")
    _choice(kind, EXPERT_KINDS, "expert kind")
    aliases = validate.names(aliases or [])
    role, affiliation = validate.text(role, "role"), validate.text(affiliation, "affiliation")
    notes = validate.text(notes, "notes")
    for candidate in [name, *aliases]:
        try:
            existing = expert_by_name(session, candidate)
        except NotFoundError:
            continue
        raise DuplicateError(f"expert {candidate!r} already exists (as {existing.name!r})")
    similar = similar_experts(session, name) if refuse_similar else []
    if similar:
        shown = " and ".join(repr(n) for n in similar[:3])
        raise ProbableDuplicateError(f"{name!r} is close to the existing expert {shown}", similar,
                                     "use that name, or pass --new to add another expert", "expert")
    expert = Expert(
        name=name, kind=kind, role=role, affiliation=affiliation,
        aliases=json.dumps(aliases, ensure_ascii=False), notes=notes, author=author_of(author),
    )
    session.add(expert)
    session.flush()
    return expert


def revised_uid(uid: str, logged_at: dt.datetime) -> str:
    """The identity of a correction that keeps its row's content (a new probability or URL, say): the content's
    uid and the moment the correction was logged."""
    return content_uid(uid, "revised", validate.as_utc(logged_at).strftime("%Y-%m-%dT%H:%M:%S.%f"))


def _new_uid(session: Session, table: type, uid: str, what: str, supersedes: str | None, logged_at: dt.datetime,
             imported_uid: str | None) -> str:
    """``uid``, or its revision when the row corrects an earlier version of itself (or is imported as one);
    refuses a duplicate."""
    if imported_uid is not None and imported_uid == revised_uid(uid, logged_at):
        return imported_uid
    # `uid || ''` keeps the database from answering from the unique index alone: the rows themselves are read,
    # so a damaged index cannot let a duplicate in (a table scan: milliseconds at 20,000 statements).
    existing = session.exec(select(table).where(table.uid + "" == uid)).first()
    if existing is None:
        return uid
    if supersedes is not None and _leads_to(session, existing, evidence_by_ref(session, supersedes)):
        return revised_uid(uid, logged_at)
    prefix = "S" if table is Statement else "O"
    raise DuplicateError(f"this {what} is already in the store as {prefix}{existing.id}")


def _leads_to(session: Session, row: Statement | Observation, target: Statement | Observation) -> bool:
    """Whether ``row`` is ``target`` or was corrected, step by step, into it."""
    step: Statement | Observation | None = row
    while step is not None and type(step) is type(target):
        if step.id == target.id:
            return True
        step = session.get(type(step), step.superseded_by_id) if step.superseded_by_id else None
    return False


def log_statement(
    session: Session, *, question: str, expert: str, said_on: dt.date, claim: str, quote: str,
    source: str, strength: str = "firm", probability: float | None = None, rationale: str = "",
    date_precision: str = "day", supersedes: str | None = None, logged_at: dt.datetime | None = None,
    today: dt.date | None = None, quote_kind: str = "verbatim", url: str = "", restatement: bool = False,
    author: str | None = None, imported_uid: str | None = None,
) -> Statement:
    """Validate and store one expert statement (``restatement``: even if a live row of the same expert says the
    same on the same day)."""
    q = question_by_slug(session, question)
    who = expert_by_name(session, expert)
    validate.past_date(said_on, today=today)
    _choice(strength, STRENGTHS, "strength")
    _choice(quote_kind, QUOTE_KINDS, "quote kind")
    _choice(date_precision, DATE_PRECISIONS, "date precision")
    probability = validate.probability(probability)
    claim, quote, source = (validate.text(claim, "claim"), validate.text(quote, "quote"),
                            validate.text(source, "source"))
    rationale = validate.text(rationale, "rationale")
    if not quote.strip() or not source.strip():
        raise InputError("a statement needs a quote and a source")
    interval = parse_claim(claim).with_stated(probability, claim)
    horizon_end = parse_month(q.horizon_end)
    check_within_horizon(interval, parse_month(q.horizon_start), horizon_end, claim)
    if imported_uid is None:  # a copy keeps what its store held (such a row counts for nothing in a fit)
        check_informative(interval, parse_month(q.horizon_start), horizon_end, claim)
    logged_at = logged_at or utc_now()
    uid = _new_uid(session, Statement, content_uid(q.slug, who.name, said_on.isoformat(), claim.strip(), quote.strip(),
                                                   source.strip()), "statement", supersedes, logged_at, imported_uid)
    start, end = interval.bounds(horizon_end)
    probability = interval.probability  # the stated one, else a verbal one ("likely by 2028")
    if not restatement:
        _refuse_restated(session, q.id, who, said_on, (start, end, probability), supersedes)
    row = Statement(
        uid=uid, question_id=q.id, expert_id=who.id, said_on=said_on, date_precision=date_precision,
        quote=quote.strip(), source=source.strip(), claim_text=claim.strip(), claim_start=start, claim_end=end,
        probability=probability, strength=strength, rationale=rationale.strip(), logged_at=logged_at,
        quote_kind=quote_kind, url=validate.web_address(url), author=author_of(author),
    )
    return _store_superseding(session, row, supersedes)


def _refuse_restated(session: Session, question_id: int, who: Expert, said_on: dt.date,
                     claim: tuple[str | None, str | None, float | None], supersedes: str | None) -> None:
    """Refuse a statement whose expert (or one merged into it), day and claim (interval and probability) match a
    live row's."""
    replaced = evidence_by_ref(session, supersedes).id if supersedes else None
    ids = identities(session)
    live = session.exec(select(Statement).where(Statement.question_id == question_id,
                                                Statement.expert_id.in_(ids.merged_into(who.id)),
                                                Statement.said_on == said_on, Statement.retracted_at.is_(None)))
    for row in live:
        if row.id != replaced and (row.claim_start, row.claim_end, row.probability) == claim:
            raise ProbableDuplicateError(
                f"probable duplicate of {ref_of(row)} ({ids.current[who.id]} on {said_on}, {row.claim_text!r})",
                [ref_of(row)], f"correct it with `forecast evidence edit {ref_of(row)}`, or pass --restatement to log it "
                "as a restatement", "statement")


def observation_words(row: Observation) -> str:
    """``notice-given on 2026-11-15, taking effect 2027-03-01``: the observation as logged."""
    effective = f", taking effect {row.effective_on}" if row.effective_on is not None else ""
    return f"{row.kind} on {row.observed_on}{effective}"


def statement_reading(row: Statement, event: str) -> str:
    """The statement's claim in plain words about ``event``, with the probability it was stored with, whether it is
    hedged, and, below 50%, that it counts against the claim."""
    claim = parse_claim(row.claim_text)
    if row.probability != claim.probability:
        claim = replace(claim, probability=row.probability, likelihood=None)
    words = describe_claim(claim, event) + ("; hedged" if row.strength == "hedged" else "")
    if row.probability is not None and row.probability < 0.5:
        words += "; below 50%, it counts as evidence that this does not happen"
    return words


def observation_warnings(session: Session, row: Observation) -> list[str]:
    """The notes on an accepted observation that the command line and the web show after logging it."""
    from .consistency import observation_warnings as warnings_on

    question = session.get(Question, row.question_id)
    return [] if question is None else warnings_on(stored_spec(question), row)


def log_observation(
    session: Session, *, question: str, kind: str, observed_on: dt.date, source: str, note: str = "",
    date_precision: str = "day", supersedes: str | None = None, logged_at: dt.datetime | None = None,
    today: dt.date | None = None, url: str = "", effective_on: dt.date | None = None, author: str | None = None,
    imported_uid: str | None = None,
) -> Observation:
    """Validate and store one observation; one that contradicts the question or the active observations is refused."""
    from .consistency import check_observation

    q = question_by_slug(session, question)
    kind = _choice(canonical_observation_kind(kind), OBSERVATION_KINDS, "observation kind")
    _choice(date_precision, DATE_PRECISIONS, "date precision")
    validate.past_date(observed_on, today=today)  # the question's horizon is checked with the other rules
    source, note = validate.text(source, "source"), validate.text(note, "note")
    if not source.strip():
        raise InputError("an observation needs a source")
    logged_at = logged_at or utc_now()
    uid = _new_uid(session, Observation, content_uid(q.slug, kind, observed_on.isoformat(), source.strip(), note.strip()),
                   "observation", supersedes, logged_at, imported_uid)
    row = Observation(
        uid=uid, question_id=q.id, observed_on=observed_on, date_precision=date_precision, kind=kind,
        source=source.strip(), note=note.strip(), logged_at=logged_at, url=validate.web_address(url),
        effective_on=effective_on, author=author_of(author),
    )
    replaced = evidence_by_ref(session, supersedes).id if supersedes else None
    active = [o for o in session.exec(select(Observation).where(Observation.question_id == q.id,
                                                                Observation.retracted_at.is_(None)))
              if o.id != replaced]
    check_observation(stored_spec(q), active, row)
    return _store_superseding(session, row, supersedes)


def _store_superseding[T: (Statement, Observation)](session: Session, row: T, supersedes: str | None) -> T:
    old = evidence_by_ref(session, supersedes) if supersedes is not None else None
    if old is not None and type(old) is not type(row):
        raise InputError(f"{supersedes} is not the same type of evidence as the new row")
    if old is not None:
        require_live(session, old)
    if old is not None and _content(old) == _content(row):
        raise InputError(f"{supersedes} already says all of this: a correction changes at least one field")
    session.add(row)
    session.flush()
    if old is not None:
        old.retracted_at = row.logged_at
        old.retraction_reason = f"superseded by {ref_of(row)}"
        old.superseded_by_id = row.id
        old.retracted_by = row.author
        session.add(old)
        session.flush()
    return row


def require_live(session: Session, row: Statement | Observation) -> None:
    """Refuse to correct a retracted or superseded row (naming the live one, see :func:`not_live`)."""
    if row.retracted_at is not None:
        raise InputError(not_live(session, row))


def not_live(session: Session, row: Statement | Observation) -> str:
    """Why a retracted or superseded row cannot be corrected, naming the live row at the end of its corrections."""
    if row.superseded_by_id is None:
        return f"{ref_of(row)} was retracted ({row.retraction_reason or 'no reason given'}): log a new row instead"
    latest: Statement | Observation = row
    while latest.superseded_by_id is not None:
        newer = session.get(type(row), latest.superseded_by_id)
        if newer is None:  # a dangling link: `forecast verify` reports it
            break
        latest = newer
    if latest.retracted_at is not None:
        return (f"{ref_of(row)} was corrected by {ref_of(latest)}, which was retracted "
                f"({latest.retraction_reason or 'no reason given'}): log a new row instead")
    via = "" if latest.id == row.superseded_by_id else " (through later corrections)"
    return f"{ref_of(row)} is superseded by {ref_of(latest)}{via}: edit {ref_of(latest)} instead"


_BOOKKEEPING = {"id", "uid", "logged_at", "author", "retracted_at", "retraction_reason", "retracted_by",
                "superseded_by_id"}


def _content(row: Statement | Observation) -> dict:
    return row.model_dump(exclude=_BOOKKEEPING)


def ref_of(row: Statement | Observation) -> str:
    """The short reference shown to users: ``S12`` or ``O3``."""
    return f"{'S' if isinstance(row, Statement) else 'O'}{row.id}"


def evidence_by_ref(session: Session, ref: str) -> Statement | Observation:
    """The statement (``S12``) or observation (``O3``) with this reference."""
    match = _REF_RE.match(refuse_foreign_digits(validate.text(ref, "reference"), "evidence reference").strip())
    if not match:
        raise InputError(f"malformed evidence reference {ref!r}: expected S<number> or O<number>")
    table = Statement if match.group(1).upper() == "S" else Observation
    row_id = validate.row_id(int(match.group(2)))
    row = session.get(table, row_id) if row_id is not None else None
    if row is None:
        raise NotFoundError(f"no evidence {ref.upper()!r} in the store")
    return row


def retract(session: Session, ref: str, reason: str, at: dt.datetime | None = None,
            author: str | None = None) -> Statement | Observation:
    """Mark a row retracted by ``author`` (it stays in the store, out of forecasts from now on)."""
    reason = validate.text(reason, "reason")
    if not reason.strip():
        raise InputError("a retraction needs a reason")
    row = evidence_by_ref(session, ref)
    if row.retracted_at is not None:
        raise InputError(f"{ref_of(row)} was already retracted at {row.retracted_at:%Y-%m-%d %H:%M} ({row.retraction_reason})")
    row.retracted_at = at or utc_now()
    row.retraction_reason = reason.strip()
    row.retracted_by = author_of(author)
    session.add(row)
    session.flush()
    return row


def counts(session: Session) -> dict[str, int]:
    """Row counts per table, for summaries."""
    return {
        table.__tablename__: session.exec(select(func.count()).select_from(table)).one()
        for table in (Question, Expert, Statement, Observation)
    }
