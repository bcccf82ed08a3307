"""``python manage.py meta_example_job``: write the README's example job for an ad account."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from platforms.meta.demo import example_job


class Command(BaseCommand):
    help = (
        "Write the README's example body for POST /api/v1/ads/meta (one campaign, ad set and "
        "ad with an image) for an ad account and page, to --output or stdout. Used by bin/run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--ad-account-id", required=True, help="our UUID or act_<digits>")
        parser.add_argument("--page-id", required=True, help="the Facebook Page the ad runs as")
        parser.add_argument("--image-url", required=True, help="the ad's image, fetched by URL")
        parser.add_argument("--output", type=Path, help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        body = example_job(
            ad_account_id=options["ad_account_id"],
            page_id=options["page_id"],
            image_url=options["image_url"],
        )
        text = json.dumps(body, indent=2) + "\n"
        if options["output"] is None:
            self.stdout.write(text, ending="")
            return
        options["output"].parent.mkdir(parents=True, exist_ok=True)
        options["output"].write_text(text)
        self.stdout.write(f"Wrote {options['output']}")
