"""The sandbox's knobs (``SandboxConfig``): latency, fault rates, throttling, app secret, video
timing and API versions. The run command and ``POST /__sandbox__/config`` set them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SandboxConfig:
    """Knobs of the sandbox; the run command and POST /__sandbox__/config set them."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    # Share of Graph requests answered with a transient error (code 2) before any work.
    fault_rate: float = 0.0
    # Share of create requests whose connection is dropped after the object was created.
    drop_rate: float = 0.0
    # Share of Graph requests answered as if the token had expired (190/463).
    expired_token_rate: float = 0.0
    random_seed: int | None = None
    # Ad account rate limit (Marketing API rate limiting: a read scores 1, a write 3; Standard
    # tier max score 9000, decaying over 300 s, blocked 60 s once reached).
    throttle_score: int = 9000
    throttle_window_seconds: float = 300.0
    throttle_block_seconds: float = 60.0
    read_cost: int = 1
    write_cost: int = 3
    app_secret: str | None = None
    video_ready_after: float = 5.0
    video_chunk_size: int = 4 * 1024 * 1024
    # Seconds a new, reactivated or re-reviewed ad stays effective_status IN_PROCESS before
    # ACTIVE (or DISAPPROVED): Meta reviews ads before they deliver (Marketing API best
    # practices, "Ad Changes Triggering Ad Reviews"); see review.py.
    review_seconds: float = 2.0
    # Insights report runs (insights.py): status reads a new run answers before its final
    # status ("Job Not Started", "Job Started", "Job Running", ...), or, when
    # report_run_seconds > 0, the seconds it takes instead; and the final status itself
    # ("Job Completed", "Job Failed" or "Job Skipped").
    report_run_polls: int = 2
    report_run_seconds: float = 0.0
    report_run_outcome: str = "Job Completed"
    # Versions below this answer 2635 ("deprecated version of the Ads API"). Marketing API v24.0
    # was available until November 10, 2026, so v25.0 is the oldest version still served
    # ("Versions" table of the Marketing API changelog):
    # https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/versions.md
    min_api_version: str = "v25.0"
    # Version assumed when a path carries none (Graph uses the app's default version).
    default_api_version: str = "v26.0"
    max_log_entries: int = 5000

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise KeyError(key)
            current = getattr(self, key)
            if value is not None and isinstance(current, bool):
                value = bool(value)
            elif value is not None and isinstance(current, int) and not isinstance(current, bool):
                value = int(value)
            elif value is not None and isinstance(current, float):
                value = float(value)
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["app_secret"] = "<set>" if self.app_secret else None
        return data
