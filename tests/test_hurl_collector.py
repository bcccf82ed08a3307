"""The Hurl subset collector (hurl/conftest.py, hurl/subset.py): parsing, loud rejection of
unsupported syntax, and running entries with readable failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hurl.subset import (
    HttpResponse,
    HurlFailure,
    HurlSyntaxError,
    RequestsSender,
    Template,
    VarRef,
    compile_jsonpath,
    eval_jsonpath,
    parse_hurl,
    run_hurl,
)

pytest_plugins = ["pytester"]

KNOWN = ("base_url", "token", "other_token")

VALID = """\
# A comment line
GET {{base_url}}/api/v1/teams   # trailing comment
Authorization: Token {{token}}
HTTP 200
Content-Type: application/json
[Captures]
team_id: jsonpath "$[0].id"
teams: jsonpath "$" count
[Asserts]
jsonpath "$" count == 1
jsonpath "$[0]['name']" startsWith "team-"
header "Location" not exists
status < 300

POST {{base_url}}/api/v1/ad_accounts
Authorization: Token {{token}}
{
  "team_id": "{{team_id}}",
  "tags": ["a", "b"],
  "n": 3
}
HTTP/1.1 201
[Asserts]
jsonpath "$.team_id" == {{team_id}}
jsonpath "$.name" matches /^acc\\/\\d+$/
jsonpath "$.ratio" >= 0.5
jsonpath "$.list[*].id" includes 7
body not contains "secret"
jsonpath "$.flag" == true
jsonpath "$.owner" == null
jsonpath "$.tags" isCollection

DELETE {{base_url}}/api/v1/ad_accounts/{{team_id}}
HTTP *
"""


def parse(text: str, known: tuple[str, ...] | None = KNOWN) -> Any:
    return parse_hurl(text, path="snippet.hurl", known_variables=known)


# --- parsing ----------------------------------------------------------------------------------


def test_valid_snippet_parses_into_requests_captures_and_asserts():
    hurl = parse(VALID)
    assert [entry.request.method for entry in hurl.entries] == ["GET", "POST", "DELETE"]

    first = hurl.entries[0]
    assert first.request.line == 2
    assert first.request.url == Template((VarRef("base_url"), "/api/v1/teams"))
    assert [(h.name, h.value.source()) for h in first.request.headers] == [
        ("Authorization", "Token {{token}}")
    ]
    assert first.request.has_body is False
    response = first.response
    assert (response.status, response.version, response.line) == (200, None, 4)
    assert [(h.name, h.value.source()) for h in response.headers] == [
        ("Content-Type", "application/json")
    ]
    assert [
        (c.name, c.query.kind, c.query.arg.source(), c.query.filters) for c in response.captures
    ] == [
        ("team_id", "jsonpath", "$[0].id", ()),
        ("teams", "jsonpath", "$", ("count",)),
    ]
    count, starts, location, status = response.asserts
    assert (count.query.filters, count.predicate.func, count.predicate.value.value) == (
        ("count",),
        "==",
        1,
    )
    assert starts.predicate.func == "startsWith"
    assert starts.predicate.value.value.source() == "team-"
    assert (location.query.kind, location.predicate.func, location.predicate.negated) == (
        "header",
        "exists",
        True,
    )
    assert (status.query.kind, status.predicate.func, status.line) == ("status", "<", 13)

    second = hurl.entries[1]
    assert second.request.has_body
    assert second.request.body == {
        "team_id": Template((VarRef("team_id"),)),
        "tags": ["a", "b"],
        "n": 3,
    }
    assert (second.response.status, second.response.version) == (201, "HTTP/1.1")
    kinds = [
        (a.predicate.func, a.predicate.negated, a.predicate.value and a.predicate.value.kind)
        for a in second.response.asserts
    ]
    assert kinds == [
        ("==", False, "var"),
        ("matches", False, "regex"),
        (">=", False, "number"),
        ("includes", False, "number"),
        ("contains", True, "string"),
        ("==", False, "bool"),
        ("==", False, "null"),
        ("isCollection", False, None),
    ]
    assert second.response.asserts[1].predicate.value.value == r"^acc/\d+$"

    third = hurl.entries[2]
    assert (third.response.status, third.response.version) == (None, None)


def test_quoted_string_escapes_and_comments_after_values():
    hurl = parse(
        "GET {{base_url}}/x\nX-Tag: a\\#b # comment\nHTTP 200\n[Asserts]\n"
        'body == "say \\"hi\\"\\n\\u{2713}" # trailing comment\n'
    )
    entry = hurl.entries[0]
    assert entry.request.headers[0].value.source() == "a#b"
    assert entry.response.asserts[0].predicate.value.value.source() == 'say "hi"\n\u2713'


UNSUPPORTED = [
    pytest.param(
        "POST {{base_url}}/upload\n[MultipartFormData]\nfile: file,a.txt;\nHTTP 200\n",
        2, "request section [MultipartFormData] is not supported", id="multipart",
    ),
    pytest.param(
        "GET {{base_url}}/x\n[Options]\nlocation: true\nHTTP 200\n",
        2, "request section [Options] is not supported", id="options",
    ),
    pytest.param(
        "GET {{base_url}}/x\n[QueryStringParams]\na: 1\nHTTP 200\n",
        2, "[QueryStringParams] is not supported", id="query-string-params",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\nxpath \"//h1\" exists\n",
        4, "query 'xpath' is not supported", id="xpath",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Captures]\nc: cookie \"sid\"\n",
        4, "query 'cookie' is not supported", id="cookie-query",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a\" isGreat\n",
        4, "unknown predicate 'isGreat'", id="unknown-predicate",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a\" equals 1\n",
        4, "predicate 'equals' was removed from Hurl: use '=='", id="removed-predicate",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a\" isUuid\n",
        4, "predicate 'isUuid' is not supported", id="unsupported-predicate",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a\" nth 0 == 1\n",
        4, "filter 'nth' is not supported", id="nth-filter",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$..a\" exists\n",
        4, "recursive descent", id="jsonpath-recursive",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a[?(@.b == 1)]\" exists\n",
        4, "unsupported syntax", id="jsonpath-filter",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a\" contains 3\n",
        4, "'contains' does not take a number value", id="contains-number",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.a\" == hex,ff;\n",
        4, "predicate values are supported", id="hex-value",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Captures]\ntok: jsonpath \"$.t\" redact\n",
        4, "capture option 'redact' is not supported", id="redact",
    ),
    pytest.param("GET {{base_url}}/x\nHTTP/2 200\n", 2, "HTTP/2 is not supported", id="http2"),
    pytest.param("GET {{base_url}}/x\nHTTP/* 200\n", 2, "'HTTP/*' is pre-Hurl-4", id="http-star"),
    pytest.param(
        "POST {{base_url}}/x\n```\nraw text\n```\nHTTP 200\n",
        2, "multiline/oneline string bodies are not supported", id="raw-body",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n{\"a\": 1}\n",
        3, "response body asserts are not supported", id="response-body",
    ),
    pytest.param(
        "POST {{base_url}}/x\n{\n  \"a\": 1,\n}\nHTTP 200\n",
        4, "invalid JSON body", id="bad-json",
    ),
    pytest.param(
        "POST {{base_url}}/x\n{\"a\": {{n}}}\nHTTP 200\n",
        2, "templates are only supported inside JSON strings", id="bare-json-template",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\nstatus == 200\n[Asserts]\nbody exists\n",
        5, "duplicate section [Asserts]", id="duplicate-section",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\njsonpath \"$.a\" == 1\n",
        3, "asserts go in an [Asserts] section", id="assert-outside-section",
    ),
    pytest.param(
        "GET {{base_url}}/x\nX-Id: {{newUuid}}\nHTTP 200\n",
        2, "undefined variable 'newUuid'", id="hurl-function",
    ),
    pytest.param(
        "GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath \"$.id\" == {{later}}\n"
        "GET {{base_url}}/y\nHTTP 200\n[Captures]\nlater: jsonpath \"$.id\"\n",
        4, "undefined variable 'later'", id="variable-used-before-capture",
    ),
    pytest.param("GET {{base_url}}/x#frag\nHTTP 200\n", 1, "URL fragments", id="url-fragment"),
    pytest.param("LINK {{base_url}}/x\nHTTP 200\n", 1, "method LINK is not supported", id="method"),
    pytest.param(
        "GET {{base_url}}/{{ a | upper }}\nHTTP 200\n", 1, "unsupported template", id="filter-expr"
    ),
    pytest.param("# only a comment\n", 1, "the file has no request", id="empty"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), UNSUPPORTED)
def test_unsupported_syntax_is_a_clear_error_naming_the_line(text, line, message):
    with pytest.raises(HurlSyntaxError) as excinfo:
        parse(text)
    error = excinfo.value
    assert error.line == line
    assert message in error.message
    assert str(error).startswith(f"snippet.hurl:{line}")


def test_error_shows_the_offending_line_and_column():
    with pytest.raises(HurlSyntaxError) as excinfo:
        parse('GET {{base_url}}/x\nHTTP 200\n[Asserts]\njsonpath "$.a" isGreat\n')
    assert excinfo.value.column == len('jsonpath "$.a" ') + 1
    assert 'jsonpath "$.a" isGreat' in str(excinfo.value)


# --- JSONPath ---------------------------------------------------------------------------------

DOC = {"a": {"b": [{"c": 1}, {"c": 2}]}, "list": [10, 20], "odd key": True}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.a.b[0].c", 1),
        ("$['a']['b'][1]['c']", 2),
        ('$["odd key"]', True),
        ("$.a.b[*].c", [1, 2]),
        ("$.list[*]", [10, 20]),
        ("$.list.*", [10, 20]),
        ("$.list[5]", "none"),
        ("$.missing", "none"),
        ("$.a.b[*].missing", "none"),
    ],
)
def test_jsonpath_subset(path, expected):
    result = eval_jsonpath(compile_jsonpath(path), DOC)
    assert (repr(result) if expected == "none" else result) == expected


# --- running ----------------------------------------------------------------------------------


class FakeServer:
    """A sender answering from a list of canned responses, recording what was sent."""

    def __init__(self, *responses: HttpResponse) -> None:
        self.responses = list(responses)
        self.sent: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def __call__(self, method, url, headers, body):
        self.sent.append((method, url, headers, body))
        return self.responses.pop(0)


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(
        status=status,
        version="HTTP/1.1",
        headers=[("Content-Type", "application/json"), *headers],
        body=json.dumps(payload).encode(),
    )


VARIABLES = {"base_url": "http://api.test", "token": "tok-1", "other_token": "tok-2"}


def test_entries_run_in_order_and_captures_carry_to_later_entries():
    server = FakeServer(
        json_response(200, [{"id": "team-uuid", "name": "team-1"}]),
        json_response(
            201,
            {
                "team_id": "team-uuid",
                "name": "acc/12",
                "ratio": 0.5,
                "list": [{"id": 7}],
                "flag": True,
                "owner": None,
                "tags": [],
            },
        ),
        HttpResponse(204, "HTTP/1.1", [], b""),
    )
    variables = run_hurl(parse(VALID), VARIABLES, send=server)

    assert variables["team_id"] == "team-uuid"
    assert variables["teams"] == 1
    (m1, url1, h1, b1), (m2, url2, h2, b2), (m3, url3, _, _) = server.sent
    assert (m1, url1, h1, b1) == (
        "GET",
        "http://api.test/api/v1/teams",
        {"Authorization": "Token tok-1"},
        None,
    )
    assert (m2, url2) == ("POST", "http://api.test/api/v1/ad_accounts")
    assert h2 == {"Authorization": "Token tok-1", "Content-Type": "application/json"}
    assert json.loads(b2) == {"team_id": "team-uuid", "tags": ["a", "b"], "n": 3}
    assert (m3, url3) == ("DELETE", "http://api.test/api/v1/ad_accounts/team-uuid")


def run_one(asserts: str, response: HttpResponse, variables: dict | None = None) -> None:
    hurl = parse(f"GET {{{{base_url}}}}/x\nHTTP *\n[Asserts]\n{asserts}\n", known=None)
    run_hurl(hurl, {**VARIABLES, **(variables or {})}, send=FakeServer(response))


PAYLOAD = {"n": 1, "f": 1.0, "s": "abc", "t": True, "z": None, "l": [1, "x"], "o": {}, "e": []}


@pytest.mark.parametrize(
    "line",
    [
        'jsonpath "$.n" == 1',
        'jsonpath "$.n" == 1.0',
        'jsonpath "$.f" isFloat',
        'jsonpath "$.n" isInteger',
        'jsonpath "$.n" isNumber',
        'jsonpath "$.t" != 1',
        'jsonpath "$.t" isBoolean',
        'jsonpath "$.z" == null',
        'jsonpath "$.z" exists',
        'jsonpath "$.nope" not exists',
        'jsonpath "$.nope" not == 1',
        'jsonpath "$.s" startsWith "ab"',
        'jsonpath "$.s" endsWith "bc"',
        'jsonpath "$.s" contains "b"',
        'jsonpath "$.s" matches "^a.c$"',
        'jsonpath "$.s" > "abb"',
        'jsonpath "$.l" includes "x"',
        'jsonpath "$.l" not includes 2',
        'jsonpath "$.l" count == 2',
        'jsonpath "$.l[*]" count >= 2',
        'jsonpath "$.o" isCollection',
        'jsonpath "$.o" isEmpty',
        'jsonpath "$.e" isEmpty',
        'jsonpath "$.s" == "{{token}}"',
        'jsonpath "$.n" == {{one}}',
        'header "X-Dup" count == 2',
        'header "X-Dup" includes "b"',
        'header "x-single" == "yes"',
        "status == 200",
        'body contains "\\"s\\": \\"abc\\""',
    ],
)
def test_predicates_that_hold(line):
    response = json_response(200, PAYLOAD, ("X-Dup", "a"), ("X-Dup", "b"), ("X-Single", "yes"))
    run_one(line, response, {"token": "abc", "one": 1})


@pytest.mark.parametrize(
    ("line", "actual", "expected"),
    [
        ('jsonpath "$.t" == 1', "bool <true>", "int <1>"),
        ('jsonpath "$.n" > 1', "int <1>", "greater than int <1>"),
        ('jsonpath "$.nope" == 1', "none", "int <1>"),
        ('jsonpath "$.s" not contains "b"', "string <abc>", "not contains string <b>"),
        ('jsonpath "$.l" includes 3', "[int <1>, string <x>]", "includes int <3>"),
        ('header "X-Missing" exists', "none", "something"),
        ("status != 200", "int <200>", "not equal to int <200>"),
    ],
)
def test_failing_predicates_say_actual_and_expected(line, actual, expected):
    with pytest.raises(HurlFailure) as excinfo:
        run_one(line, json_response(200, PAYLOAD))
    message = str(excinfo.value)
    assert f"line 4: {line}" in message
    assert f"actual:   {actual}" in message
    assert f"expected: {expected}" in message


def test_type_mismatch_fails_even_when_negated():
    with pytest.raises(HurlFailure, match="type mismatch: 'contains' cannot apply to a integer"):
        run_one('jsonpath "$.n" not contains "1"', json_response(200, PAYLOAD))


def test_count_on_a_missing_value_fails():
    with pytest.raises(HurlFailure, match="filter 'count': the query found no value"):
        run_one('jsonpath "$.nope" count == 0', json_response(200, PAYLOAD))


def test_failure_report_names_file_entry_line_and_shows_the_response():
    hurl = parse(
        "GET {{base_url}}/one\nHTTP 200\n\n"
        "PATCH {{base_url}}/two\nHTTP 200\n[Asserts]\n"
        'jsonpath "$.has_credentials" == true\njsonpath "$.name" == "new"\n'
    )
    server = FakeServer(
        json_response(200, {}), json_response(200, {"has_credentials": False, "name": "new"})
    )
    with pytest.raises(HurlFailure) as excinfo:
        run_hurl(hurl, VARIABLES, send=server)
    message = str(excinfo.value)
    assert message.startswith(
        "snippet.hurl:4: entry 2 of 2 (PATCH http://api.test/two)\n"
        '  line 7: jsonpath "$.has_credentials" == true\n'
        "    actual:   bool <false>\n"
        "    expected: bool <true>\n"
    )
    assert "line 8" not in message  # the assert that holds is not reported
    assert '"has_credentials": false' in message  # the response body, to debug from


def test_status_and_implicit_header_failures():
    hurl = parse("GET {{base_url}}/x\nHTTP 201\n", known=None)
    with pytest.raises(HurlFailure, match="line 2: expected status 201, got 400"):
        run_hurl(hurl, VARIABLES, send=FakeServer(json_response(400, {"type": "x"})))

    hurl = parse("GET {{base_url}}/x\nHTTP/1.0 200\nContent-Type: text/html\n", known=None)
    with pytest.raises(HurlFailure) as excinfo:
        run_hurl(hurl, VARIABLES, send=FakeServer(json_response(200, {})))
    assert "expected version HTTP/1.0, got HTTP/1.1" in str(excinfo.value)
    assert "header Content-Type" in str(excinfo.value)


def test_capture_without_value_stops_the_file():
    hurl = parse(
        'GET {{base_url}}/x\nHTTP 200\n[Captures]\nid: jsonpath "$.id"\n\nGET {{base_url}}/y\n'
    )
    server = FakeServer(json_response(200, {}))
    with pytest.raises(HurlFailure, match=r"line 4: .*\n    the query found no value to capture"):
        run_hurl(hurl, VARIABLES, send=server)
    assert len(server.sent) == 1


# --- real HTTP (requests) against a small local server ---------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, *headers: tuple[str, str]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (("Content-Type", "application/json"), *headers):
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self._send(301, {}, ("Location", "/json"))
        else:
            self._send(
                200,
                {"items": [{"id": 1}, {"id": 2}], "name": "mojito"},
                ("X-Dup", "a"),
                ("X-Dup", "b"),
            )

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(201, {"received": json.loads(body), "type": self.headers["Content-Type"]})


@pytest.fixture
def stub_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


STUB_WALK = """\
GET {{base_url}}/json
HTTP/1.1 200
X-Dup: b
[Captures]
first: jsonpath "$.items[0].id"
[Asserts]
jsonpath "$.items[*].id" count == 2
header "X-Dup" count == 2

GET {{base_url}}/redirect
HTTP 301
Location: /json

POST {{base_url}}/echo
{"first": "{{first}}", "name": "n"}
HTTP 201
[Asserts]
jsonpath "$.received.first" == "1"
jsonpath "$.type" == "application/json"
"""


def test_requests_sender_keeps_repeated_headers_and_does_not_follow_redirects(stub_url):
    variables = run_hurl(parse(STUB_WALK), {**VARIABLES, "base_url": stub_url})
    assert variables["first"] == 1


def test_requests_sender_reports_connection_errors():
    sender = RequestsSender(timeout=2)
    try:
        with pytest.raises(HurlFailure, match="HTTP connection failed"):
            sender("GET", "http://127.0.0.1:9/unreachable", {}, None)
    finally:
        sender.close()


# --- the pytest plugin itself -----------------------------------------------------------------

PLUGIN_CONFTEST = """\
import pytest

from hurl.conftest import HurlItem, HurlTestFile, pytest_collect_file  # noqa: F401


@pytest.fixture
def hurl_variables():
    return {{"base_url": "{base_url}", "token": "t", "other_token": "o"}}
"""


def run_inner_pytest(pytester: pytest.Pytester, base_url: str, **files: str) -> Any:
    pytester.makeconftest(PLUGIN_CONFTEST.format(base_url=base_url))
    pytester.makefile(".hurl", **files)
    return pytester.runpytest("-p", "no:django", "-p", "no:cacheprovider")


def test_plugin_collects_one_item_per_file_and_runs_it(pytester, stub_url):
    result = run_inner_pytest(pytester, stub_url, walk=STUB_WALK)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["walk.hurl .*"])


def test_plugin_reports_a_failing_assert_readably(pytester, stub_url):
    broken = STUB_WALK.replace(
        'jsonpath "$.type" == "application/json"', 'jsonpath "$.type" == "text/plain"'
    )
    result = run_inner_pytest(pytester, stub_url, walk=broken)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "walk.hurl:14: entry 3 of 3 (POST http://127.0.0.1:*/echo)",
            '  line 19: jsonpath "$.type" == "text/plain"',
            "    actual:   string <application/json>",
            "    expected: string <text/plain>",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_plugin_turns_unsupported_syntax_into_a_collection_error(pytester, stub_url):
    result = run_inner_pytest(
        pytester, stub_url, bad='GET {{base_url}}/json\nHTTP 200\n[Asserts]\nxpath "//a" exists\n'
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting bad.hurl*",
            "unsupported or invalid Hurl syntax",
            "bad.hurl:4:1: query 'xpath' is not supported by this runner*",
        ]
    )


def test_plugin_rejects_variables_the_suite_does_not_provide(pytester, stub_url):
    result = run_inner_pytest(
        pytester, stub_url, vars="GET {{base_url}}/json\nAuthorization: Bearer {{api_key}}\n"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["vars.hurl:2: undefined variable 'api_key'*"])
