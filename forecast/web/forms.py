"""The forms (POST, absent from a read-only server): log a statement or an observation (a new one, or one
that supersedes an old row: the edit), retract, resolve, add a question (pasted or uploaded), re-forecast.
The expert forms are in :mod:`.expert_forms`.

Each parses the form, calls the one domain function the CLI calls in one write transaction (so a
refusal leaves the store as it was), and shows the exact instant headline before and after. Each write
passes :meth:`Workbench.author` on to the domain call: the signed-in analyst is the row's author.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..basics.months import parse_day_or_month
from ..basics.text import displayable
from ..domain import evidence
from ..domain.questions import question_by_slug
from ..errors import DuplicateError, ForecastError, InputError
from ..scoring.resolution import describe, reopen, reopened_line, resolution_notes, resolve
from ..store import Store
from . import views
from .bench import Workbench, status_of


STATEMENT_FIELDS = ("expert", "date", "claim", "quote", "source", "url", "strength", "probability", "rationale",
                    "supersedes")
OBSERVATION_FIELDS = ("kind", "date", "effective", "source", "url", "note", "supersedes")


def _or_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _new_statement(session: Any, slug: str, fields: dict[str, str], author: dict[str, Any]) -> Any:
    said_on, precision = parse_day_or_month(fields.get("date", ""))
    return evidence.log_statement(
        session, question=slug, expert=fields.get("expert", ""), said_on=said_on, date_precision=precision,
        claim=fields.get("claim", ""), quote=fields.get("quote", ""), source=fields.get("source", ""),
        url=fields.get("url", ""), strength=fields.get("strength") or "firm",
        # the domain parses a stated probability from text (0.8, 80%), as the CLI passes it
        probability=_or_none(fields.get("probability")),  # type: ignore[arg-type]
        rationale=fields.get("rationale", ""),
        quote_kind="paraphrase" if fields.get("paraphrase") else "verbatim",
        restatement=bool(fields.get("restatement")), supersedes=_or_none(fields.get("supersedes")), **author)


def _statement(store: Store, slug: str, fields: dict[str, str], author: dict[str, Any]) -> dict[str, Any]:
    with store.session() as session:
        row = _new_statement(session, slug, fields, author)
        reading = evidence.statement_reading(row, question_by_slug(session, slug).event)
        return {"ref": evidence.ref_of(row), "message": f"Logged {evidence.ref_of(row)}: {row.claim_text!r}, "
                f"{row.claim_start or 'open'} .. {row.claim_end or 'open'}.", "reading": f"Reads: {reading}."}


def _preview(store: Store, slug: str, fields: dict[str, str]) -> dict[str, str]:
    """The claim as typed so far, read as `forecast claim check` reads it (plain words, months, the weight it
    would get, the headline now and with the statement), or the refusal the log would give; nothing is stored."""
    from ..cli.claim_commands import claim_lines
    from ..domain.questions import store_priors
    from ..runs.preview import preview_claim

    try:
        said_on = parse_day_or_month(fields["date"])[0] if _or_none(fields.get("date")) else None
        with store.reader() as session:
            shown = preview_claim(session, store_priors(session), slug, fields.get("claim", ""),
                                  fields.get("strength") or "firm", _or_none(fields.get("probability")), said_on,
                                  _or_none(fields.get("expert")), _or_none(fields.get("supersedes")))
    except ForecastError as exc:
        return {"refusal": str(exc)}
    lines = claim_lines(shown)
    return {"reading": " ".join(lines[:2]), "weight": lines[4], "headline": _would_be(shown["headline"])}


def _would_be(head: dict | None) -> str:
    """The preview's headline now and with the statement, in the words the page shows after a log."""
    from ..runs.views import fast_headline_line

    if head is None:
        return ""

    def sentence(numbers: dict) -> str:
        return fast_headline_line({"event": head["event"], "horizon_end": head["horizon_end"], "headline": numbers})

    then = "needs the expert's name." if head["with"] is None else sentence(head["with"])
    return (f"Headline now: {sentence(head['now'])} With this statement: {then} "
            f"(exact, reliabilities fixed at {head['reliabilities_from']})")


async def preview(bench: Workbench, request: Request) -> Response:
    """The claim preview (JSON) the statement form shows as you type."""
    fields = dict(request.query_params)
    return JSONResponse(await run_in_threadpool(_preview, bench.store, request.path_params["slug"], fields))


def _observation(store: Store, slug: str, fields: dict[str, str], author: dict[str, Any]) -> dict[str, Any]:
    observed_on, precision = parse_day_or_month(fields.get("date", ""))
    effective = _or_none(fields.get("effective"))
    with store.session() as session:
        row = evidence.log_observation(
            session, question=slug, kind=fields.get("kind", ""), observed_on=observed_on, date_precision=precision,
            source=fields.get("source", ""), url=fields.get("url", ""), note=fields.get("note", ""),
            effective_on=parse_day_or_month(effective)[0] if effective else None,
            supersedes=_or_none(fields.get("supersedes")), **author)
        ref = evidence.ref_of(row)
        return {"ref": ref, "message": f"Logged {ref}: {evidence.observation_words(row)}.", "reading": None,
                "notes": evidence.observation_warnings(session, row)}


FORM_WAYS_OUT = {"statement": "correct it with that row's edit link, or tick 'the expert said it again' to log it "
                               "as a restatement",
                 "expert": "use that name, or tick 'another person with a similar name' to add another expert",
                 "rename": "to make them one, merge them below; if they are different people, tick 'a different "
                           "person with a similar name'",
                 "rename-taken": "to make them one, merge them below"}


def in_form_words(exc: ForecastError) -> str:
    """The domain's refusal, with the way out of a probable duplicate in the forms' words (not the options')."""
    if isinstance(exc, DuplicateError) and exc.what in FORM_WAYS_OUT:
        return f"{exc.problem}: {FORM_WAYS_OUT[exc.what]}"
    return str(exc)


async def _logged(bench: Workbench, request: Request, write: Any, template: str) -> Response:
    """Log through ``write``; on a refusal, the form again with the message and what was typed (store unchanged)."""
    slug = request.path_params["slug"]
    fields = await bench.form(request)
    before = await run_in_threadpool(views.instant_state, bench.store, slug)
    try:
        done = await run_in_threadpool(write, bench.store, slug, fields, bench.author(request))
    except ForecastError as exc:
        context = await run_in_threadpool(views.form_page, bench.store, slug, fields)
        return bench.page(request, template, {**context, "error": in_form_words(exc)}, status_of(exc))
    after = await run_in_threadpool(views.instant_headline, bench.store, slug)
    return bench.page(request, "logged.html", {**done, "slug": slug, **_before(before), "after": after})


def _before(state: dict[str, Any] | None) -> dict[str, Any]:
    """The template's ``before`` headline and the note on the run it stands in for (from `views.instant_state`)."""
    return {"before": state and state["line"], "run_note": state and state["note"]}


async def log_statement(bench: Workbench, request: Request) -> Response:
    return await _logged(bench, request, _statement, "log-statement.html")


async def log_observation(bench: Workbench, request: Request) -> Response:
    return await _logged(bench, request, _observation, "log-observation.html")


async def statement_form(bench: Workbench, request: Request) -> Response:
    """The statement form alone; with ``?supersedes=S12``, filled in from that row (the edit)."""
    slug, old = request.path_params["slug"], request.query_params.get("supersedes")
    context = await run_in_threadpool(views.form_page, bench.store, slug, {"supersedes": old} if old else {})
    return bench.page(request, "log-statement.html", {**context, "error": None})


async def observation_form(bench: Workbench, request: Request) -> Response:
    slug, old = request.path_params["slug"], request.query_params.get("supersedes")
    context = await run_in_threadpool(views.form_page, bench.store, slug, {"supersedes": old} if old else {})
    return bench.page(request, "log-observation.html", {**context, "error": None})


def _retract(store: Store, ref: str, reason: str, author: dict[str, Any]) -> str:
    with store.session() as session:
        return evidence.ref_of(evidence.retract(session, ref, reason, **author))


async def retract(bench: Workbench, request: Request) -> Response:
    fields = await bench.form(request)
    ref = request.path_params["ref"]
    slug = await run_in_threadpool(views.question_of_ref, bench.store, ref)
    before = await run_in_threadpool(views.instant_state, bench.store, slug)
    done = await run_in_threadpool(_retract, bench.store, ref, fields.get("reason", ""), bench.author(request))
    after = await run_in_threadpool(views.instant_headline, bench.store, slug)
    return bench.page(request, "logged.html", {"message": f"Retracted {done}.", "reading": None, "ref": done,
                                               "slug": slug, **_before(before), "after": after})


def _resolve(store: Store, slug: str, fields: dict[str, str], author: dict[str, Any]) -> tuple[str, list[str]]:
    how = fields.get("outcome", "")
    if how not in ("date", "not-within-horizon", "annul"):
        raise InputError("choose how the question resolved: in a month, not within the horizon, or annulled")
    if how == "date" and not fields.get("month", "").strip():
        raise InputError("give the month the event happened (YYYY-MM), or choose 'not within the horizon'")
    with store.session() as session:
        question = resolve(session, slug, month=_or_none(fields.get("month")) if how == "date" else None,
                           not_within_horizon=how == "not-within-horizon", annul=how == "annul",
                           source=fields.get("source", ""), **author)
        return describe(question) + ".", resolution_notes(session, question)


def _reopen(store: Store, slug: str, fields: dict[str, str], author: dict[str, Any]) -> str:
    with store.session() as session:
        change, still_deciding = reopen(session, slug, fields.get("reason", ""), **author)
        return reopened_line(slug, change, still_deciding) + " Resolve it again on its page."


async def reopen_question(bench: Workbench, request: Request) -> Response:
    slug = request.path_params["slug"]
    fields = await bench.form(request)
    message = await run_in_threadpool(_reopen, bench.store, slug, fields, bench.author(request))
    return bench.page(request, "logged.html", {"message": message, "reading": None, "ref": None, "slug": slug,
                                               "before": None, "after": None})


async def resolve_question(bench: Workbench, request: Request) -> Response:
    slug = request.path_params["slug"]
    fields = await bench.form(request)
    try:
        message, notes = await run_in_threadpool(_resolve, bench.store, slug, fields, bench.author(request))
    except ForecastError as exc:  # the form again, with the message and what was typed (store unchanged)
        context = await run_in_threadpool(views.form_page, bench.store, slug, fields)
        return bench.page(request, "resolve.html", {**context, "error": str(exc)}, status_of(exc))
    return bench.page(request, "logged.html", {"message": message, "reading": None, "ref": None, "slug": slug,
                                               "before": None, "after": None, "notes": notes})


async def start_run(bench: Workbench, request: Request) -> Response:
    fields = await bench.form(request)
    slug = _or_none(fields.get("question"))
    if slug:
        await run_in_threadpool(views.require_question, bench.store, slug)
    bench.runner.start(slug)
    return RedirectResponse("/runs/current", status_code=303)


def _add_question(store: Store, fields: dict[str, str], upload: tuple[str, bytes] | None,
                  author: dict[str, Any]) -> tuple[str, str]:
    """`forecast question add FILE`, the file pasted into ``fields["toml"]`` or ``upload``ed (its name, bytes)."""
    from ..cli.question_commands import added_message
    from ..domain.priors import parse_question_bytes, parse_question_file
    from ..domain.questions import add_question

    pasted = fields.get("toml", "")
    if upload is None:
        where, data = "the question file", parse_question_file(pasted, "the question file")
    elif pasted.strip():
        raise InputError("give the question file once: paste it or upload it, not both")
    else:
        where, data = upload[0], parse_question_bytes(upload[1], upload[0])
    with store.session() as session:
        added, outcome = add_question(session, data, where, fields.get("note", ""), **author)
        return added.slug, added_message(added, outcome)


async def _uploaded(request: Request, name: str) -> tuple[str, bytes] | None:
    """The file posted in the field ``name``, if one was chosen: its base name (as messages name it) and bytes."""
    upload = (await request.form()).get(name)  # the form Workbench.form parsed, within the body limit
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    filename = displayable(upload.filename.replace("\\", "/").rsplit("/", 1)[-1]).strip()[:120]
    return filename or "the uploaded file", await upload.read()


async def question_add(bench: Workbench, request: Request) -> Response:
    fields = await bench.form(request)
    upload = await _uploaded(request, "file")
    slug, message = await run_in_threadpool(_add_question, bench.store, fields, upload, bench.author(request))
    return bench.page(request, "logged.html", {"message": message, "reading": None, "ref": None, "slug": slug,
                                               "before": None, "after": None})


ROUTES = [("/questions", question_add, ["POST"]), ("/questions/{slug}/statement", log_statement, ["POST"]),
          ("/questions/{slug}/statement", statement_form, ["GET"]),
          ("/questions/{slug}/observation", log_observation, ["POST"]),
          ("/questions/{slug}/observation", observation_form, ["GET"]),
          ("/questions/{slug}/resolve", resolve_question, ["POST"]),
          ("/questions/{slug}/reopen", reopen_question, ["POST"]),
          ("/questions/{slug}/preview", preview, ["GET"]),
          ("/evidence/{ref}/retract", retract, ["POST"]), ("/runs", start_run, ["POST"])]
