"""Renames and merges of experts (``expert_change`` rows) in an export, and back.

A row names its expert, and for a merge the expert it was merged into, by the name each was added with
(an expert row's own name, which never changes), as statement rows do. Import replays each change
through `expert rename` / `expert merge` after the evidence rows, so the evidence finds its experts as
they were added, and then checks that the replay made the change the row records.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ..basics import validate
from ..domain.experts import MERGE, RENAME, merge_experts, rename_expert
from ..errors import InputError
from ..store.tables import Expert, ExpertChange
from .cells import author_cell, blank, stamp

CHANGE_FIELDS = ["expert", "kind", "name", "into", "note", "created_at", "author"]


def change_records(session: Session, names: dict[int | None, str]) -> list[dict]:
    """Every rename and merge in the order made, as export rows (``names``: each expert's own name by id)."""
    return [{"record": "expert_change", "expert": names[c.expert_id], "kind": c.kind, "name": c.name,
             "into": names[c.into_id] if c.into_id is not None else None, "note": c.note, "created_at": c.created_at,
             "author": c.author}
            for c in session.exec(select(ExpertChange).order_by(col(ExpertChange.id)))]


def _exact_expert(session: Session, name: object, field: str) -> Expert:
    """The expert added under exactly this name (an export names experts so, not by a later name)."""
    found = session.exec(select(Expert).where(Expert.name == validate.text(name, field))).first()
    if found is None:
        raise InputError(f"{field} {name!r} is not an expert of the export")
    return found


def import_change(session: Session, row: dict, known: list[tuple]) -> bool:
    """Replay a rename or merge as `expert rename` / `expert merge` would make it (False: the store has it already)."""
    expert = _exact_expert(session, row["expert"], "expert")
    into = _exact_expert(session, row["into"], "into") if row["kind"] == MERGE else None
    created_at = stamp(row["created_at"], "created_at")
    key = (expert.id, row["kind"], row["name"], into.id if into else None, created_at)
    if key in known:
        known.remove(key)
        return False
    note = validate.text(blank(row["note"]), "note")
    if row["kind"] == RENAME:
        change = rename_expert(session, expert.name, validate.text(row["name"], "name"), note, author_cell(row["author"]))
    elif into is not None:
        change = merge_experts(session, expert.name, into.name, note, author_cell(row["author"]))
    else:
        raise InputError(f"unknown expert change {row['kind']!r} (expected {RENAME} or {MERGE})")
    if (change.expert_id, change.name, change.into_id) != key[:1] + key[2:4]:
        raise InputError(f"the {row['kind']} of {expert.name!r} does not replay as exported (name {row['name']!r})")
    change.created_at = created_at or change.created_at
    return True


def stored_changes(session: Session) -> list[tuple]:
    """The changes a store holds before an import, as :func:`import_change` compares them."""
    return [(c.expert_id, c.kind, c.name, c.into_id, validate.as_utc(c.created_at))
            for c in session.exec(select(ExpertChange))]
