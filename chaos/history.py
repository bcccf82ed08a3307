"""What a run left behind, checked against what mojito promises; counts and violations.

Read from the outside only: the API's answers (kept by the load), mojito's database (every
table, with psycopg), every Redis database, every log file of the stack, the sandbox's objects
and the token each Graph request carried (token_log.TokenLog).

- every accepted (202) job is final;
- nothing on the sandbox twice (objects grouped by name; videos by title, which is the job's
  marker), and no object mojito does not know (its ID recorded in no row): an orphan; nor a
  row recording an ID the sandbox does not hold (a phantom);
- every object of a job that ended SUCCESS exists on the sandbox, under the ID the job shows;
- nothing created for a refused (400) or cancelled submission;
- changes: the last change of an object that succeeded is what the sandbox holds;
- no team's token called another team's account;
- the canary token nowhere: logs, every table, Redis, every API answer;
- no 500 from the API; every submission got an answer in the end (not "no answer").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.leaks import find_leaks, redis_values
from chaos.load import Load
from chaos.mix import Submission
from chaos.stack import FINAL, Stack
from chaos.token_log import token_hash

CREATED_TYPES = ("campaign", "adset", "adcreative", "ad", "advideo")
RECORDED_TABLES = {
    "campaign": "campaigns",
    "adset": "ad_sets",
    "adcreative": "creatives",
    "ad": "ads",
    "advideo": "media_assets",
}


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def violate(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if len([v for v in self.violations if v.startswith(f"{kind}:")]) < 25:
            self.violations.append(f"{kind}: {message}")

    @property
    def ok(self) -> bool:
        return not self.violations

    def print(self, title: str) -> None:
        keys = [
            "submitted", "accepted", "refused", "unavailable", "cancelled", "unanswered",
            "server_errors",
            "succeeded", "failed_expected", "failed_unexpected", "partial", "unfinished",
            "objects", "duplicates", "orphans", "phantoms", "missing", "created_for_refused",
            "change_mismatches", "leaks", "cross_team",
        ]  # fmt: skip
        print(f"== {title}")
        print("   " + "  ".join(f"{k}={self.counts.get(k, 0)}" for k in keys))
        extra = {k: v for k, v in self.counts.items() if k not in keys}
        if extra:
            print("   " + "  ".join(f"{k}={v}" for k, v in sorted(extra.items())))
        for note in self.notes:
            print(f"   note: {note}")
        for violation in self.violations:
            print(f"   VIOLATION {violation}")
        print(f"== {'OK' if self.ok else 'FAILED'}")


def _query(stack: Stack, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(stack.postgres.url().replace("postgres://", "postgresql://")) as db:
        return db.execute(sql, params).fetchall()


def check(
    stack: Stack,
    load: Load,
    *,
    expected_failure: Callable[[dict[str, Any]], bool] = lambda job: False,
    canaries: list[str],
) -> Report:
    report = Report()
    subs = load.submissions
    counts = report.counts
    counts["submitted"] = len(subs)
    db_jobs = {
        str(row[0]): {"status": row[1], "kind": row[2], "error": row[3], "attempts": row[4]}
        for row in _query(stack, "SELECT id, status, kind, error, attempts FROM campaign_jobs")
    }
    api_jobs = load.fetch_jobs()

    # --- answers ---
    for answer in load.responses:
        if answer.status is not None and answer.status >= 500 and answer.status != 503:
            report.violate("server_errors", f"{answer.method} {answer.path} -> {answer.status}")
    counts["answers_503"] = sum(1 for a in load.responses if a.status == 503)
    counts["answers_none"] = sum(1 for a in load.responses if a.status is None)

    refused: set[int] = set()
    for sub in subs:
        if sub.status is None:
            # Not even an error: the connection refused or reset, or no answer in 15 s, on
            # every try for the client's 90 s.
            report.violate("unanswered", f"submission {sub.index} ({sub.kind}): no answer")
            refused.add(sub.index)
            continue
        if sub.status in (502, 503, 504):
            # A clear "not now", on every try: nothing may have been made for it.
            counts["unavailable"] += 1
            refused.add(sub.index)
            continue
        if sub.kind in ("invalid", "foreign"):
            if sub.status != 400:
                report.violate("refusals", f"{sub.kind} submission {sub.index} -> {sub.status}")
            refused.add(sub.index)
            counts["refused"] += 1
            continue
        if sub.status == 400:
            counts["refused"] += 1  # e.g. a budget changed too often, a REQUIRES_REAUTH account
            refused.add(sub.index)
            continue
        if not sub.accepted:
            report.violate("answers", f"{sub.kind} submission {sub.index} -> {sub.status}")
            continue
        counts["accepted"] += 1

    # --- jobs are final ---
    for sub in subs:
        if not sub.accepted:
            continue
        job = db_jobs.get(str(sub.job_id))
        if job is None:
            report.violate("lost", f"job {sub.job_id} (submission {sub.index}) is not stored")
            continue
        status = job["status"]
        if sub.cancelled and status != "CANCELLED":
            report.violate("cancel", f"job {sub.job_id} was cancelled (200) but is {status}")
        if status not in FINAL:
            report.violate("unfinished", f"job {sub.job_id} ({sub.kind}) is {status}")
        elif status == "CANCELLED":
            counts["cancelled"] += 1
        elif status == "SUCCESS":
            counts["succeeded"] += 1
        elif status == "PARTIAL_SUCCESS":
            counts["partial"] += 1
            if expected_failure(api_jobs.get(str(sub.job_id), job)):
                counts["failed_expected"] += 1
            else:
                report.violate(
                    "failed_unexpected", f"job {sub.job_id} PARTIAL_SUCCESS: {job['error']}"
                )
        else:
            if expected_failure(api_jobs.get(str(sub.job_id), job)):
                counts["failed_expected"] += 1
            else:
                report.violate(
                    "failed_unexpected",
                    f"job {sub.job_id} ({sub.kind}) FAILED after {job['attempts']} attempts: "
                    f"{job['error']}",
                )

    # --- the sandbox: duplicates, orphans, missing objects ---
    ours = {a.digits for t in load.teams.values() for a in t.accounts}
    objects = [
        o
        for o in stack.sandbox.state.snapshot()
        if o["type"] in CREATED_TYPES and str(o["account_id"]) in ours
    ]
    counts["objects"] = len(objects)
    recorded: set[str] = set()
    for table in RECORDED_TABLES.values():
        recorded |= {
            str(row[0])
            for row in _query(stack, f"SELECT platform_id FROM {table} WHERE platform_id <> ''")  # noqa: S608
        }
    # The other way round: every ID a row records is on the sandbox (images are recorded by
    # their hash, which names no object; a client's existing creative is not ours).
    on_sandbox = {o["id"] for o in objects}
    for table in ("campaigns", "ad_sets", "ads"):
        rows = _query(stack, f"SELECT platform_id FROM {table} WHERE platform_id <> ''")  # noqa: S608
        for (platform_id,) in rows:
            if platform_id not in on_sandbox:
                report.violate("phantoms", f"{table} records {platform_id}, not on the sandbox")
    for (platform_id,) in _query(
        stack,
        "SELECT platform_id FROM creatives WHERE platform_id <> '' AND NOT is_existing "
        "UNION SELECT platform_id FROM media_assets WHERE platform_id <> '' AND kind = 'VIDEO'",
    ):
        if platform_id not in on_sandbox:
            report.violate("phantoms", f"{platform_id} is recorded, not on the sandbox")
    by_name: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        key = obj["fields"].get("title") if obj["type"] == "advideo" else obj["fields"].get("name")
        by_name[(obj["type"], str(key))].append(obj)
        if obj["id"] not in recorded:
            report.violate("orphans", f"{obj['type']} {obj['id']} {key!r}: no row records it")
    for (kind, name), found in by_name.items():
        if len(found) > 1:
            report.violate("duplicates", f"{kind} {name!r} x{len(found)}")

    for sub in subs:
        if sub.kind != "create" or not sub.accepted:
            continue
        job = api_jobs.get(str(sub.job_id))
        if job is None or job["status"] != "SUCCESS":
            continue
        campaign = job.get("campaign") or {}
        shown = {"campaign": {campaign.get("name"): campaign.get("platform_id")}}
        for ad_set in campaign.get("ad_sets", []):
            shown.setdefault("adset", {})[ad_set["name"]] = ad_set["platform_id"]
            for ad in ad_set.get("ads", []):
                shown.setdefault("ad", {})[ad["name"]] = ad["platform_id"]
                shown.setdefault("adcreative", {})[f"{ad['name']}-cr"] = (
                    ad.get("creative") or {}
                ).get("platform_id")
        for kind, names in sub.names.items():
            for name in names:
                found = by_name.get((kind, name), [])
                if len(found) != 1:
                    report.violate("missing", f"{kind} {name!r} of job {sub.job_id}: {len(found)}")
                elif shown.get(kind, {}).get(name) != found[0]["id"]:
                    report.violate(
                        "missing",
                        f"{kind} {name!r}: the job shows {shown.get(kind, {}).get(name)}, "
                        f"the sandbox holds {found[0]['id']}",
                    )

    # --- nothing for refused or cancelled submissions ---
    for sub in subs:
        if not (sub.index in refused or (sub.accepted and sub.cancelled)):
            continue
        for kind, names in sub.names.items():
            for name in names:
                if by_name.get((kind, name)):
                    report.violate(
                        "created_for_refused",
                        f"{kind} {name!r} of submission {sub.index} ({sub.kind}, {sub.status}, "
                        f"cancelled={sub.cancelled})",
                    )

    # --- changes ---
    _check_changes(report, subs, db_jobs, stack)

    # --- tokens: each team's only on its own accounts ---
    team_of_token = {
        token_hash(token): t.name
        for t in load.teams.values()
        for a in t.accounts
        for token in (a.token, *a.old_tokens)
    }
    team_of_account = {a.digits: t.name for t in load.teams.values() for a in t.accounts}
    counts["graph_calls"] = len(stack.token_log.entries)
    for digest, account, path, _ in stack.token_log.entries:
        team = team_of_token.get(digest)
        owner = team_of_account.get(account)
        if owner is None:
            continue
        if team != owner:
            report.violate(
                "cross_team", f"a token of team {team} called account {account} ({path})"
            )

    # --- the canary ---
    _hunt_canary(report, stack, load, canaries)
    return report


def _check_changes(
    report: Report, subs: list[Submission], db_jobs: dict[str, dict[str, Any]], stack: Stack
) -> None:
    by_object: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        if sub.kind in ("update", "archive") and sub.accepted and sub.target:
            by_object[sub.target["platform_id"]].append(sub)
    for platform_id, changes in by_object.items():
        obj = stack.sandbox.state.objects.get(platform_id)
        if obj is None:
            report.violate("change_mismatches", f"{platform_id} is not on the sandbox")
            continue
        statuses = [db_jobs.get(str(s.job_id), {}).get("status") for s in changes]
        # Changes to one object run in the order they were accepted: the last one decides,
        # when it succeeded.
        last, status = changes[-1], statuses[-1]
        if status != "SUCCESS":
            continue
        report.counts["changes_checked"] += 1
        for key, value in last.target.items():
            if key in ("type", "platform_id"):
                continue
            held = obj.fields.get(key)
            if str(held) != str(value):
                report.violate(
                    "change_mismatches",
                    f"{last.target['type']} {platform_id}: {key} is {held!r} on the sandbox, "
                    f"the last change (job {last.job_id}, SUCCESS) set {value!r}",
                )


def _hunt_canary(report: Report, stack: Stack, load: Load, canaries: list[str]) -> None:
    leaks: list[str] = []

    def hunt(data: bytes | str, where: str) -> None:
        for canary in canaries:
            leaks.extend(find_leaks(canary, data, where))

    for path in stack.log_paths():
        if path.is_file():
            hunt(path.read_bytes(), f"log {path.name}")
    for answer in load.responses:
        hunt(answer.body + answer.headers.encode(), f"answer {answer.method} {answer.path}")
    hunt(stack.postgres.dump(), "pg_dump")
    client = stack.redis.client(0)
    dbs = [0, 1] + [int(k[2:]) for k in client.info("keyspace") if k.startswith("db")]
    for db in sorted(set(dbs)):
        for key, value in redis_values(stack.redis.client(db)):
            hunt(value, f"redis db{db} {key}")
    report.counts["leaks"] = 0
    for leak in leaks:
        report.violate("leaks", leak)
    report.counts["places_scanned"] = len(stack.log_paths()) + len(load.responses) + 1
