"""Who an expert is now: renames and merges, kept as append-only ``expert_change`` rows and read back here.

Expert rows never change (they are hash-chained), and statements keep the expert id they were logged with,
so an old row still names who it named. A rename adds the name the expert goes by from then on (the earlier
names keep answering); a merge makes one expert count as another from then on, in the model and in every
list, while its rows keep their own id and their own name as logged.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from ..basics import validate
from ..basics.authors import author as author_of
from ..errors import DuplicateError, InputError, NotFoundError, ProbableDuplicateError
from ..store.tables import Expert, ExpertChange

RENAME, MERGE = "rename", "merge"


@dataclass(frozen=True)
class Identities:
    """Every expert id's place after the renames and merges."""

    target: dict[int, int]  # expert id -> the id it counts as (itself unless merged into another)
    current: dict[int, str]  # expert id -> the current name of the expert it counts as
    names: dict[int, list[str]]  # target id -> every name it answers to: its current name first
    owner: dict[str, int] = field(default_factory=dict)  # casefolded name -> the id whose own name it is (any time)

    def merged_into(self, expert_id: int) -> list[int]:
        """The ids that count as ``expert_id`` (itself included)."""
        return [i for i, t in self.target.items() if t == self.target[expert_id]]

    def by_current_name(self, entries: list[dict]) -> dict[str, dict]:
        """Per-expert entries recorded by name (a stored run's reliabilities: ``{"expert": name, ...}``), by the
        current name of the expert each counts as now. Where a merge made several one, the surviving expert's
        own entry wins; a name no expert has is kept as it is."""
        out: dict[str, dict] = {}
        survivors: set[str] = set()
        for entry in entries:
            i = self.owner.get(str(entry["expert"]).casefold())
            name = entry["expert"] if i is None else self.current[i]
            if name not in out or (i is not None and self.target[i] == i and name not in survivors):
                out[name] = entry
                if i is not None and self.target[i] == i:
                    survivors.add(name)
        return out


def row_id(row: Expert | ExpertChange) -> int:
    """The id of a stored row."""
    if row.id is None:
        raise ValueError("the row is not stored yet")
    return row.id


def identities(session: Session) -> Identities:
    """The renames and merges applied in the order they were made."""
    experts = {row_id(e): e for e in session.exec(select(Expert).order_by(col(Expert.id)))}
    named = {i: [e.name] for i, e in experts.items()}  # each expert's names, the latest last
    into: dict[int, int] = {}
    for change in session.exec(select(ExpertChange).order_by(col(ExpertChange.id))):
        if change.kind == RENAME:
            named[change.expert_id].append(change.name)
        elif change.into_id is not None:
            into[change.expert_id] = change.into_id
    target = {i: _follow(i, into) for i in experts}
    names: dict[int, list[str]] = {i: [] for i in experts if target[i] == i}
    for i in sorted(experts, key=lambda i: (i != target[i], i)):  # a target's own names before those merged in
        own = [named[i][-1], *reversed(named[i][:-1]), *json.loads(experts[i].aliases)]
        names[target[i]] += [n for n in own if n not in names[target[i]]]
    owner = {n.casefold(): i for i in experts for n in [*named[i], *json.loads(experts[i].aliases)]}
    return Identities(target, {i: named[target[i]][-1] for i in experts}, names, owner)


def _follow(expert_id: int, into: dict[int, int]) -> int:
    seen = set()
    while expert_id in into and expert_id not in seen:
        seen.add(expert_id)
        expert_id = into[expert_id]
    return expert_id


def expert_by_name(session: Session, name: str) -> Expert:
    """The expert with this name, an earlier name or an alias (case-insensitive); for a merged expert, the one it
    was merged into."""
    wanted = validate.text(name, "expert").strip().casefold()
    ids = identities(session)
    answers = ids.names
    for expert_id, names in answers.items():
        found = session.get(Expert, expert_id)
        if found is not None and wanted in (n.casefold() for n in names):
            return found
    current = {expert_id: ids.current[expert_id] for expert_id in answers}
    named = {n: current[expert_id] for expert_id, names in answers.items() for n in names}
    close = validate.closest(name, list(named))
    mean = "" if close is None else (f" (did you mean {close!r}?)" if named[close] == close
                                     else f" (did you mean {close!r}, another name of {named[close]!r}?)")
    raise validate.unknown("expert", name, sorted(set(current.values())), suggested=mean,
                           hint=f"; add a new one with: forecast expert add {name!r} --kind KIND")


def _folded(name: str) -> str:
    """A name with case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", name.casefold()).split())


def similar_experts(session: Session, name: str, besides: int | None = None) -> list[str]:
    """The current names of experts (other than the one with id ``besides``) any of whose names, earlier names or
    aliases is close to ``name``: equal once case and punctuation are ignored, one's words all among the
    other's ("Roscosmos" and "Roscosmos press service"), or close by difflib."""
    wanted = _folded(name)
    words = set(wanted.split())
    ids = identities(session)
    found = []
    for target, names in sorted(ids.names.items(), key=lambda item: ids.current[item[0]]):
        if besides is not None and target == ids.target.get(besides):
            continue
        for known in (_folded(n) for n in names):
            shorter, longer = sorted((words, set(known.split())), key=len)
            if shorter and (shorter <= longer or difflib.SequenceMatcher(None, wanted, known).ratio() >= 0.8):
                found.append(ids.current[target])
                break
    return found


def rename_expert(session: Session, old: str, new: str, note: str = "", author: str | None = None,
                  refuse_similar: bool = False) -> ExpertChange:
    """Give an expert a new name (the old one keeps answering); the name must not belong to another expert, nor
    (with ``refuse_similar``) be close to another's (see :func:`similar_experts`). ``author``: who renames (see
    :func:`forecast.basics.authors.author`)."""
    expert = expert_by_name(session, old)
    new = validate.text(new, "name").strip()
    if not new:
        raise InputError("an expert needs a name")
    current = identities(session).current[row_id(expert)]
    if new == current:
        raise DuplicateError(f"{current!r} is already the expert's name")
    try:
        other = expert_by_name(session, new)
    except NotFoundError:
        other = None
    if other is not None and other.id != expert.id:
        raise DuplicateError(f"{new!r} is already the name of the expert {identities(session).current[row_id(other)]!r}",
                             "to make them one, use `forecast expert merge`", "rename-taken")
    if new.split() == current.split():  # a case or punctuation fix is a rename; a space more is a slip
        raise InputError(f"{new!r} differs from {current!r} only in spacing: keep the name, or give another")
    similar = similar_experts(session, new, besides=row_id(expert)) if refuse_similar else []
    if similar:
        shown = " and ".join(repr(n) for n in similar[:3])
        raise ProbableDuplicateError(f"{new!r} is close to the name of another expert, {shown}", similar,
                                     "to make them one, use `forecast expert merge`; if they are different people, "
                                     "pass --distinct", "rename")
    return _record(session, ExpertChange(expert_id=row_id(expert), kind=RENAME, name=new,
                                         note=validate.text(note, "note").strip(), author=author_of(author)))


def merge_experts(session: Session, source: str, into: str, note: str = "", author: str | None = None) -> ExpertChange:
    """Make ``source`` count as ``into`` from now on; ``source``'s rows keep naming it as logged (``author``: who
    merges)."""
    merged, kept = expert_by_name(session, source), expert_by_name(session, into)
    if merged.id == kept.id:
        raise DuplicateError(f"{source!r} and {into!r} are already the same expert")
    ids = identities(session)
    known, owner = ids.current, ids.owner.get(source.strip().casefold())
    if owner is not None and owner != row_id(merged):  # the name of an expert merged into another before
        raise InputError(f"{source!r} was merged into {known[row_id(merged)]!r} before, so this would fold "
                         f"{known[row_id(merged)]!r} and all its statements into {known[row_id(kept)]!r}: name it "
                         f"{known[row_id(merged)]!r} if that is what you mean")
    name = known[row_id(kept)]
    return _record(session, ExpertChange(expert_id=row_id(merged), kind=MERGE, name=name, into_id=kept.id,
                                         note=validate.text(note, "note").strip(), author=author_of(author)))


def merge_notes(session: Session, source: str, change: ExpertChange) -> list[str]:
    """What a merge changes besides the name: a kind of expert other than the one ``source`` was logged as."""
    merged, kept = session.get(Expert, change.expert_id), session.get(Expert, change.into_id)
    if merged is None or kept is None or merged.kind == kept.kind:
        return []
    return [f"{source!r} ({merged.kind}) and {change.name!r} ({kept.kind}) differ in kind: from now on "
            f"the statements of {source!r} count with the {kept.kind} reliability prior"]


def _record(session: Session, change: ExpertChange) -> ExpertChange:
    session.add(change)
    session.flush()
    return change
