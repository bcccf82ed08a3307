"""Delivery figures (the Insights API) as the sandbox serves them: `GET /act_<id>/insights`,
`GET /<campaign|adset|ad>/insights`; the asynchronous report runs that answer the same rows
are in report_runs.py.

Sources (developers.facebook.com/docs/marketing-api/ unless a full URL is given):
- Insights API and the Ad Account Insights reference: `level` (account, campaign, adset, ad),
  `fields`, `time_range` `{"since", "until"}` (days in the ad account's time zone),
  `time_increment` (1: one row per day; `all_days`: one row for the range; N days), default
  range `last_30d`; `filtering` a list of `{"field", "operator", "value"}`; rows carry
  `date_start`/`date_stop` and every figure as a string; cursor paging.
- Best practices, "Manage your ad object's status": "<AD_ID>/insights works for a deleted
  object but act_<AD_ACCOUNT_ID>/insights?level=ad does not return stats for the deleted
  object ... You can query insights for DELETED objects using the ad.effective_status
  filter"; "If you read stats for an ad object, we include the stats of all children objects,
  no matter if the child is active, archived, or deleted."

The figures are the sandbox's own, deterministic per ad and day (a hash of both): an ad
delivers on most days from its creation (or the start set by the control API) until today;
ad sets and campaigns sum their ads, so a campaign's spend equals its ad sets' and its ads'.
Reach does not add up (people see several ads): a parent's is below the sum of its ads'.
Nothing runs in the background: rows are computed when read.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from . import errors
from .errors import GraphError
from .fields import matches, page, parse_fields, parse_filtering, parse_limit
from .params import Params
from .review import effective_status
from .state import Account, GraphObject, SandboxState

LEVELS = ("account", "campaign", "adset", "ad")
ID_FIELDS = {"campaign": "campaign_id", "adset": "adset_id", "ad": "ad_id"}
# Fields of an Ads Insights row the sandbox computes (AdsInsights reference names).
FIELDS = frozenset(
    {
        "account_id",
        "account_name",
        "account_currency",
        "campaign_id",
        "campaign_name",
        "adset_id",
        "adset_name",
        "ad_id",
        "ad_name",
        "date_start",
        "date_stop",
        "spend",
        "impressions",
        "reach",
        "clicks",
        "ctr",
        "cpc",
        "cpm",
        "frequency",
    }
)
DEFAULT_FIELDS = ("impressions", "spend")
FILTER_OBJECTS = ("campaign", "adset", "ad")
FILTER_ATTRIBUTES = ("id", "name", "effective_status")
HIDDEN_BY_DEFAULT = ("DELETED", "ARCHIVED")
# Currencies without minor unit (Meta's "Currency codes" page, offset 1): spend has no decimals.
ZERO_DECIMAL = frozenset(
    {"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"}
)
MAX_DAYS = 37 * 31  # Insights keeps 37 months


# --- days and figures ------------------------------------------------------------------------


def account_day(account: Account, seconds: float) -> datetime.date:
    """The day `seconds` (Unix time) falls on in the ad account's time zone."""
    shifted = seconds + account.timezone_offset_hours_utc * 3600
    return datetime.datetime.fromtimestamp(shifted, tz=datetime.UTC).date()


def _ancestors(state: SandboxState, ad: GraphObject) -> list[GraphObject]:
    """The ad, its ad set and its campaign (those that exist)."""
    chain = [ad]
    adset = state.get_object(str(ad.parent_id))
    if adset is not None:
        chain.append(adset)
        campaign = state.get_object(str(adset.parent_id))
        if campaign is not None:
            chain.append(campaign)
    return chain


def delivery_start(state: SandboxState, account: Account, ad: GraphObject) -> datetime.date:
    """The first day an ad delivers: the start the control API set on it or a parent, else
    its creation day."""
    for obj in _ancestors(state, ad):
        if obj.extra.get("delivery_since"):
            return datetime.date.fromisoformat(obj.extra["delivery_since"])
    return account_day(account, ad.created_time)


def restated(state: SandboxState, ad: GraphObject, day: str) -> float:
    """The factor the control API restated the ad's figures of `day` by (1 when never)."""
    factor = 1.0
    for obj in _ancestors(state, ad):
        factor *= float((obj.extra.get("restated") or {}).get(day, 1.0))
    return factor


def ad_figures(ad_id: str, day: str, factor: float = 1.0) -> dict[str, int] | None:
    """One ad's figures of one day, from a hash of both (None: no delivery that day)."""
    digest = hashlib.sha256(f"{ad_id}:{day}".encode()).digest()
    if digest[0] % 10 == 0:
        return None
    impressions = 200 + int.from_bytes(digest[1:3], "big") % 4800
    reach = impressions * (60 + digest[3] % 36) // 100
    clicks = impressions * (digest[4] % 40) // 1000
    cpm_minor = 200 + int.from_bytes(digest[5:7], "big") % 1300  # 2.00 to 15.00 per mille
    spend = impressions * cpm_minor // 1000
    if factor != 1.0:
        impressions, reach, clicks, spend = (
            round(v * factor) for v in (impressions, reach, clicks, spend)
        )
    return {"impressions": impressions, "reach": reach, "clicks": clicks, "spend": spend}


def _money(minor: float, currency: str, decimals: int | None = None) -> str:
    if currency in ZERO_DECIMAL:
        return f"{minor:.{decimals or 0}f}"
    return f"{minor / 100:.{2 if decimals is None else decimals}f}"


def render_figures(totals: dict[str, int], currency: str) -> dict[str, str]:
    """Figures as Meta sends them: strings; spend with the currency's decimals, ctr/cpc/cpm
    with six; cpc left out without clicks, ctr/cpm without impressions."""
    impressions, clicks, spend = totals["impressions"], totals["clicks"], totals["spend"]
    reach = min(totals["reach"], impressions)
    data = {
        "spend": _money(spend, currency),
        "impressions": str(impressions),
        "reach": str(reach),
        "clicks": str(clicks),
    }
    if impressions:
        data["ctr"] = f"{clicks / impressions * 100:.6f}" if clicks else "0"
        data["cpm"] = _money(spend / impressions * 1000, currency, 6)
        if reach:
            data["frequency"] = f"{impressions / reach:.6f}"
    if clicks:
        data["cpc"] = _money(spend / clicks, currency, 6)
    return data


# --- a read ----------------------------------------------------------------------------------


@dataclass
class Query:
    level: str
    fields: list[str]
    since: datetime.date
    until: datetime.date
    increment: int | None  # days per row; None: all_days
    filters: list[dict[str, Any]]
    status_filtered: bool


def parse_query(params: Params, account: Account, default_level: str, now: float) -> Query:
    level = params.str("level") or default_level
    if level not in LEVELS:
        raise errors.enum_param("level", LEVELS)
    specs = parse_fields(params.raw("fields"))
    names = [s.name for s in specs] if specs is not None else list(DEFAULT_FIELDS)
    for name in names:
        if name not in FIELDS:
            raise GraphError(
                f"(#100) {name} is not valid for fields param. please check "
                "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ "
                "for all valid values",
                code=100,
            )
    today = account_day(account, now)
    time_range = params.json("time_range", dict)
    if time_range is None:
        # The default date_preset, last_30d: the 30 days before today.
        since, until = today - datetime.timedelta(days=30), today - datetime.timedelta(days=1)
    else:
        try:
            since = datetime.date.fromisoformat(str(time_range.get("since")))
            until = datetime.date.fromisoformat(str(time_range.get("until")))
        except ValueError:
            raise errors.invalid_parameter(
                "Invalid time range",
                "time_range must be {'since': 'YYYY-MM-DD', 'until': 'YYYY-MM-DD'}.",
            ) from None
        if since > until:
            raise errors.invalid_parameter(
                "Invalid time range", "time_range's since must not be after its until."
            )
        if (until - since).days > MAX_DAYS:
            raise errors.invalid_parameter(
                "Invalid time range", "Insights are kept for 37 months: ask a shorter range."
            )
    raw_increment = str(params.raw("time_increment") or "all_days")
    if raw_increment in ("all_days", "monthly"):
        increment = None
    elif raw_increment.isdigit() and 1 <= int(raw_increment) <= 90:
        increment = int(raw_increment)
    else:
        raise GraphError(
            "(#100) time_increment must be all_days, monthly or an integer from 1 to 90",
            code=100,
        )
    filters = parse_filtering(params.json("filtering", list))
    for flt in filters:
        target, _, attribute = flt["field"].partition(".")
        if target not in FILTER_OBJECTS or attribute not in FILTER_ATTRIBUTES:
            raise GraphError(
                f"(#100) Filtering field '{flt['field']}' with operation "
                f"'{flt['operator'].lower()}' is not supported",
                code=100,
            )
    return Query(
        level=level,
        fields=names,
        since=since,
        until=until,
        increment=increment,
        filters=filters,
        status_filtered=any(f["field"].endswith(".effective_status") for f in filters),
    )


def _attributes(state: SandboxState, obj: GraphObject | None, now: float) -> dict[str, Any]:
    if obj is None:
        return {}
    return {
        "id": obj.id,
        "name": obj.fields.get("name"),
        "effective_status": effective_status(state, obj, now),
    }


def _ads_counted(
    state: SandboxState, ads: list[GraphObject], query: Query, now: float, every_status: bool
) -> list[tuple[GraphObject, GraphObject | None, GraphObject | None]]:
    """The ads whose figures the read adds up, each with its ad set and campaign."""
    counted = []
    for ad in ads:
        adset = state.get_object(str(ad.parent_id))
        campaign = state.get_object(str(adset.parent_id)) if adset is not None else None
        view = {
            "ad": _attributes(state, ad, now),
            "adset": _attributes(state, adset, now),
            "campaign": _attributes(state, campaign, now),
        }
        hidden = any(v.get("effective_status") in HIDDEN_BY_DEFAULT for v in view.values() if v)
        if hidden and not (every_status or query.status_filtered):
            continue
        if all(matches(view, f) for f in query.filters):
            counted.append((ad, adset, campaign))
    return counted


def _periods(query: Query) -> list[tuple[datetime.date, datetime.date]]:
    if query.increment is None:
        return [(query.since, query.until)]
    periods = []
    start = query.since
    while start <= query.until:
        stop = min(query.until, start + datetime.timedelta(days=query.increment - 1))
        periods.append((start, stop))
        start = stop + datetime.timedelta(days=1)
    return periods


def compute_rows(
    state: SandboxState,
    account: Account,
    ads: list[GraphObject],
    query: Query,
    now: float,
    *,
    every_status: bool = False,
) -> list[dict[str, Any]]:
    """Every row of the read: one per object of the level and period with delivery."""
    today = account_day(account, now)
    periods = _periods(query)
    # (object key, period index) -> totals, plus the objects of each key.
    totals: dict[tuple[str, int], dict[str, Any]] = {}
    for ad, adset, campaign in _ads_counted(state, ads, query, now, every_status):
        first = max(query.since, delivery_start(state, account, ad))
        last = min(query.until, today)
        owner = {"account": None, "campaign": campaign, "adset": adset, "ad": ad}[query.level]
        key = owner.id if owner is not None else account.id
        day = first
        while day <= last:
            figures = ad_figures(ad.id, day.isoformat(), restated(state, ad, day.isoformat()))
            if figures is not None:
                index = next(n for n, (a, b) in enumerate(periods) if a <= day <= b)
                entry = totals.setdefault(
                    (key, index),
                    {
                        "ad": ad,
                        "adset": adset,
                        "campaign": campaign,
                        "sum": dict.fromkeys(("impressions", "reach", "clicks", "spend"), 0),
                        "ads": 0,
                    },
                )
                for name, value in figures.items():
                    entry["sum"][name] += value
                entry["ads"] += 1
            day += datetime.timedelta(days=1)
    rows = []
    for (key, index), entry in sorted(totals.items(), key=lambda item: (item[0][1], item[0][0])):
        sums = dict(entry["sum"])
        if entry["ads"] > 1:
            # People reached by several ads count once: a parent's reach is below the sum.
            sums["reach"] = sums["reach"] * 85 // 100
        figures = render_figures(sums, account.currency)
        start, stop = periods[index]
        values: dict[str, Any] = {
            "account_id": account.id,
            "account_name": account.name,
            "account_currency": account.currency,
            **figures,
        }
        for level in ("campaign", "adset", "ad"):
            if LEVELS.index(level) <= LEVELS.index(query.level) and entry[level] is not None:
                values[f"{level}_id"] = entry[level].id
                values[f"{level}_name"] = entry[level].fields.get("name")
        row = {name: values[name] for name in query.fields if name in values}
        row["date_start"], row["date_stop"] = start.isoformat(), stop.isoformat()
        row["_key"] = f"{key}:{start.isoformat()}"
        rows.append(row)
    return rows


def paged(call_params: dict[str, Any], rows: list[dict[str, Any]], base: str) -> dict[str, Any]:
    """One page of rows, with Graph's cursors and `next` when there is more."""
    params = Params(call_params)
    keys = [row["_key"] for row in rows]
    by_key = {row["_key"]: row for row in rows}
    chosen, cursors, has_next, has_previous = page(
        keys,
        limit=parse_limit(params.raw("limit")),
        after=params.str("after"),
        before=params.str("before"),
    )
    data = [{k: v for k, v in by_key[key].items() if k != "_key"} for key in chosen]
    paging: dict[str, Any] = {"cursors": cursors}
    query = {
        k: (v if isinstance(v, str) else json.dumps(v))
        for k, v in call_params.items()
        if k not in ("after", "before")
    }
    if has_next:
        paging["next"] = f"{base}?{urlencode({**query, 'after': cursors['after']})}"
    if has_previous:
        paging["previous"] = f"{base}?{urlencode({**query, 'before': cursors['before']})}"
    return {"data": data, "paging": paging}


def node_ads(state: SandboxState, obj: GraphObject) -> list[GraphObject]:
    """The ads under a campaign, ad set or ad (deleted ones too: their figures stay)."""
    if obj.type == "ad":
        return [obj]
    if obj.type == "adset":
        return state.children(obj.id, "ad")
    adsets = {a.id for a in state.children(obj.id, "adset")}
    return [o for o in state.of_account(obj.account_id, "ad") if o.parent_id in adsets]
