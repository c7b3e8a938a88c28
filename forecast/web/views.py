"""What each page shows, read from the store in one snapshot through the same functions as the CLI and
the report (no rule of its own): plain dicts for the templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import col, func, select

from ..domain import evidence as evidence_domain
from ..domain import views as domain_views
from ..domain.questions import known_tags, question_by_slug, require_scope, store_priors, versions
from ..errors import NotFoundError
from ..inference.summary import portfolio_lead
from ..report.content import report_content
from ..report.figures import all_figures, reliability_figure
from ..report.render import figure_markup, report_context
from ..runs.views import fast_headline, fast_headline_line, latest_run
from ..scoring.calibration import MODEL
from ..scoring.scorecard import scorecard
from ..store import Store
from ..store.tables import Expert, Observation, Question, Statement
from ..store.vocab import OBSERVATION_KINDS, STRENGTHS


def portfolio_page(store: Store, tag: str | None) -> dict[str, Any]:
    """Every question (with ``tag``, only those), and the tags to filter by."""
    with store.reader() as session:
        require_scope(session, tag=tag)
        return {"rows": domain_views.portfolio(session, tag, portfolio_lead), "tags": known_tags(session), "tag": tag}


def instant_headline(store: Store, slug: str) -> str | None:
    """The exact fast-path headline of an open question as one sentence (None for a closed one)."""
    with store.reader() as session:
        if question_by_slug(session, slug).status != "open":
            return None
        fast = fast_headline(session, store_priors(session), slug)
    return f"{fast_headline_line(fast)} (exact, reliabilities fixed at {fast['reliabilities_from']})"


def _linked(priors: Any, slug: str) -> list[dict[str, str]]:
    """The questions that pre-empt this one, and those it pre-empts."""
    spec = priors.questions.get(slug)
    links = []
    if spec and spec.precluded_by:
        links.append({"slug": spec.precluded_by, "relation": "pre-empts this question (precludes it)"})
    links += [{"slug": other, "relation": "is pre-empted by this question"}
              for other, s in sorted(priors.questions.items()) if s.precluded_by == slug]
    return links


_REPORTS: dict[tuple, dict[str, Any]] = {}  # a question's report part by run and evidence state (see _state)
_KEPT = 32


def _state(session: Any, question: Question) -> tuple:
    """What the report of a stored run can change with: the question's evidence rows, retractions and status."""
    counts = []
    for table in (Statement, Observation):
        mine = select(func.count()).select_from(table).where(table.question_id == question.id)
        counts += [session.exec(mine).one(), session.exec(mine.where(col(table.retracted_at).is_not(None))).one()]
    return (*counts, question.status, question.version)


def _report_part(session: Any, priors: Any, run: Any, question: Question, url: str) -> dict[str, Any]:
    """The report's context and figures for ``run``, made once per evidence state (the page's costly part:
    leave-one-out influence of every item, and the figures)."""
    key = (url, run.id, question.slug, _state(session, question))
    if key not in _REPORTS:
        content = report_content(session, priors, run, question.slug)
        generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if len(_REPORTS) >= _KEPT:
            _REPORTS.pop(next(iter(_REPORTS)))
        _REPORTS[key] = {**report_context(content, generated), "figures": figure_markup(all_figures(content))}
    return _REPORTS[key]


MANAGED = 100  # evidence rows listed with their edit and retract controls, newest first, unless all are asked for


def question_page(store: Store, slug: str, every_row: bool = False) -> dict[str, Any]:
    """One question: its report (when it has a run), the instant headline, its evidence (the newest
    ``MANAGED`` rows, or with ``every_row`` all of them), versions, links."""
    with store.reader() as session:
        question = question_by_slug(session, slug)
        priors = store_priors(session)
        try:
            run = latest_run(session, slug)
        except NotFoundError:
            run = None
        page: dict[str, Any] = {"question": domain_views.question_view(question), "kinds": OBSERVATION_KINDS, "strengths": STRENGTHS,
                "versions": versions(session, question),
                "evidence": domain_views.list_evidence(session, slug, include_inactive=True)[::-1],
                "expert_names": [e["name"] for e in domain_views.list_experts(session)], "linked": _linked(priors, slug)}
        page["hidden_rows"] = 0 if every_row else max(0, len(page["evidence"]) - MANAGED)
        page["evidence"] = page["evidence"] if every_row else page["evidence"][:MANAGED]
        if run is not None:
            page.update(_report_part(session, priors, run, question, store.url))
    page["instant"] = instant_headline(store, slug) if question.status == "open" else None
    return page


def expert_page(store: Store, name: str) -> dict[str, Any]:
    """One expert: who, their track record (claims borne out / falsified / open, reliability over runs) and
    statements across questions."""
    with store.reader() as session:
        expert = domain_views.expert_view(evidence_domain.expert_by_name(session, name))
        statements = domain_views.list_evidence(session, expert=expert["name"], include_inactive=True)
        slugs = {s["question"] for s in statements}
        records = scorecard(session, store_priors(session), baselines=False)["experts"] if slugs else []
    record = next((r for r in records if r["expert"] == expert["name"]), None)
    return {"expert": expert, "statements": statements, "record": record}


def calibration_page(store: Store, tag: str | None, question: str | None) -> dict[str, Any]:
    """The scorecard over resolved checkpoints (optionally one tag or question), with its reliability diagram."""
    with store.reader() as session:
        card = scorecard(session, store_priors(session), question, tag=tag)
        tags = known_tags(session)
    diagram = card["reliability_diagram"]
    figure = figure_markup({"reliability": str(reliability_figure(diagram))})["reliability"] if diagram else None
    return {"card": card, "figure": figure, "tags": tags, "tag": tag, "question": question,
            "monthly": rolling_brier(card["checkpoint_scores"])}


def rolling_brier(rows: list[dict]) -> list[dict[str, Any]]:
    """The model's mean Brier score by the month its forecasts were made (as-of date), oldest first."""
    by_month: dict[str, list[float]] = {}
    for row in rows:
        if row["forecaster"] == MODEL:
            by_month.setdefault(str(row["as_of"])[:7], []).append(row["brier"])
    return [{"month": month, "n": len(scores), "brier": sum(scores) / len(scores)}
            for month, scores in sorted(by_month.items())]


def question_of_ref(store: Store, ref: str) -> str:
    """The slug of the question an evidence row (S12, O3) belongs to."""
    with store.reader() as session:
        question = session.get(Question, evidence_domain.evidence_by_ref(session, ref).question_id)
        assert question is not None  # a foreign key
        return question.slug


def require_question(store: Store, slug: str) -> None:
    with store.reader() as session:
        question_by_slug(session, slug)


def _prefilled(session: Any, ref: str) -> dict[str, str]:
    """The form values of the row that a new one supersedes (the edit form starts from them)."""
    row = evidence_domain.evidence_by_ref(session, ref)
    slug = session.get(Question, row.question_id).slug
    shown = (domain_views.statement_view(row, slug, session.get(Expert, row.expert_id).name)
             if isinstance(row, Statement) else domain_views.observation_view(row, slug))
    values = {key: "" if value is None else str(value) for key, value in shown.items()}
    if shown["date_precision"] == "month":
        values["date"] = values["date"][:7]
    values.update(supersedes=shown["ref"], effective=values.get("effective_on", ""),
                  paraphrase="on" if shown.get("quote_kind") == "paraphrase" else "")
    if shown.get("probability") is not None:
        values["probability"] = f"{float(shown['probability']):g}"
    return values


def form_page(store: Store, slug: str, values: dict[str, str]) -> dict[str, Any]:
    """A log form for ``slug``: the question, the experts to choose from, and the values to show (with only
    ``supersedes`` given, those of that row)."""
    with store.reader() as session:
        question = domain_views.question_view(question_by_slug(session, slug))
        if set(values) == {"supersedes"}:
            values = _prefilled(session, values["supersedes"])
        experts = [e["name"] for e in domain_views.list_experts(session)]
    return {"question": question, "experts": experts, "values": values, "kinds": OBSERVATION_KINDS,
            "strengths": STRENGTHS}
