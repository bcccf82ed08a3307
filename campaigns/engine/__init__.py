"""The job engine: what makes any platform work safe, for every platform and kind of job.

- `steps`: a job's plan, steps on rows with the steps they need, and their outcomes.
- `adapter`: what a platform supplies (`PlatformAdapter`), and the failure taxonomy.
- `claims`: a PENDING job becomes one run's (attempt counted, lease set, account cap kept).
- `checkpoints`: writes a run makes while it holds its job, and the lease's heartbeat.
- `runner`: one run of a claimed job, step by step or group by group.
- `outcome`: the final status, backoff, attempt caps, the account after a dead token.
- `pauses`: an account's pause, shared by every worker.
- `worker`: the worker's entry point (claim, then run).

The engine knows no platform: it reaches one only through `platforms.registry`.

Kinds of work are kinds of step (`steps`): `CreateStep` and `UploadStep` (creates, marked
before they leave, adopted after a lost answer), `ReadStep` (a value read until final),
`ChangeStep` (a change of a live object, which its rows take only once the platform accepted
it: UPDATE and ARCHIVE jobs) and `StoreStep` (a read whose result becomes new rows: IMPORT).
A new kind of work is a new `Step` class if its checkpoint differs from these, and a plan
builder in the platform's adapter (`load_plan`); the runner, claims and outcome stay as they
are. Jobs that name a live object (`object_id`) run in the order they were accepted, after
any earlier unfinished job on that object or changing one of the objects they change.

A new platform is a folder under `platforms/` with an adapter (see
`platforms/meta/adapter.py`) and one registry entry.
`tests/test_engine.py` proves the engine's rules through a small platform written there.
"""
