"""What each page shows, read from the store in one snapshot through the same functions as the CLI and
the report (no rule of its own): plain dicts for the templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any


from ..domain import evidence as evidence_domain
from ..domain import views as domain_views
from ..domain.questions import known_tags, question_by_slug, require_scope, store_priors, versions
from ..errors import NotFoundError
from ..inference.summary import portfolio_lead
from ..report.content import report_content
from ..report.figures import all_figures, reliability_figure
from ..report.render import figure_markup, report_context
from ..runs.views import fast_headline, fast_headline_line, latest_run, run_gap_note
from ..scoring.calibration import MODEL
from ..scoring.scorecard import expert_profile, scorecard
from ..store import Store
from ..store.integrity import fingerprint
from ..store.tables import Expert, Question, Statement
from ..store.vocab import OBSERVATION_KINDS, STRENGTHS
from .rendering import render_block


def portfolio_page(store: Store, tag: str | None) -> dict[str, Any]:
    """Every question (with ``tag``, only those), and the tags to filter by."""
    with store.reader() as session:
        require_scope(session, tag=tag)
        return {"rows": domain_views.portfolio(session, tag, portfolio_lead), "tags": known_tags(session), "tag": tag}


def instant_headline(store: Store, slug: str) -> str | None:
    """The exact fast-path headline of an open question as one sentence (None for a closed one)."""
    state = instant_state(store, slug)
    return None if state is None else state["line"]


def instant_state(store: Store, slug: str) -> dict[str, Any] | None:
    """The instant headline's sentence and, when it is far from the run it stands in for, the CLI's note on
    that (None for a closed question)."""
    with store.reader() as session:
        if question_by_slug(session, slug).status != "open":
            return None
        fast = fast_headline(session, store_priors(session), slug)
        return {"line": _instant_line(fast), "note": run_gap_note(fast, fast["headline"])}


def _instant_line(fast: dict[str, Any]) -> str:
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


class Kept:
    """Values made once per key, the oldest dropped beyond ``size`` (what a page shows of one store state)."""

    def __init__(self, size: int) -> None:
        self.size, self.values = size, {}  # type: ignore[var-annotated]

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key not in self.values:
            value = make()
            if len(self.values) >= self.size:
                self.values.pop(next(iter(self.values)), None)
            self.values[key] = value
        return self.values[key]


# Keyed by the store and its fingerprint (store.integrity.fingerprint), which every write forecast makes
# changes: a later view reads a few rows instead of rebuilding the dataset, the influence and the figures.
_REPORTS, _EVIDENCE = Kept(32), Kept(64)


def store_state(session: Any) -> str:
    """The store's state as of this read (changes with every evidence, expert, question, setting or run write)."""
    return fingerprint(session.connection())


def _report_part(session: Any, priors: Any, run: Any, question: Question, url: str, state: str) -> dict[str, Any]:
    """The report's context, figures and rendered body for ``run``, made once per store state (the page's costly
    part: leave-one-out influence of every item, the figures, and the evidence table of every item)."""

    def make() -> dict[str, Any]:
        content = report_content(session, priors, run, question.slug)
        generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        context = {**report_context(content, generated), "figures": figure_markup(all_figures(content))}
        # the page puts the glossary after its workbench, so that the forms come before it
        return {**context, "report_body": render_block("report.html", "body", {**context, "glossary_elsewhere": True})}

    return _REPORTS.get((url, run.id, question.slug, state), make)


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
        state = store_state(session)
        evidence = _EVIDENCE.get((store.url, slug, state, "evidence"),
                                 lambda: domain_views.list_evidence(session, slug, include_inactive=True)[::-1])
        page: dict[str, Any] = {"question": domain_views.question_view(question), "kinds": OBSERVATION_KINDS, "strengths": STRENGTHS,
                "versions": versions(session, question), "evidence": evidence,
                "expert_names": [e["name"] for e in domain_views.list_experts(session)], "linked": _linked(priors, slug)}
        page["hidden_rows"] = 0 if every_row else max(0, len(page["evidence"]) - MANAGED)
        page["evidence"] = page["evidence"] if every_row else page["evidence"][:MANAGED]
        if run is not None:
            page.update(_report_part(session, priors, run, question, store.url, state))
        if question.status == "open":
            instant = (store.url, slug, state, dt.date.today())
            page["instant"] = _EVIDENCE.get(instant, lambda: _instant_line(fast_headline(session, priors, slug)))
        else:
            page["instant"] = None
    return page


def experts_page(store: Store, kind: str | None) -> dict[str, Any]:
    """Every expert, or those of one kind, as `forecast expert list --kind KIND` lists them."""
    from ..basics.validate import unknown
    from ..store.vocab import EXPERT_KINDS

    if kind is not None and kind not in EXPERT_KINDS:
        raise unknown("expert kind", kind, list(EXPERT_KINDS))  # as `expert list --kind` refuses it
    with store.reader() as session:
        return {"experts": domain_views.list_experts(session, kind), "kinds": EXPERT_KINDS, "kind": kind}


def expert_page(store: Store, name: str) -> dict[str, Any]:
    """One expert: who, their track record (claims borne out / falsified / open, reliability over runs) and
    statements across questions."""
    with store.reader() as session:
        expert = domain_views.expert_view(evidence_domain.expert_by_name(session, name))
        profile = expert_profile(session, store_priors(session), name)  # as `expert show`: every name it had
        others = [e["name"] for e in domain_views.list_experts(session) if e["name"] != profile["name"]]
    expert["name"] = profile["name"]
    return {"expert": expert, "statements": profile["statements"], "record": profile["track_record"],
            "others": others}


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
    evidence_domain.require_live(session, row)  # the form would only be refused on submit
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
