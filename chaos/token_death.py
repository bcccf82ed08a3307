"""A token dies in the middle of a burst: the sandbox revokes the canary account's token
(`POST /__sandbox__/tokens/expire`), so its next Graph call gets code 190. The job whose call
got it ends FAILED, the account becomes REQUIRES_REAUTH, its other jobs wait (PENDING) and new
submissions for it get 400. A few seconds later, with jobs still in flight, the operator sets
new credentials over the API (`PATCH /api/v1/ad_accounts/{id}`, another canary-shaped token)
and verifies them: the waiting jobs run with the new token and end; a run that started with
the old token and gets 190 after the change must not mark the account again.

Checked besides the common checks: the account ends ACTIVE; the new token is used; a job may
fail only with the 190 (the old token's); neither token appears anywhere (both are canaries).

    .venv/bin/python -m chaos.token_death --seed 1 --jobs 300 --timeout 600
    .venv/bin/python -m chaos.token_death --short
"""

from __future__ import annotations

import json
import time
from typing import Any

from chaos.cli import Fault, Run, run_script
from chaos.history import Report
from chaos.stack import StackConfig
from chaos.tenants import canary_token
from chaos.token_log import token_hash

EVENTS: dict[str, Any] = {}


def inject(run: Run) -> None:
    stack = run.stack
    team = run.load.teams["a"]
    account = team.accounts[0]  # the canary account
    # In the middle of the burst.
    while run.loading() and len(run.load.submissions) < run.args.jobs // 3:
        time.sleep(0.1)
    stack.control("POST", "tokens/expire", {"token": account.token})
    EVENTS["expired_at"] = time.time()
    run.note("tokens_revoked")
    # The burst of the dead account: the first of these to call Meta meets the 190.
    run.load.burst(account, 4 if run.short else 12, first_index=10_000)
    run.sleep(2.0 if run.short else 6.0)
    # More while it waits for new credentials: 400s (the account is REQUIRES_REAUTH).
    run.load.burst(account, 2 if run.short else 6, first_index=20_000)

    new_token = canary_token()
    run.canaries.append(new_token)
    stack.register_account(new_token, account.act_id, account.page_id)
    changed = run.load.request(
        team,
        "PATCH",
        f"/api/v1/ad_accounts/{account.id}",
        {"credentials": {"access_token": new_token}},
    )
    EVENTS["changed_at"] = time.time()
    EVENTS["old"], EVENTS["new"] = token_hash(account.token), token_hash(new_token)
    if changed.status != 200:
        run.report.violate("credentials", f"PATCH new credentials -> {changed.status}")
    verified = run.load.request(team, "POST", f"/api/v1/ad_accounts/{account.id}/verify")
    if verified.status != 200:
        run.report.violate("credentials", f"verify -> {verified.status}: {verified.body[:300]!r}")
    account.old_tokens.append(account.token)
    account.token = new_token
    run.note("credentials_replaced")
    while run.busy():
        run.sleep(1.0)


def expected_failure(job: dict[str, Any]) -> bool:
    error = job.get("error") or {}
    return error.get("code") == 190


def verify(run: Run, report: Report) -> None:
    team = run.load.teams["a"]
    account = team.accounts[0]
    answer = run.load.request(team, "GET", f"/api/v1/ad_accounts/{account.id}")
    status = json.loads(answer.body or b"{}").get("status")
    report.counts["account_status_ACTIVE"] = int(status == "ACTIVE")
    if status != "ACTIVE":
        report.violate("credentials", f"the account ends {status}, not ACTIVE")
    old, new = EVENTS.get("old"), EVENTS.get("new")
    calls = run.stack.token_log.entries
    report.counts["calls_old_token"] = sum(1 for entry in calls if entry[0] == old)
    report.counts["calls_new_token"] = sum(1 for entry in calls if entry[0] == new)
    if not report.counts["calls_new_token"]:
        report.violate("credentials", "the new token was never used")
    changed_at = EVENTS.get("changed_at", 0)
    report.counts["refused_while_reauth"] = sum(
        1
        for sub in run.load.submissions
        if sub.account is account
        and sub.status == 400
        and sub.kind == "create"
        and EVENTS.get("expired_at", 0) <= sub.submitted_at <= changed_at
    )


FAULT = Fault(
    name="token_death",
    description=__doc__ or "",
    inject=inject,
    expected_failure=expected_failure,
    verify=verify,
    stack=lambda args: StackConfig(sandbox={"latency_ms": 40, "latency_jitter_ms": 40}),
    defaults={"rate_short": 6.0},
)

if __name__ == "__main__":
    run_script(FAULT)
