"""`forecast learn`: the shared priors learned from the store's resolved questions."""

from __future__ import annotations

import click

from ..basics.text import listed
from ..domain.prior_sets import DEFAULT_GROUPS, GROUPS
from .group import cli
from .params import PERIOD, SuggestingChoice
from .render import emit_table


@cli.command(name="learn")
@click.option("--tag", help="Learn only from resolved questions with this tag.")
@click.option("--half", type=SuggestingChoice(["development", "test"], "half"), help="Only this half of the declared split.")
@click.option("--leave-out", "leave_out", multiple=True, metavar="QUESTION",
              help="Never learn from this question's outcome (repeatable): before backtesting it.")
@click.option("--every", type=PERIOD, default="quarter", show_default=True,
              help="How often each question's forecast is scored, from its horizon start to its outcome.")
@click.option("--values", "groups", multiple=True, type=SuggestingChoice(list(GROUPS), "group"),
              help="Learn this group of priors (repeatable; default: recipe and notice, the others stay hand-set): "
                   "recipe (the hazard level and trend, the share never acted on), notice (compliance, lag, bind "
                   "probability), weights (firm, hedged, half-life), kinds (each kind's reliability).")
@click.option("--hand-set", "hand_set", is_flag=True, help="Put the hand-set priors back in force instead.")
@click.option("--show", is_flag=True, help="Print the priors in force beside the hand-set ones; learn nothing.")
@click.pass_obj
def learn_command(env, tag, half, leave_out, every, groups, hand_set, show) -> None:
    """Learn the priors every question shares (the announced-exit recipe's hazard and lapse, and the notice rule; with
    --values also the statement weights and each expert kind's reliability) from the store's resolved questions,
    and store them as a new prior set that later runs use. A question file's own values always win.

    Example: forecast learn --tag casebook --half development --leave-out burkina-faso-ecowas-exit
    """
    from ..scoring.learning import learn_and_store, prior_set_rows

    if show:
        with env.store().reader() as session:
            name, rows = prior_set_rows(session)
        click.echo(f"Prior set in force: {name}.")
        emit_table(rows, ["prior", "hand-set", "in force", "learned"])
        return
    stored, learned = learn_and_store(env.store(), tag, half, tuple(leave_out), every, hand_set,
                                      tuple(groups) or DEFAULT_GROUPS)
    if learned is None:
        click.echo(f"Stored prior set v{stored['version']}: the hand-set priors, in force from now on.")
        return
    kept = [g for g in GROUP_WORDS if g not in stored["provenance"]["groups"]]
    click.echo(f"Learned prior set v{stored['version']} from {len(learned.questions)} resolved question(s) "
               f"({learned.cases} dated forecasts): {listed([GROUP_WORDS[g] for g in stored['provenance']['groups']])}"
               + (f" ({listed([GROUP_WORDS[g] for g in kept])} kept hand-set)" if kept else "")
               + f"; mean log score of the outcome {learned.score_hand_set:.3f} with the hand-set priors, "
               f"{learned.score_learned:.3f} learned. In force from now on; `forecast learn --show` lists the values.")


GROUP_WORDS = {"recipe": "the recipe (hazard, lapse)", "notice": "the notice rule", "weights": "the statement weights",
               "kinds": "the kinds' reliabilities"}
