"""The one error hierarchy. Domain code raises these; only the CLI turns them into messages."""


class ForecastError(Exception):
    """Base class: a problem the user can act on, reported as one line."""


class InputError(ForecastError):
    """Malformed user input: a date, a claim, a flag value, a file."""


class ClaimError(InputError):
    """A claim that the claim language cannot turn into a month interval."""


class NotFoundError(ForecastError):
    """A question, expert or evidence row that does not exist."""


class DuplicateError(ForecastError):
    """Evidence or an entity that is already in the store. With a ``way_out`` the message is ``problem: way_out``,
    the way out in the command line's words; an interface with other words puts its own after ``problem``
    (``what`` says which refusal it is)."""

    def __init__(self, problem: str, way_out: str | None = None, what: str | None = None) -> None:
        super().__init__(problem if way_out is None else f"{problem}: {way_out}")
        self.problem, self.way_out, self.what = problem, way_out, what


class ProbableDuplicateError(DuplicateError):
    """A new row or expert (``what``) that looks like one already in the store; ``similar`` names what it
    resembles."""

    def __init__(self, problem: str, similar: list[str], way_out: str, what: str) -> None:
        super().__init__(problem, way_out, what)
        self.similar = similar


class ConflictError(ForecastError):
    """Work that cannot start now: the same work is already in progress (a re-forecast in the web server)."""


class PriorError(ForecastError):
    """An invalid prior specification in priors/."""


class StoreError(ForecastError):
    """The store cannot be opened or upgraded: corrupt, unreachable or from a newer version."""


class TamperError(StoreError):
    """The store was changed outside forecast (found by `forecast verify`)."""


class TamperWarning(UserWarning):
    """A problem `forecast verify` found in a store fitted anyway (``run(..., allow_tampered=True)`` in the API)."""


class OutputError(ForecastError):
    """A file cannot be written: a full disk, no permission, a missing directory."""
