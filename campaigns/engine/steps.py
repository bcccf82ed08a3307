"""A job's plan: steps on rows, each with the steps it needs, and what each step's outcome was.

A step is one piece of platform work on one row (create it, read it, ...). The row is the
checkpoint: what a step has done is written to it the moment it is known, so a run that stops
anywhere (crash, lost lease, deferral) resumes from the rows alone. The engine knows a step
only through this interface; which platform call a step is and how it is sent belongs to the
platform adapter, which builds the plan (`PlatformSession.load_plan`).

Kinds of step are classes: a new kind of work (update, archive, import, sync) is a new class
here and a new plan builder, not a change to the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.utils import timezone

from audit.services import audit_object_change


class Step:
    """One piece of work on `row`. `key` names it in errors and logs (API.md's `error.step`);
    `kind` is the adapter's word for it (e.g. "campaign", "image"); `needs` are the steps that
    must have succeeded before it may be sent."""

    # Safe to send again whatever happened to an earlier send (a read; a content-addressed
    # upload): no write-ahead mark, and no lookup after a lost answer.
    repeatable = False
    # Leaves an object on the advertiser's account once done (what makes a job partial).
    leaves_object = False
    # The row's fields that hold this step's progress (re-read when another run may have
    # written them), and the one that holds its result.
    checkpoint_fields: tuple[str, ...] = ()
    result_field = ""

    def __init__(
        self,
        key: str,
        kind: str,
        row: Model,
        needs: Iterable[Step] = (),
        *,
        leaves_object: bool | None = None,
    ) -> None:
        self.key = key
        self.kind = kind
        self.row = row
        self.needs = tuple(needs)
        if leaves_object is not None:
            self.leaves_object = leaves_object

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"

    @property
    def done(self) -> bool:
        raise NotImplementedError

    @property
    def marked(self) -> bool:
        """Sent before without a known outcome: a lost call may have done the work."""
        return False

    def mark(self, now: Any) -> dict[str, Any]:
        """The write-ahead mark's field changes (applied to the row in memory too)."""
        return {}

    def unmark(self) -> dict[str, Any]:
        """Undo the mark: the step is known not to have left."""
        return {}

    def record(self, result: Any) -> dict[str, Any]:
        """Field changes that record the step's result (applied to the row in memory too)."""
        raise NotImplementedError

    def also(self, result: Any) -> list[tuple[Model, dict[str, Any]]]:
        """Other rows the result changes, written with the record in the same statement
        (applied in memory too): e.g. an object's own rows once the platform accepted a
        change to it."""
        return []

    def store(self, result: Any) -> None:
        """Rows the result adds, written in the transaction that records it, only while the
        run holds its job (an import's tree). Most steps store nothing."""

    stores = False

    def _set(self, **changes: Any) -> dict[str, Any]:
        for name, value in changes.items():
            setattr(self.row, name, value)
        return changes


class CreateStep(Step):
    """Create the row's object on the platform. Done once the row has its `platform_id`;
    `attempted_at` is the write-ahead mark, committed before the create leaves."""

    leaves_object = True
    checkpoint_fields = ("platform_id", "attempted_at")
    result_field = "platform_id"

    @property
    def done(self) -> bool:
        return bool(self.row.platform_id)

    @property
    def marked(self) -> bool:
        return self.row.attempted_at is not None and not self.row.platform_id

    def mark(self, now: Any) -> dict[str, Any]:
        return self._set(attempted_at=now)

    def unmark(self) -> dict[str, Any]:
        return self._set(attempted_at=None)

    def record(self, result: Any) -> dict[str, Any]:
        return self._set(platform_id=str(result))


class UploadStep(CreateStep):
    """Upload content the platform addresses by its bytes (an image hash): sending it twice
    yields the same ID, so it needs neither a mark nor a lookup. Leaves nothing an advertiser
    sees as an ad object."""

    repeatable = True
    leaves_object = False


class ReadStep(Step):
    """Read a value of the row's object into `field` (a video's processing status). Done when
    the value is one of `complete` (any value, when `complete` is None); until then the run
    waits and reads again."""

    repeatable = True

    def __init__(
        self,
        key: str,
        kind: str,
        row: Model,
        needs: Iterable[Step] = (),
        *,
        field: str,
        complete: frozenset[str] | None = None,
    ) -> None:
        super().__init__(key, kind, row, needs)
        self.field = field
        self.complete = complete
        self.checkpoint_fields = (field,)
        self.result_field = field

    @property
    def done(self) -> bool:
        value = getattr(self.row, self.field)
        if self.complete is None:
            return value not in (None, "")
        return value in self.complete

    def record(self, result: Any) -> dict[str, Any]:
        return self._set(**{self.field: str(result)})


class ChangeStep(Step):
    """Change fields of an object that exists on the platform. The row is the change's own
    checkpoint (`applied_at`); `applies` are the object's rows and the values they take, only
    once the platform accepted the change, and `previous` the values they replace.

    Setting the same values twice leaves the object as setting them once, so a change whose
    answer was lost is simply sent again."""

    repeatable = True
    # An applied change is on the platform: a job that stops after one did part of its work.
    leaves_object = True
    checkpoint_fields = ("applied_at", "previous")
    result_field = "applied_at"

    def __init__(
        self,
        key: str,
        kind: str,
        row: Model,
        needs: Iterable[Step] = (),
        *,
        applies: list[tuple[Model, dict[str, Any]]],
        previous: dict[str, Any],
    ) -> None:
        super().__init__(key, kind, row, needs)
        self.applies = applies
        self.previous = previous

    @property
    def done(self) -> bool:
        return self.row.applied_at is not None

    def record(self, result: Any) -> dict[str, Any]:
        return self._set(applied_at=timezone.now(), previous=self.previous)

    def also(self, result: Any) -> list[tuple[Model, dict[str, Any]]]:
        for row, fields in self.applies:
            for name, value in fields.items():
                setattr(row, name, value)
        return self.applies

    def adds(self, job: Model) -> list[Model]:
        """New rows the accepted change adds, inserted with its record (the runner writes
        both in one statement, while it holds `job`): its audit event, by the user who asked
        for the change, with the values it replaced."""
        return [
            audit_object_change(
                job=job,
                object_type=self.row.object_type,
                object_id=self.row.object_id,
                previous=self.previous,
                values=self.row.values,
            )
        ]


class StoreStep(Step):
    """Read something from the platform and store what it says as new rows (an import).
    A read, so repeatable; done once stored, which the plan knows when it is loaded."""

    repeatable = True
    stores = True

    def __init__(
        self,
        key: str,
        kind: str,
        row: Model,
        needs: Iterable[Step] = (),
        *,
        stored: bool,
        store: Callable[[Any], None],
    ) -> None:
        super().__init__(key, kind, row, needs)
        self._stored = stored
        self._store = store

    @property
    def done(self) -> bool:
        return self._stored

    def record(self, result: Any) -> dict[str, Any]:
        return {}

    def store(self, result: Any) -> None:
        self._store(result)
        self._stored = True


# --- what the adapter answers for each step it ran ------------------------------------------


@dataclass(frozen=True)
class Wait:
    """The step ran, its value is not final yet (`value` is recorded): read it again in
    `seconds`. The run goes on with every step that does not need it."""

    value: Any
    seconds: float
    reason: str


class _NoAnswer:
    """The request was sent but this step's answer never came (a batch cut short, an
    operation skipped): whether it ran is unknown, unless a step it needs failed."""

    def __repr__(self) -> str:
        return "NO_ANSWER"


NO_ANSWER = _NoAnswer()


@dataclass
class Plan:
    """The steps of a job in an order that respects `needs`.

    `root` is the step whose platform ID names the job's work on the platform (the campaign
    of a CREATE job: `platform_campaign_id`), if there is one.
    """

    steps: list[Step]
    root: Step | None = None
    _index: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {id(step): n for n, step in enumerate(self.steps)}
        for step in self.steps:
            for need in step.needs:
                position = self._index.get(id(need))
                if position is None or position >= self._index[id(step)]:
                    raise ValueError(f"{step.key} needs {need.key}, which is not before it")

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def pending(self) -> list[Step]:
        return [step for step in self.steps if not step.done]

    def something_created(self) -> bool:
        return any(step.leaves_object and step.done for step in self.steps)


class RefreshStep(Step):
    """Read something from the platform and store it over rows that exist (a sync's statuses
    or figures). `row` is the read's own checkpoint: done once `stored_at` is set, which is
    written in the transaction that stores what was read, while the run holds the job. A read,
    so repeatable: a run that stops between the read and the store reads again."""

    repeatable = True
    stores = True
    checkpoint_fields = ("stored_at",)
    result_field = "stored_at"

    def __init__(
        self,
        key: str,
        kind: str,
        row: Model,
        needs: Iterable[Step] = (),
        *,
        store: Callable[[Any], None],
    ) -> None:
        super().__init__(key, kind, row, needs)
        self._store = store

    @property
    def done(self) -> bool:
        return self.row.stored_at is not None

    def record(self, result: Any) -> dict[str, Any]:
        return self._set(stored_at=timezone.now())

    def store(self, result: Any) -> None:
        self._store(result)


class StartStep(Step):
    """Start work the platform prepares on its own (a report run) and keep its id in `field`;
    a `ReadStep` of `status_field` then waits for it. Done while it has an id whose status is
    not one of `restart` (the platform gave up on it: start another). Starting it twice only
    makes the platform prepare it twice, so it is repeatable."""

    repeatable = True

    def __init__(
        self,
        key: str,
        kind: str,
        row: Model,
        needs: Iterable[Step] = (),
        *,
        field: str,
        status_field: str,
        restart: frozenset[str],
    ) -> None:
        super().__init__(key, kind, row, needs)
        self.field = field
        self.status_field = status_field
        self.restart = restart
        self.checkpoint_fields = (field, status_field)
        self.result_field = field

    @property
    def done(self) -> bool:
        return bool(getattr(self.row, self.field)) and (
            getattr(self.row, self.status_field) not in self.restart
        )

    def record(self, result: Any) -> dict[str, Any]:
        return self._set(**{self.field: str(result), self.status_field: ""})
