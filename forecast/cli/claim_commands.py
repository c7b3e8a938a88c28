"""Commands about the claim language: read a claim on a question before logging it."""

from __future__ import annotations

import click

from ..store.vocab import STRENGTHS
from .group import cli
from .output import json_option
from .params import DATE, SuggestingChoice
from .render import emit_json, terminal_text


@cli.group(name="claim")
def claim_group() -> None:
    """The claim language: how a statement's claim about the event's date is read."""


@claim_group.command(name="check")
@click.argument("claim")
@click.option("--question", required=True, help="Question slug (the claim is read on its horizon and event).")
@click.option("--strength", type=SuggestingChoice(STRENGTHS, "strength"), default="firm", show_default=True)
@click.option("--probability", metavar="P", help="Probability the speaker attached: 0.8, 80% or 80 (default: its "
                                                 "verbal probability, e.g. likely = 0.83).")
@click.option("--date", "said_on", type=DATE, help="When it was said (default: today; older statements weigh less).")
@click.option("--expert", help="Who said it (name or alias): shows the headline as it would be with the statement.")
@json_option
@click.pass_obj
def claim_check(env, claim: str, question: str, strength: str, probability: str | None, said_on, expert: str | None,
                as_json: bool) -> None:
    """Read CLAIM on a question as `log statement` would, the weight it would get, and (with --expert) the headline
    now and with the statement; nothing is stored.

    Example: forecast claim check "likely after 2028" --question russia-iss-withdrawal --expert Borisov
    """
    from ..domain.questions import store_priors
    from ..runs.preview import preview_claim

    with env.store().reader() as session:
        preview = preview_claim(session, store_priors(session), question, claim, strength, probability, said_on,
                                expert)
    if as_json:
        emit_json(preview)
        return
    for line in claim_lines(preview):
        click.echo(terminal_text(line))


def claim_lines(preview: dict) -> list[str]:
    """A claim preview in plain words, one fact a line."""
    low, high = preview["interval"]
    stated = "" if preview["probability"] is None else f"; stated probability {preview['probability']:g}" + (
        f" (from {preview['likelihood']!r})" if preview["likelihood"] else "") + (
        f", counted as {preview['probability_counted']:g} (a speaker's certainty is not proof)"
        if preview["probability_counted"] != preview["probability"] else "")
    complement = ("yes: a probability below 50% makes it a claim that the event falls outside this interval"
                  if preview["complement"] else "no")
    age = "said today, so no decay with age" if preview["recency"] == 1 else \
        f"x {preview['recency']:.2f} for its age: said {preview['said_on']}"
    return [
        f"{preview['claim']!r} on {preview['question']} reads: {preview['reading']}.",
        f"Interval of the event's month: {low or 'open'} .. {high or 'open'}"
        + (" (the bin after the horizon: not within it)" if preview["beyond_horizon"] else "")
        + (" (widened: approximate)" if preview["approximate"] else ""),
        f"Strength: {preview['strength']} (weight {preview['strength_weight']:.3g}){stated}.",
        f"Complement: {complement}.",
        *([] if preview["decided"] is None else [
            f"Already decided: {preview['decided']} by the observations in force, so it would count only for the "
            "expert's track record (and, as their newest claim, replace their earlier ones): check its dates."]),
        f"Weight it would get: {preview['weight']:.2f}{' in the track record' if preview['decided'] else ''} ({age}); "
        "a run also weighs it against the expert's other statements and colleagues.",
        *([] if preview["headline"] is None else [headline_line(preview["headline"])]),
        "Nothing was stored.",
    ]


def headline_line(head: dict) -> str:
    """``Headline now: <event> by <end>: 5.8%, median date 2031-02; with this statement: 6.1%, ...``: the numbers
    as `log statement` prints its updated headline."""
    from .evidence_commands import headline_numbers

    now, end = headline_numbers(head["now"], head["horizon_end"]), head["horizon_end"]
    then = "needs the expert's name" if head["with"] is None else headline_numbers(head["with"], end)
    return (f"Headline now: {head['event']} by {end}: {now}; with this statement: {then} "
            f"(exact, reliabilities fixed at {head['reliabilities_from']}).")
