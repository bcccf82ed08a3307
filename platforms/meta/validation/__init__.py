"""Validation of the body of `POST /api/v1/ads/meta`, following Meta's own rules.

Meta answers a bad campaign with one error at a time, after part of the tree may already exist.
This package finds every problem up front: each level collects its field errors and then checks
the rules that tie fields together (and levels: the campaign's objective and budget decide what
its ad sets may say) on whatever part of the data is valid, so one request lists everything that
is wrong.

One module per level: `campaign`, `ad_set` (with `targeting`), `creative` (ads, creatives and
their media); `request` ties them together; `changes` checks changes to live objects and
`additions` what is added to them. The tables (allowed values, objective/goal pairs,
Meta's limits) live in `platforms.meta.rules`.
"""

from platforms.meta.validation.additions import validate_meta_additions
from platforms.meta.validation.changes import validate_meta_change
from platforms.meta.validation.request import MetaAdRequestSerializer, validate_meta_ad_request

__all__ = [
    "MetaAdRequestSerializer",
    "validate_meta_ad_request",
    "validate_meta_additions",
    "validate_meta_change",
]
