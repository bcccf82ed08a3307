"""``python manage.py run_meta_sandbox``: serve the local Meta Graph API simulator.

Imports Django's BaseCommand and the sandbox package only (see platforms/meta/sandbox/README.md).
"""

from __future__ import annotations

import asyncio
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from platforms.meta.sandbox import (
    DEMO_ACCOUNT_ID,
    DEMO_PAGE_ID,
    DEMO_TOKEN,
    SandboxConfig,
    SandboxState,
    seed_demo,
    serve_forever,
)


def parse_token_spec(spec: str) -> tuple[str, list[str]]:
    """``TOKEN:act_1[,act_2]`` -> (token, ["act_1", "act_2"])."""
    token, sep, accounts = spec.rpartition(":")
    account_ids = [a.strip() for a in accounts.split(",") if a.strip()]
    if not sep or not token or not account_ids:
        raise CommandError(f"--token wants TOKEN:act_ID[,act_ID], got {spec!r}")
    for account_id in account_ids:
        if not account_id.removeprefix("act_").isdigit():
            raise CommandError(f"--token: {account_id!r} is not act_<digits>")
    return token, account_ids


class Command(BaseCommand):
    help = "Run the local Meta Graph API sandbox (stateful simulator of the Marketing API)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        defaults = SandboxConfig()
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--token",
            action="append",
            default=[],
            metavar="TOKEN:act_ID[,act_ID]",
            help="Register an access token and the ad accounts it may use (repeatable).",
        )
        parser.add_argument("--app-secret", help="Require appsecret_proof for every call.")
        parser.add_argument(
            "--seed-demo",
            action="store_true",
            help=f"Register {DEMO_TOKEN} owning act_{DEMO_ACCOUNT_ID} and page {DEMO_PAGE_ID}.",
        )
        parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
        parser.add_argument("--latency-jitter-ms", type=float, default=defaults.latency_jitter_ms)
        parser.add_argument(
            "--fault-rate",
            type=float,
            default=defaults.fault_rate,
            help="Share of Graph calls answered with a transient error (code 2).",
        )
        parser.add_argument(
            "--drop-rate",
            type=float,
            default=defaults.drop_rate,
            help="Share of creates whose connection drops after the create.",
        )
        parser.add_argument(
            "--expired-token-rate",
            type=float,
            default=defaults.expired_token_rate,
            help="Share of Graph calls answered as if the token had expired.",
        )
        parser.add_argument("--random-seed", type=int, default=None)
        parser.add_argument(
            "--throttle-score",
            type=int,
            default=defaults.throttle_score,
            help="Ad account score (read 1, write 3) that triggers 80004.",
        )
        parser.add_argument(
            "--throttle-window",
            type=float,
            default=defaults.throttle_window_seconds,
            help="Seconds a full score takes to decay.",
        )
        parser.add_argument(
            "--throttle-block-seconds", type=float, default=defaults.throttle_block_seconds
        )
        parser.add_argument(
            "--video-ready-after",
            type=float,
            default=defaults.video_ready_after,
            help="Seconds a new video stays 'processing'.",
        )
        parser.add_argument("--min-api-version", default=defaults.min_api_version)

    def handle(self, *args: Any, **options: Any) -> None:
        for rate in ("fault_rate", "drop_rate", "expired_token_rate"):
            if not 0 <= options[rate] <= 1:
                raise CommandError(f"--{rate.replace('_', '-')} must be between 0 and 1")
        config = SandboxConfig(
            latency_ms=options["latency_ms"],
            latency_jitter_ms=options["latency_jitter_ms"],
            fault_rate=options["fault_rate"],
            drop_rate=options["drop_rate"],
            expired_token_rate=options["expired_token_rate"],
            random_seed=options["random_seed"],
            throttle_score=options["throttle_score"],
            throttle_window_seconds=options["throttle_window"],
            throttle_block_seconds=options["throttle_block_seconds"],
            app_secret=options["app_secret"],
            video_ready_after=options["video_ready_after"],
            min_api_version=options["min_api_version"],
        )
        state = SandboxState(config)
        if options["seed_demo"]:
            seed_demo(state)
        for spec in options["token"]:
            token, account_ids = parse_token_spec(spec)
            for account_id in account_ids:
                state.register(token, account_id, seed=True)
        host, port = options["host"], options["port"]
        self.stdout.write(f"Meta sandbox listening on http://{host}:{port}")
        self.stdout.write("  Graph API under /vNN.N/...; control API under /__sandbox__/")
        for token, record in state.tokens.items():
            shown = token if token == DEMO_TOKEN else f"{token[:4]}..."
            accounts = ", ".join(f"act_{a}" for a in sorted(record.account_ids))
            self.stdout.write(f"  token {shown}: {accounts}")
        self.stdout.flush()
        try:
            asyncio.run(serve_forever(state, host, port))
        except KeyboardInterrupt:
            self.stdout.write("Meta sandbox stopped")
