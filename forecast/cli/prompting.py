"""Entry commands that ask for what is missing: on a terminal each missing required field is prompted for (choices
listed and Tab-completed, a bad value refused with the message its flag would get, and asked again); in a pipe one
error names every missing field at once (exit 2)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

import click

from ..errors import ForecastError

# A check of one answer, given the store's Env, the converted value and the raw values known so far (by name);
# it raises a ForecastError with the same message the command would give for the flag.
Check = Callable[[Any, Any, Mapping[str, str]], object]
# The known values of one field (question slugs, expert names), offered and completed.
Choices = Callable[[Any], list[str]]
SHOWN_CHOICES = 8  # more than this: the prompt says how many, and Tab completes them


def interactive() -> bool:
    """Whether a person is at a terminal (both ends of the conversation are ttys)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def field_name(param: click.Parameter) -> str:
    """How a field is named to the user: ``--question`` or ``NAME``."""
    return param.opts[0] if isinstance(param, click.Option) else param.human_readable_name


class EntryCommand(click.Command):
    """A command whose missing required options and arguments are asked for on a terminal (see the module)."""

    def __init__(self, *args: Any, checks: Mapping[str, Check] | None = None,
                 choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checks, self.choices = dict(checks or {}), dict(choices or {})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not set(args) & set(self.get_help_option_names(ctx)):
            opts, _, _ = self.make_parser(ctx).parse_args(args=list(args))
            missing = [p for p in self.get_params(ctx) if p.required and _absent(ctx, p, opts)]
            if missing and not interactive():
                names = [field_name(p) for p in missing]
                listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
                raise click.UsageError(f"missing {listed} (on a terminal, forecast {ctx.command_path.split(' ', 1)[-1]} "
                                       "asks for each)", ctx)
            if missing:
                given = {name: str(value) for name, value in opts.items() if isinstance(value, str)}
                for param in self.get_params(ctx):  # a bad flag is refused before anything is asked
                    if param.name in given and param.name in self.checks:
                        self._checked(ctx, param, given[param.name], given)
                ctx.default_map = {**(ctx.default_map or {}), **self._ask(ctx, missing, given)}
        return super().parse_args(ctx, args)

    def _ask(self, ctx: click.Context, missing: list[click.Parameter], given: dict[str, str]) -> dict[str, str]:
        """Prompt for each missing field in the command's order; the answers as raw text, by name."""
        for param in missing:
            known = self._known(ctx, param)
            with completing(known):
                given[param.name] = click.prompt(prompt_text(param, known),
                                                 value_proc=partial(self._checked, ctx, param, given=given))
        return {p.name: given[p.name] for p in missing}

    def _known(self, ctx: click.Context, param: click.Parameter) -> list[str]:
        if param.name in self.choices:
            return self.choices[param.name](ctx.obj)
        return list(param.type.choices) if isinstance(param.type, click.Choice) else []

    def _checked(self, ctx: click.Context, param: click.Parameter, raw: str, given: Mapping[str, str]) -> str:
        """``raw`` if it converts and passes the field's check; else a UsageError with the flag's message (the
        prompt prints it and asks again)."""
        try:
            value = param.type_cast_value(ctx, raw.strip())
            if param.name in self.checks:
                self.checks[param.name](ctx.obj, value, given)
        except click.BadParameter as exc:
            exc.ctx, exc.param = exc.ctx or ctx, exc.param or param
            raise click.UsageError(exc.format_message()) from None
        except ForecastError as exc:
            raise click.UsageError(str(exc)) from None
        return raw.strip()


def _absent(ctx: click.Context, param: click.Parameter, opts: Mapping[str, Any]) -> bool:
    """Not on the command line, nor in the environment or the context's defaults. The parser leaves a missing option
    out and gives a missing argument click's own "unset" sentinel (an object of its private ``Sentinel`` enum)."""
    value = opts.get(param.name)
    unset = value is None or type(value).__name__ == "Sentinel"
    return unset and param.value_from_envvar(ctx) is None and ctx.lookup_default(param.name) is None


def prompt_text(param: click.Parameter, known: list[str]) -> str:
    """``--date YYYY-MM-DD|YYYY-MM - When it was said ...``, then the choices (or how many there are, Tab completing them)."""
    help_text = getattr(param, "help", None)
    shape = param.type.name if param.type.name.isupper() else ""  # YYYY-MM-DD and the like
    text = " ".join(filter(None, [field_name(param), shape]))
    help_text = (help_text or "").split("  [")[0].rstrip(".")
    if known and len(known) <= SHOWN_CHOICES:
        help_text = help_text.split(": ")[0]  # the choices follow
    text += f" - {help_text}" if help_text else ""
    if known and len(known) <= SHOWN_CHOICES:
        text += f" [{', '.join(known)}]"
    elif known:
        text += f" [{len(known)} known, Tab completes]"
    return text


@contextmanager
def completing(words: list[str]) -> Iterator[None]:
    """Tab completes ``words`` (whole lines: names may have spaces) while a prompt reads a line."""
    try:
        import readline
    except ImportError:  # no line editing on this platform: the choices are still listed
        yield
        return
    old_completer, old_delims = readline.get_completer(), readline.get_completer_delims()

    def complete(text: str, state: int) -> str | None:
        matches = [w for w in words if w.casefold().startswith(text.casefold())]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims("")
    readline.parse_and_bind("bind ^I rl_complete" if "libedit" in (readline.__doc__ or "") else "tab: complete")
    try:
        yield
    finally:
        readline.set_completer(old_completer)
        readline.set_completer_delims(old_delims)


# The store's answers for entry prompts: known names to offer, and the domain's own checks of an answer.

def question_slugs(env: Any) -> list[str]:
    from ..domain import views

    with env.store().reader() as session:
        return [q["slug"] for q in views.list_questions(session)]


def expert_names(env: Any) -> list[str]:
    from ..domain import views

    with env.store().reader() as session:
        experts = views.list_experts(session)
    return [e["name"] for e in experts] + [a for e in experts for a in e["aliases"]]


def check_question(env: Any, slug: str, given: Mapping[str, str]) -> None:
    from ..domain.questions import question_by_slug

    with env.store().reader() as session:
        question_by_slug(session, slug)


def check_expert(env: Any, name: str, given: Mapping[str, str]) -> None:
    from ..domain.evidence import expert_by_name

    with env.store().reader() as session:
        expert_by_name(session, name)


def check_claim(env: Any, text: str, given: Mapping[str, str]) -> None:
    from ..runs.preview import read_claim

    with env.store().reader() as session:
        read_claim(session, given["question"], text)


QUESTION_CHECKS: dict[str, Check] = {"question": check_question}
QUESTION_CHOICES: dict[str, Choices] = {"question": question_slugs}
