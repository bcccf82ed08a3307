"""Run the `hurl/*.hurl` files as pytest tests, without the Hurl CLI.

The files are real Hurl (https://hurl.dev/docs/hurl-file.html). Where Hurl is installed, run them
against any running mojito with two API users, each the only member of their own team:

    hurl --test \\
        --variable base_url=http://127.0.0.1:8000 \\
        --variable token="$(python manage.py create_api_user alice --team team-a | tail -n1)" \\
        --variable other_token="$(python manage.py create_api_user bob --team team-b | tail -n1)" \\
        hurl/ad_accounts.hurl

In the test suite, each `*.hurl` file is one test item (`hurl/ad_accounts.hurl::ad_accounts`)
that sends real HTTP requests with `requests` to pytest-django's `live_server` (transactional
database, flushed after the item). One item per file rather than per entry: entries share
captured values and database state, and a transactional test flushes the database after each
item. Variables given to every file:

    base_url     the live server, e.g. http://localhost:41234 (no trailing slash)
    token        API token of a fresh user, sole member of a fresh team
    other_token  API token of another fresh user in another fresh team (tenancy checks)

and to a file that uses them (only: they add rows another file's counts would see), a
campaign live on Meta, as a job that succeeded leaves it (API.md's example tree), of a third
user's team:

    live_token        API token of that user
    live_campaign_id  the campaign; live_ad_set_id, live_ad_id: its ad set and its ad

Supported subset (anything else is a collection error naming file, line and column):

    # comments                     whole lines, or after a value / URL / assert
    METHOD URL                     GET HEAD POST PUT PATCH DELETE OPTIONS; URL absolute or
                                   starting with {{var}}; `{{var}}` templates anywhere in it
    Name: value                    request headers (value templated; `\\#` for a literal #)
    { ... } / [ ... ]              JSON request body, multi-line; `{{var}}` inside JSON strings;
                                   sent with Content-Type: application/json unless set
    HTTP <status> | HTTP *         also HTTP/1.0 and HTTP/1.1 (the version is then checked)
    Name: value                    after the response line: implicit header asserts
    [Captures]                     name: <query> [count]
    [Asserts]                      <query> [count] [not] <predicate> [value]
    queries                        jsonpath "<path>", header "<name>", status, body
    filter                         count
    predicates                     == != > >= < <= startsWith endsWith contains (strings)
                                   includes (list membership) matches ("re" or /re/)
                                   exists isEmpty isString isInteger isFloat isBoolean
                                   isNumber isCollection
    values                         "string" (templated), 12, -3, 1.5, true, false, null,
                                   {{var}} (typed: a captured integer compares as integer)
    JSONPath                       $ .name ['name'] ["name"] [index] [*] .*

Not supported (loud errors): request sections ([Options], [QueryStringParams], [FormParams],
[MultipartFormData], [Cookies], [BasicAuth]), non-JSON bodies (```, `, base64, hex, file, XML),
response body asserts, other queries (xpath, cookie, regex, bytes, duration, ...), other filters
(nth, split, regex, toInt, ...), capture options (redact), Hurl functions ({{newUuid}}),
HTTP/2 and HTTP/3, JSONPath filters, slices and recursive descent, and any variable that is
neither given above nor captured earlier in the file. The parser and runner are in
`hurl/subset.py`; the collector's own tests are in `tests/test_hurl_collector.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hurl.subset import HurlFailure, HurlFile, HurlSyntaxError, parse_hurl, run_hurl

PROVIDED_VARIABLES = ("base_url", "token", "other_token")
LIVE_VARIABLES = ("live_token", "live_campaign_id", "live_ad_set_id", "live_ad_id")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".hurl":
        return HurlTestFile.from_parent(parent, path=file_path)
    return None


def _display_path(config: pytest.Config, path: Path) -> str:
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


class HurlTestFile(pytest.File):
    """A `*.hurl` file: parsed at collection, so unsupported syntax is a collection error."""

    def collect(self) -> Iterator[pytest.Item]:
        text = self.path.read_text(encoding="utf-8")
        hurl = parse_hurl(
            text,
            path=_display_path(self.config, self.path),
            known_variables=(*PROVIDED_VARIABLES, *LIVE_VARIABLES),
        )
        uses_live = any(f"{{{{{name}}}}}" in text for name in LIVE_VARIABLES)

        def run_hurl_file(hurl_variables: dict[str, Any]) -> None:
            run_hurl(hurl, {**hurl_variables, **(_live_variables() if uses_live else {})})

        yield HurlItem.from_parent(self, name=self.path.stem, callobj=run_hurl_file, hurl=hurl)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        if isinstance(excinfo.value, HurlSyntaxError):
            return f"unsupported or invalid Hurl syntax\n{excinfo.value}"
        return super().repr_failure(excinfo)


class HurlItem(pytest.Function):
    """All entries of one file, in order; fixtures come from `run_hurl_file`'s signature."""

    def __init__(self, *args: Any, hurl: HurlFile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hurl = hurl

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.hurl.path} ({len(self.hurl.entries)} entries)"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, HurlFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _live_variables() -> dict[str, str]:
    from tests.factories import make_caller, make_live_campaign

    caller = make_caller()
    campaign = make_live_campaign(caller)
    ad_set = campaign.ad_sets.get()
    return {
        "live_token": caller.token,
        "live_campaign_id": str(campaign.pk),
        "live_ad_set_id": str(ad_set.pk),
        "live_ad_id": str(ad_set.ads.get().pk),
    }


@pytest.fixture
def hurl_variables(live_server: Any, transactional_db: None) -> dict[str, str]:
    """The variables every `*.hurl` file gets (see the module docstring)."""
    from tests.factories import make_caller

    return {
        "base_url": live_server.url.rstrip("/"),
        "token": make_caller().token,
        "other_token": make_caller().token,
    }
