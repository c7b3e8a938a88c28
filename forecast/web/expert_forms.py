"""The expert forms (POST, absent from a read-only server): add, rename, merge.

Each calls the one domain function that `forecast expert add`, `expert rename` and `expert merge` call, in one
write transaction. A refused rename or merge shows the expert page again with the command's message and what
was typed (status 400, 404 or 409), the store as it was; a success goes to the expert's page under the name
it has now (after a merge: the surviving expert's), or first to a page with the command's notes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..domain import evidence
from ..domain.experts import merge_experts, merge_notes, rename_expert
from ..errors import DuplicateError, ForecastError, ProbableDuplicateError
from ..store import Store
from . import views
from .bench import Workbench, status_of
from .forms import in_form_words

Change = Callable[[Store, str, dict[str, str], dict[str, Any]], tuple[str, list[str]]]  # (name now, notes)


def _add_expert(store: Store, fields: dict[str, str], author: dict[str, Any]) -> str:
    aliases = [line.strip() for line in fields.get("aliases", "").splitlines() if line.strip()]
    with store.session() as session:
        added = evidence.add_expert(session, fields.get("name", ""), fields.get("kind", ""), fields.get("role", ""),
                                    fields.get("affiliation", ""), aliases, fields.get("notes", ""),
                                    refuse_similar=not fields.get("another"), **author)
        return added.name


async def expert_add(bench: Workbench, request: Request) -> Response:
    fields = await bench.form(request)
    try:
        name = await run_in_threadpool(_add_expert, bench.store, fields, bench.author(request))
    except ProbableDuplicateError as exc:  # the page says what to tick, not which option to pass
        raise DuplicateError(in_form_words(exc)) from None
    return _to_expert(name)


def _rename(store: Store, name: str, fields: dict[str, str], author: dict[str, Any]) -> tuple[str, list[str]]:
    """`forecast expert rename NAME NEW --note NOTE`: the expert's name from now on."""
    with store.session() as session:
        return rename_expert(session, name, fields.get("new", ""), fields.get("note", ""), **author,
                             refuse_similar=not fields.get("distinct")).name, []


def _merge(store: Store, name: str, fields: dict[str, str], author: dict[str, Any]) -> tuple[str, list[str]]:
    """`forecast expert merge NAME INTO --note NOTE`: the current name of the expert NAME counts as from now on,
    and the command's notes."""
    with store.session() as session:
        change = merge_experts(session, name, fields.get("into", ""), fields.get("note", ""), **author)
        return change.name, merge_notes(session, name, change)


async def _changed(bench: Workbench, request: Request, change: Change, form: str) -> Response:
    """Rename or merge through ``change``; refused, the expert page with the message above ``form``."""
    name = request.path_params["name"]
    fields = await bench.form(request)
    try:
        now_named, notes = await run_in_threadpool(change, bench.store, name, fields, bench.author(request))
    except ForecastError as exc:
        context = await run_in_threadpool(views.expert_page, bench.store, name)  # unknown NAME: the 404 page
        refusal = {"form": form, "message": in_form_words(exc), "values": fields}
        return bench.page(request, "expert.html", {**context, "refusal": refusal}, status_of(exc))
    if notes:  # what the command notes is shown before going on to the expert's page
        return bench.page(request, "logged.html", {"message": f"Merged {name} into {now_named}.", "notes": notes,
                                                   "back": (f"/experts/{quote(now_named, safe='')}", now_named),
                                                   "reading": None, "before": None, "after": None})
    return _to_expert(now_named)


async def expert_rename(bench: Workbench, request: Request) -> Response:
    return await _changed(bench, request, _rename, "rename")


async def expert_merge(bench: Workbench, request: Request) -> Response:
    return await _changed(bench, request, _merge, "merge")


def _to_expert(name: str) -> Response:
    return RedirectResponse(f"/experts/{quote(name, safe='')}", status_code=303)


ROUTES = [("/experts", expert_add, ["POST"]), ("/experts/{name:path}/rename", expert_rename, ["POST"]),
          ("/experts/{name:path}/merge", expert_merge, ["POST"])]
