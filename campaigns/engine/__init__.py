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

A new kind of work (update, archive, import, sync) is a new `Step` class in `steps` if its
checkpoint differs from the existing ones (what marks it sent, what records its result), and
a plan builder in the platform's adapter (`load_plan`) that turns the job's rows into steps;
the runner, claims and outcome stay as they are. A new platform is a folder under
`platforms/` with an adapter (see `platforms/meta/adapter.py`) and one registry entry.
`tests/test_engine.py` proves the engine's rules through a small platform written there.
"""
