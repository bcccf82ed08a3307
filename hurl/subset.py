"""Parse and run the subset of the Hurl file format (https://hurl.dev) that our walk-throughs use.

The Hurl CLI is not installed where the test suite runs, so `hurl/conftest.py` runs `*.hurl` files
through this module instead. The files stay real Hurl: anything outside the subset below is a
`HurlSyntaxError` naming the file, line and column, never silently ignored or reinterpreted.
The subset itself is documented at the top of `hurl/conftest.py`.

Semantics follow Hurl's runner where it matters:
- entries run in order and stop at the first entry with a failure; captured values are typed
  (string, integer, float, boolean, null, list, object) and visible to later entries and to the
  asserts of their own entry (captures are evaluated before explicit asserts);
- redirects are not followed; cookies are kept for the whole file;
- a JSON request body is sent with `Content-Type: application/json` unless a header sets it;
- a query that finds nothing ("none") fails every predicate, and so passes every `not` predicate;
  a predicate applied to a value of the wrong type fails even when negated;
- JSONPath: a path made of names and indexes yields one value (or none); `[*]` / `.*` yield a
  list. Booleans are never numbers (`true == 1` is false), `1 == 1.0` is true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class HurlSyntaxError(Exception):
    """The file uses syntax outside the supported subset (or is not valid Hurl)."""

    def __init__(
        self, path: str, line: int, message: str, source: str | None = None, column: int = 0
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")
        text = f"{where}: {self.message}"
        if self.source is not None:
            text += f"\n    {self.line:>4} | {self.source}"
            if self.column:
                text += "\n         | " + " " * (self.column - 1) + "^"
        return text


class HurlFailure(AssertionError):
    """An entry of a Hurl file failed: an assert, a capture, or the HTTP exchange itself."""


# --------------------------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarRef:
    name: str


@dataclass(frozen=True)
class Template:
    """Text with `{{variable}}` placeholders."""

    parts: tuple[str | VarRef, ...]

    @property
    def names(self) -> list[str]:
        return [part.name for part in self.parts if isinstance(part, VarRef)]

    def render(self, variables: dict[str, Any]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, VarRef):
                out.append(render_value(part.name, lookup(variables, part.name)))
            else:
                out.append(part)
        return "".join(out)

    def source(self) -> str:
        return "".join(
            "{{" + part.name + "}}" if isinstance(part, VarRef) else part for part in self.parts
        )


@dataclass(frozen=True)
class Header:
    name: str
    value: Template
    line: int


@dataclass(frozen=True)
class Query:
    kind: str  # "jsonpath", "header", "status" or "body"
    arg: Template | None = None
    filters: tuple[str, ...] = ()  # only "count"


@dataclass(frozen=True)
class PredicateValue:
    kind: str  # "string", "number", "bool", "null", "var" or "regex"
    value: Any

    def source(self) -> str:
        if self.kind == "string":
            return json.dumps(self.value.source(), ensure_ascii=False)
        if self.kind == "var":
            return "{{" + self.value + "}}"
        if self.kind == "regex":
            return "/" + self.value + "/"
        if self.kind == "null":
            return "null"
        if self.kind == "bool":
            return "true" if self.value else "false"
        return repr(self.value)


@dataclass(frozen=True)
class Predicate:
    func: str
    negated: bool = False
    value: PredicateValue | None = None


@dataclass(frozen=True)
class Capture:
    name: str
    query: Query
    line: int
    text: str


@dataclass(frozen=True)
class Assert:
    query: Query
    predicate: Predicate
    line: int
    text: str


@dataclass
class Request:
    method: str
    url: Template
    line: int
    headers: list[Header] = field(default_factory=list)
    body: Any = None  # parsed JSON with Template objects in place of templated strings
    has_body: bool = False


@dataclass
class Response:
    line: int
    version: str | None = None  # None: any version ("HTTP")
    status: int | None = None  # None: any status ("*")
    headers: list[Header] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)
    asserts: list[Assert] = field(default_factory=list)


@dataclass
class Entry:
    index: int  # 1-based
    request: Request
    response: Response | None = None


@dataclass
class HurlFile:
    path: str
    entries: list[Entry]


# --------------------------------------------------------------------------------------------
# Vocabulary: what we support, and what Hurl has but we do not (for precise error messages)
# --------------------------------------------------------------------------------------------

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
RESPONSE_SECTIONS = {"Captures", "Asserts"}
HURL_REQUEST_SECTIONS = {
    "QueryStringParams", "Query", "FormParams", "Form", "MultipartFormData", "Multipart",
    "Cookies", "Options", "BasicAuth",
}  # fmt: skip
QUERIES = {"jsonpath", "header", "status", "body"}
HURL_QUERIES = {
    "url", "cookie", "bytes", "xpath", "regex", "variable", "duration", "sha256", "md5",
    "certificate", "ip", "redirects", "version", "rawbytes",
}  # fmt: skip
FILTERS = {"count"}
HURL_FILTERS = {
    "base64Decode", "base64Encode", "base64UrlSafeDecode", "base64UrlSafeEncode",
    "charsetDecode", "dateFormat", "daysAfterNow", "daysBeforeNow", "decode", "first", "format",
    "htmlEscape", "htmlUnescape", "jsonpath", "last", "location", "nth", "regex", "replace",
    "replaceRegex", "split", "toDate", "toFloat", "toHex", "toInt", "toString", "urlDecode",
    "urlEncode", "urlQueryParam", "utf8Decode", "utf8Encode", "xpath",
}  # fmt: skip
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")  # longest first
VALUE_PREDICATES = {"startsWith", "endsWith", "contains", "includes", "matches"}
UNARY_PREDICATES = {
    "exists", "isEmpty", "isString", "isInteger", "isFloat", "isBoolean", "isNumber",
    "isCollection",
}  # fmt: skip
HURL_PREDICATES = {
    "isDate", "isIsoDate", "isIpv4", "isIpv6", "isUuid", "isList", "isObject",
}  # fmt: skip
REMOVED_PREDICATES = {
    "equals": "==", "notEquals": "!=", "greaterThan": ">", "greaterThanOrEquals": ">=",
    "lessThan": "<", "lessThanOrEquals": "<=",
}  # fmt: skip

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_TEMPLATE_EXPR = re.compile(r"\{\{\s*(" + _NAME + r")\s*\}\}")
_REQUEST_LINE = re.compile(r"^\s*([A-Z]+)(\s+)(.*)$")
_RESPONSE_LINE = re.compile(r"^\s*(HTTP(?:/\S*)?)(\s+)(\S+)\s*(#.*)?$")
_SECTION_LINE = re.compile(r"^\s*\[([A-Za-z]+)\]\s*(#.*)?$")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:(.*)$")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


def parse_hurl(
    text: str, path: str = "<string>", known_variables: Iterable[str] | None = None
) -> HurlFile:
    """Parse `text`; with `known_variables`, also reject any `{{name}}` that is neither one of
    them nor captured by an earlier entry (or earlier in the same entry's [Captures])."""
    entries = _Parser(text, path).parse()
    hurl = HurlFile(path=path, entries=entries)
    if known_variables is not None:
        _check_variables(hurl, set(known_variables))
    return hurl


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = [line.rstrip("\r") for line in text.split("\n")]
        self.i = 0  # index of the next unread line

    # --- helpers ------------------------------------------------------------------------------

    def error(self, index: int, message: str, column: int = 0) -> HurlSyntaxError:
        source = self.lines[index] if 0 <= index < len(self.lines) else None
        return HurlSyntaxError(self.path, index + 1, message, source, column)

    def next_significant(self) -> int | None:
        """Skip blank and comment lines; the index of the next meaningful line, or None."""
        while self.i < len(self.lines):
            stripped = self.lines[self.i].strip()
            if stripped and not stripped.startswith("#"):
                return self.i
            self.i += 1
        return None

    def is_response_line(self, index: int) -> bool:
        return self.lines[index].lstrip().startswith(("HTTP ", "HTTP\t", "HTTP/"))

    def is_request_line(self, index: int) -> bool:
        return bool(_REQUEST_LINE.match(self.lines[index])) and not self.is_response_line(index)

    def error_at(self, index: int, column: int = 0) -> Callable[[str], HurlSyntaxError]:
        return lambda message: self.error(index, message, column)

    def template(self, index: int, text: str, column: int) -> Template:
        return parse_template(text, self.error_at(index, column))

    # --- file and entries ----------------------------------------------------------------------

    def parse(self) -> list[Entry]:
        entries: list[Entry] = []
        while (index := self.next_significant()) is not None:
            entries.append(self.entry(index, len(entries) + 1))
        if not entries:
            raise HurlSyntaxError(self.path, 1, "the file has no request")
        return entries

    def entry(self, index: int, number: int) -> Entry:
        request = self.request(index)
        response = None
        nxt = self.next_significant()
        if nxt is not None and self.is_response_line(nxt):
            response = self.response(nxt)
            nxt = self.next_significant()
        if nxt is not None and not self.is_request_line(nxt):
            raise self.unexpected(
                nxt, "a request line 'METHOD URL' (asserts go in an [Asserts] section)"
            )
        return Entry(index=number, request=request, response=response)

    def unexpected(self, index: int, expected: str) -> HurlSyntaxError:
        stripped = self.lines[index].lstrip()
        column = len(self.lines[index]) - len(stripped) + 1
        if stripped.startswith(("{", "[", "```", "`", "base64,", "hex,", "file,", "<")):
            section = _SECTION_LINE.match(self.lines[index])
            if section:
                return self.error(index, f"section [{section.group(1)}] is misplaced here", column)
            return self.error(index, "this body is misplaced or not supported here", column)
        return self.error(index, f"unexpected line: expected {expected}", column)

    # --- request -----------------------------------------------------------------------------

    def request(self, index: int) -> Request:
        line = self.lines[index]
        match = _REQUEST_LINE.match(line)
        if not match or _RESPONSE_LINE.match(line):
            raise self.unexpected(index, "a request line 'METHOD URL'")
        method = match.group(1)
        if method not in METHODS:
            raise self.error(
                index,
                f"HTTP method {method} is not supported (supported: {', '.join(sorted(METHODS))})",
                match.start(1) + 1,
            )
        rest = match.group(3)
        url_column = match.start(3) + 1
        # Up to a space or '#', but `{{ name }}` may hold spaces.
        url_text = re.match(r"(?:\{\{[^}]*\}\}|[^\s#{]|\{(?!\{))*", rest).group(0)  # type: ignore[union-attr]
        tail = rest[len(url_text) :]
        if not url_text:
            raise self.error(index, "missing URL after the method", url_column)
        if tail.strip() and not tail.lstrip().startswith("#"):
            raise self.error(index, "unexpected text after the URL", url_column + len(url_text) + 1)
        if tail.startswith("#"):
            raise self.error(
                index,
                "'#' right after the URL starts a comment in Hurl: put a space before it "
                "(URL fragments are not supported)",
                url_column + len(url_text),
            )
        url = self.template(index, url_text, url_column)
        if not url_text.startswith(("http://", "https://", "{{")):
            raise self.error(
                index, "the URL must be absolute (http://, https:// or {{base_url}})", url_column
            )
        self.i = index + 1
        request = Request(method=method, url=url, line=index + 1)
        request.headers = self.key_values()
        seen: set[str] = set()
        for header in request.headers:
            if header.name.lower() in seen:
                raise self.error(header.line - 1, f"repeated request header {header.name}")
            seen.add(header.name.lower())

        nxt = self.next_significant()
        if nxt is not None:
            section = _SECTION_LINE.match(self.lines[nxt])
            if section:
                name = section.group(1)
                column = section.start(1)
                if name in RESPONSE_SECTIONS:
                    raise self.error(
                        nxt, f"[{name}] must follow a response line 'HTTP <status>'", column
                    )
                if name in HURL_REQUEST_SECTIONS:
                    raise self.error(
                        nxt, f"request section [{name}] is not supported by this runner", column
                    )
                raise self.error(nxt, f"unknown section [{name}]", column)
            stripped = self.lines[nxt].lstrip()
            if stripped.startswith(("{", "[")):
                request.body = self.json_body(nxt)
                request.has_body = True
            elif not self.is_response_line(nxt) and not self.is_request_line(nxt):
                column = len(self.lines[nxt]) - len(stripped) + 1
                if stripped.startswith(("```", "`")):
                    raise self.error(
                        nxt,
                        "multiline/oneline string bodies are not supported "
                        "(only JSON object or array bodies)",
                        column,
                    )
                if stripped.startswith(("base64,", "hex,", "file,", "<")):
                    raise self.error(nxt, "only JSON object or array bodies are supported", column)
                raise self.unexpected(nxt, "a header, a JSON body or 'HTTP <status>'")
        return request

    def key_values(self) -> list[Header]:
        headers: list[Header] = []
        while (index := self.next_significant()) is not None:
            line = self.lines[index]
            match = _KEY_VALUE.match(line)
            if not match or self.is_request_line(index) or self.is_response_line(index):
                break
            raw_value = match.group(2)
            value_column = match.start(2) + 1
            value = _strip_comment(raw_value, self.error_at(index, value_column))
            stripped = value.strip()
            column = value_column + (len(value) - len(value.lstrip()))
            headers.append(
                Header(
                    name=match.group(1),
                    value=self.template(index, stripped, column),
                    line=index + 1,
                )
            )
            self.i = index + 1
        return headers

    def json_body(self, index: int) -> Any:
        start_col = len(self.lines[index]) - len(self.lines[index].lstrip())
        depth = 0
        in_string = escaped = False
        end: tuple[int, int] | None = None
        row = index
        while row < len(self.lines) and end is None:
            line = self.lines[row]
            for col in range(start_col if row == index else 0, len(line)):
                char = line[col]
                if in_string:
                    if escaped:
                        escaped = False
                    elif char == "\\":
                        escaped = True
                    elif char == '"':
                        in_string = False
                elif char == '"':
                    in_string = True
                elif line.startswith("{{", col):
                    raise self.error(
                        row,
                        'templates are only supported inside JSON strings ("{{name}}")',
                        col + 1,
                    )
                elif char in "{[":
                    depth += 1
                elif char in "}]":
                    depth -= 1
                    if depth == 0:
                        end = (row, col)
                        break
            row += 1
        if end is None:
            raise self.error(index, "unterminated JSON body", start_col + 1)
        end_row, end_col = end
        tail = self.lines[end_row][end_col + 1 :]
        if tail.strip() and not tail.strip().startswith("#"):
            raise self.error(end_row, "unexpected text after the JSON body", end_col + 2)
        chunk = [self.lines[r] for r in range(index, end_row + 1)]
        chunk[-1] = chunk[-1][: end_col + 1]
        chunk[0] = " " * start_col + chunk[0][start_col:]
        try:
            body = json.loads("\n".join(chunk))
        except json.JSONDecodeError as exc:
            raise self.error(
                index + exc.lineno - 1, f"invalid JSON body: {exc.msg}", exc.colno
            ) from None
        self.i = end_row + 1
        return _templatize(body, lambda msg: self.error(index, msg))

    # --- response ----------------------------------------------------------------------------

    def response(self, index: int) -> Response:
        line = self.lines[index]
        match = _RESPONSE_LINE.match(line)
        if not match:
            raise self.error(index, "malformed response line: expected 'HTTP <status>'")
        version_text, status_text = match.group(1), match.group(3)
        response = Response(line=index + 1)
        if version_text == "HTTP/*":
            raise self.error(
                index, "'HTTP/*' is pre-Hurl-4 syntax: write 'HTTP <status>'", match.start(1) + 1
            )
        if version_text in ("HTTP/1.0", "HTTP/1.1"):
            response.version = version_text
        elif version_text != "HTTP":
            raise self.error(
                index,
                f"version {version_text} is not supported (HTTP, HTTP/1.0 or HTTP/1.1)",
                match.start(1) + 1,
            )
        if status_text != "*":
            if not re.fullmatch(r"[1-5]\d\d", status_text):
                raise self.error(index, f"invalid status {status_text!r}", match.start(3) + 1)
            response.status = int(status_text)
        self.i = index + 1
        response.headers = self.key_values()
        seen: set[str] = set()
        while (nxt := self.next_significant()) is not None:
            section = _SECTION_LINE.match(self.lines[nxt])
            if not section:
                break
            name = section.group(1)
            column = section.start(1)
            if name not in RESPONSE_SECTIONS:
                if name in HURL_REQUEST_SECTIONS:
                    raise self.error(
                        nxt,
                        f"[{name}] is a request section: it goes before the "
                        "response line (and is not supported here)",
                        column,
                    )
                raise self.error(nxt, f"unknown section [{name}]", column)
            if name in seen:
                raise self.error(nxt, f"duplicate section [{name}]", column)
            seen.add(name)
            self.i = nxt + 1
            while (row := self.next_significant()) is not None:
                if _SECTION_LINE.match(self.lines[row]) or self.is_request_line(row):
                    break
                stripped = self.lines[row].lstrip()
                if stripped.startswith(("{", "[", "```", "`", "base64,", "hex,", "file,", "<")):
                    raise self.error(
                        row,
                        "response body asserts are not supported; use "
                        "[Asserts] with jsonpath/body queries",
                        len(self.lines[row]) - len(stripped) + 1,
                    )
                if name == "Captures":
                    response.captures.append(self.capture(row))
                else:
                    response.asserts.append(self.assertion(row))
                self.i = row + 1
        nxt = self.next_significant()
        if nxt is not None and not self.is_request_line(nxt):
            stripped = self.lines[nxt].lstrip()
            if stripped.startswith(("{", "[", "```", "`", "base64,", "hex,", "file,", "<")):
                raise self.error(
                    nxt,
                    "response body asserts are not supported; use [Asserts] "
                    "with jsonpath/body queries",
                    len(self.lines[nxt]) - len(stripped) + 1,
                )
        return response

    def capture(self, index: int) -> Capture:
        line = self.lines[index]
        match = _KEY_VALUE.match(line)
        if not match:
            raise self.error(index, "expected a capture 'name: query'")
        cursor = _Cursor(self, index, match.start(2))
        cursor.skip_spaces()
        query = cursor.query()
        if not cursor.at_end():
            word = cursor.peek_word()
            if word == "redact":
                raise cursor.error("capture option 'redact' is not supported")
            raise cursor.error("unexpected text after the capture query")
        return Capture(name=match.group(1), query=query, line=index + 1, text=line.strip())

    def assertion(self, index: int) -> Assert:
        cursor = _Cursor(self, index, 0)
        cursor.skip_spaces()
        query = cursor.query()
        if not cursor.require_spaces():
            raise cursor.error("expected a predicate after the query")
        predicate = cursor.predicate()
        if not cursor.at_end():
            raise cursor.error("unexpected text after the predicate")
        return Assert(
            query=query, predicate=predicate, line=index + 1, text=self.lines[index].strip()
        )


class _Cursor:
    """Reads one line of a [Captures] or [Asserts] section."""

    def __init__(self, parser: _Parser, index: int, pos: int) -> None:
        self.parser = parser
        self.index = index
        self.text = parser.lines[index]
        self.pos = pos

    def error(self, message: str, pos: int | None = None) -> HurlSyntaxError:
        return self.parser.error(self.index, message, (self.pos if pos is None else pos) + 1)

    def skip_spaces(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1
        return self.pos > start

    def require_spaces(self) -> bool:
        return self.skip_spaces() and self.pos < len(self.text)

    def at_end(self) -> bool:
        self.skip_spaces()
        return self.pos >= len(self.text) or self.text[self.pos] == "#"

    def peek_word(self) -> str | None:
        match = _WORD.match(self.text, self.pos)
        return match.group(0) if match else None

    def word(self) -> str | None:
        match = _WORD.match(self.text, self.pos)
        if not match:
            return None
        self.pos = match.end()
        return match.group(0)

    def quoted(self, what: str) -> Template:
        if self.pos >= len(self.text) or self.text[self.pos] != '"':
            raise self.error(f'expected a quoted string ("...") for {what}')
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated quoted string", start)
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                break
            if char == "\\":
                out.append(self.escape())
                continue
            out.append(char)
            self.pos += 1
        return parse_template("".join(out), lambda msg: self.error(msg, start))

    def escape(self) -> str:
        simple = {'"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
        nxt = self.text[self.pos + 1 : self.pos + 2]
        if nxt in simple and nxt:
            self.pos += 2
            return simple[nxt]
        match = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}").match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return chr(int(match.group(1), 16))
        raise self.error(f"unsupported escape sequence \\{nxt}")

    def regex_literal(self) -> str:
        start = self.pos
        self.pos += 1  # opening slash
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated regex literal", start)
            char = self.text[self.pos]
            if char == "/":
                self.pos += 1
                break
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] == "/":
                out.append("/")
                self.pos += 2
                continue
            if char == "\\":
                out.append(self.text[self.pos : self.pos + 2])
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        pattern = "".join(out)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self.error(f"invalid regex: {exc}", start) from None
        return pattern

    # --- query -------------------------------------------------------------------------------

    def query(self) -> Query:
        start = self.pos
        word = self.word()
        if word is None:
            raise self.error("expected a query (jsonpath, header, status or body)")
        if word in HURL_QUERIES:
            raise self.error(
                f"query '{word}' is not supported by this runner "
                "(supported: jsonpath, header, status, body)",
                start,
            )
        if word not in QUERIES:
            raise self.error(f"unknown query '{word}'", start)
        arg = None
        if word in ("jsonpath", "header"):
            if not self.require_spaces():
                raise self.error(f"'{word}' needs a quoted argument")
            arg_pos = self.pos
            arg = self.quoted(f"the {word} query")
            if word == "jsonpath" and not arg.names:
                try:
                    compile_jsonpath(arg.source())
                except ValueError as exc:
                    raise self.error(str(exc), arg_pos) from None
        filters: list[str] = []
        while True:
            save = self.pos
            if not self.skip_spaces():
                break
            name = self.peek_word()
            if name in FILTERS:
                self.word()
                filters.append(name)  # type: ignore[arg-type]
                continue
            if name in HURL_FILTERS:
                raise self.error(
                    f"filter '{name}' is not supported by this runner (supported: count)"
                )
            self.pos = save
            break
        return Query(kind=word, arg=arg, filters=tuple(filters))

    # --- predicate ---------------------------------------------------------------------------

    def predicate(self) -> Predicate:
        negated = False
        if self.peek_word() == "not":
            save = self.pos
            self.word()
            if self.require_spaces():
                negated = True
            else:
                self.pos = save
        start = self.pos
        func = next((op for op in OPERATORS if self.text.startswith(op, self.pos)), None)
        if func is not None:
            self.pos += len(func)
            self.skip_spaces()
        else:
            func = self.word()
            if func is None:
                raise self.error("expected a predicate (==, !=, >, contains, exists, ...)")
            if func in REMOVED_PREDICATES:
                raise self.error(
                    f"predicate '{func}' was removed from Hurl: use '{REMOVED_PREDICATES[func]}'",
                    start,
                )
            if func in HURL_PREDICATES:
                raise self.error(f"predicate '{func}' is not supported by this runner", start)
            if func in UNARY_PREDICATES:
                return Predicate(func=func, negated=negated)
            if func not in VALUE_PREDICATES:
                raise self.error(f"unknown predicate '{func}'", start)
            if not self.require_spaces():
                raise self.error(f"'{func}' needs a value")
        value_pos = self.pos
        value = self.predicate_value()
        allowed = {
            "==": {"string", "number", "bool", "null", "var"},
            "!=": {"string", "number", "bool", "null", "var"},
            "includes": {"string", "number", "bool", "null", "var"},
            "matches": {"string", "regex"},
        }.get(func, {"number", "string", "var"} if func in OPERATORS else {"string"})
        if value.kind not in allowed:
            raise self.error(f"'{func}' does not take a {value.kind} value", value_pos)
        return Predicate(func=func, negated=negated, value=value)

    def predicate_value(self) -> PredicateValue:
        rest = self.text[self.pos :]
        if rest.startswith('"'):
            return PredicateValue("string", self.quoted("the predicate value"))
        if rest.startswith("/"):
            return PredicateValue("regex", self.regex_literal())
        if rest.startswith("{{"):
            match = _TEMPLATE_EXPR.match(self.text, self.pos)
            if not match:
                raise self.error("unsupported expression: only {{variable}}")
            self.pos = match.end()
            return PredicateValue("var", match.group(1))
        for literal, kind, value in (
            ("true", "bool", True),
            ("false", "bool", False),
            ("null", "null", None),
        ):
            if re.match(literal + r"(?![A-Za-z0-9_])", rest):
                self.pos += len(literal)
                return PredicateValue(kind, value)
        match = _NUMBER.match(self.text, self.pos)
        if match and (match.end() == len(self.text) or self.text[match.end()] in " \t#"):
            self.pos = match.end()
            number = match.group(0)
            is_float = any(c in number for c in ".eE")
            return PredicateValue("number", float(number) if is_float else int(number))
        if rest.startswith(("```", "`", "hex,", "base64,", "file,")):
            raise self.error(
                "only string, number, boolean, null, regex and {{variable}} "
                "predicate values are supported"
            )
        raise self.error("expected a predicate value")


def _strip_comment(value: str, error: Callable[[str], HurlSyntaxError]) -> str:
    """A header value up to its comment, with Hurl's `\\#` and `\\\\` escapes decoded."""
    out: list[str] = []
    pos = 0
    while pos < len(value):
        char = value[pos]
        if char == "#":
            break
        if char == "\\":
            nxt = value[pos + 1 : pos + 2]
            if nxt in ("#", "\\"):
                out.append(nxt)
                pos += 2
                continue
            raise error(f"unsupported escape sequence \\{nxt} in a header value")
        out.append(char)
        pos += 1
    return "".join(out)


def parse_template(text: str, error: Callable[[str], HurlSyntaxError]) -> Template:
    parts: list[str | VarRef] = []
    pos = 0
    while True:
        found = text.find("{{", pos)
        if found < 0:
            if text[pos:]:
                parts.append(text[pos:])
            break
        match = _TEMPLATE_EXPR.match(text, found)
        if not match:
            raise error(f"unsupported template {text[found : found + 30]!r}: only {{{{variable}}}}")
        if found > pos:
            parts.append(text[pos:found])
        parts.append(VarRef(match.group(1)))
        pos = match.end()
    return Template(tuple(parts))


def _templatize(value: Any, error: Callable[[str], HurlSyntaxError]) -> Any:
    """JSON with every string holding `{{...}}` replaced by a Template (keys included)."""
    if isinstance(value, str):
        return parse_template(value, error) if "{{" in value else value
    if isinstance(value, list):
        return [_templatize(item, error) for item in value]
    if isinstance(value, dict):
        return {_templatize(k, error): _templatize(v, error) for k, v in value.items()}
    return value


def _json_names(value: Any) -> Iterable[str]:
    if isinstance(value, Template):
        yield from value.names
    elif isinstance(value, list):
        for item in value:
            yield from _json_names(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_names(key)
            yield from _json_names(item)


def _check_variables(hurl: HurlFile, known: set[str]) -> None:
    available = set(known)

    def check(names: Iterable[str], line: int, what: str) -> None:
        for name in names:
            if name not in available:
                raise HurlSyntaxError(
                    hurl.path,
                    line,
                    f"undefined variable '{name}' in {what} (known here: "
                    f"{', '.join(sorted(available))}; Hurl functions such as newUuid are "
                    "not supported)",
                )

    for entry in hurl.entries:
        request = entry.request
        check(request.url.names, request.line, "the URL")
        for header in request.headers:
            check(header.value.names, header.line, f"header {header.name}")
        check(_json_names(request.body), request.line, "the JSON body")
        response = entry.response
        if response is None:
            continue
        for header in response.headers:
            check(header.value.names, header.line, f"header {header.name}")
        for capture in response.captures:
            check(capture.query.arg.names if capture.query.arg else [], capture.line, "a query")
            available.add(capture.name)
        for assertion in response.asserts:
            names = list(assertion.query.arg.names) if assertion.query.arg else []
            value = assertion.predicate.value
            if value is not None and value.kind == "string":
                names += value.value.names
            if value is not None and value.kind == "var":
                names.append(value.value)
            check(names, assertion.line, "an assert")


# --------------------------------------------------------------------------------------------
# JSONPath (the subset: $, .name, ['name'], ["name"], [index], [*], .*)
# --------------------------------------------------------------------------------------------

_NO_VALUE = type("NoValue", (), {"__repr__": lambda self: "none"})()


def compile_jsonpath(expr: str) -> tuple[tuple[str, Any], ...]:
    """Selectors of a JSONPath in the supported subset; ValueError names what is unsupported."""
    if not expr.startswith("$"):
        raise ValueError(f"JSONPath {expr!r} must start with '$'")
    selectors: list[tuple[str, Any]] = []
    pos = 1
    bracket = re.compile(r"\[\s*(?:'([^'\\]*)'|\"([^\"\\]*)\"|(\d+)|(\*))\s*\]")
    dotted = re.compile(r"\.(?:(\*)|([A-Za-z0-9_\-]+))")
    while pos < len(expr):
        if expr.startswith("..", pos):
            raise ValueError(f"JSONPath {expr!r}: recursive descent '..' is not supported")
        match = dotted.match(expr, pos)
        if match:
            selectors.append(("wildcard", None) if match.group(1) else ("name", match.group(2)))
            pos = match.end()
            continue
        match = bracket.match(expr, pos)
        if match:
            name_single, name_double, index, star = match.groups()
            if star:
                selectors.append(("wildcard", None))
            elif index is not None:
                selectors.append(("index", int(index)))
            else:
                selectors.append(("name", name_single if name_single is not None else name_double))
            pos = match.end()
            continue
        raise ValueError(
            f"JSONPath {expr!r}: unsupported syntax at {expr[pos:]!r} (supported: $, .name, "
            "['name'], [index], [*], .*; no filters, slices, unions or negative indexes)"
        )
    return tuple(selectors)


def _select(selector: tuple[str, Any], value: Any) -> tuple[bool, Any] | None:
    kind, arg = selector
    if kind == "name":
        if isinstance(value, dict) and arg in value:
            return True, value[arg]
        return None
    if kind == "index":
        if isinstance(value, list) and arg < len(value):
            return True, value[arg]
        return None
    if isinstance(value, list):
        return False, list(value)
    if isinstance(value, dict):
        return False, list(value.values())
    return False, []


def eval_jsonpath(selectors: tuple[tuple[str, Any], ...], document: Any) -> Any:
    """One value, a list (once a wildcard is involved), or `_NO_VALUE`."""
    single, current = True, document
    for selector in selectors:
        if single:
            result = _select(selector, current)
            if result is None:
                return _NO_VALUE
            single, current = result
        else:
            collected: list[Any] = []
            for item in current:
                result = _select(selector, item)
                if result is None:
                    return _NO_VALUE
                item_single, item_value = result
                if item_single:
                    collected.append(item_value)
                else:
                    collected.extend(item_value)
            current = collected
    return current


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def lookup(variables: dict[str, Any], name: str) -> Any:
    if name not in variables:
        raise HurlFailure(f"undefined variable '{name}'")
    return variables[name]


def render_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float | str):
        return str(value)
    raise HurlFailure(f"variable '{name}' holds a {type_name(value)}, which cannot be rendered")


def type_name(value: Any) -> str:
    if value is _NO_VALUE:
        return "none"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def display(value: Any) -> str:
    """Hurl-like rendering of a value in failure messages."""
    if value is _NO_VALUE:
        return "none"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"bool <{'true' if value else 'false'}>"
    if isinstance(value, int):
        return f"int <{value}>"
    if isinstance(value, float):
        return f"float <{value}>"
    if isinstance(value, str):
        shown = value if len(value) <= 300 else value[:300] + f"... ({len(value)} chars)"
        return f"string <{shown}>"
    if isinstance(value, list):
        items = ", ".join(display(item) for item in value[:20])
        return f"[{items}{', ...' if len(value) > 20 else ''}]"
    if isinstance(value, dict):
        return f"object {json.dumps(value)[:300]}"
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def values_equal(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if _is_number(actual) and _is_number(expected):
        return actual == expected
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            values_equal(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return False


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    version: str  # "HTTP/1.0" or "HTTP/1.1"
    headers: list[tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        content_type = ",".join(self.header_values("Content-Type"))
        match = re.search(r"charset=([\w-]+)", content_type)
        try:
            return self.body.decode(match.group(1) if match else "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


Sender = Callable[[str, str, dict[str, str], bytes | None], HttpResponse]


class RequestsSender:
    """Send with one `requests` session per file: cookies kept, redirects not followed.

    `close()` drops the kept-alive connections, so a Django test server thread serving them
    finishes and closes its database connection."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "hurl-subset (pytest)"

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpResponse:
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise HurlFailure(f"HTTP connection failed: {exc}") from None
        raw_version = getattr(response.raw, "version", 11)
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(raw_version, f"HTTP/{raw_version}")
        raw_headers = getattr(response.raw, "headers", None)
        items = list(raw_headers.items()) if raw_headers is not None else []
        return HttpResponse(response.status_code, version, items, response.content)

    def close(self) -> None:
        self.session.close()


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------


def run_hurl(
    hurl: HurlFile, variables: dict[str, Any], send: Sender | None = None
) -> dict[str, Any]:
    """Run every entry in order; raise HurlFailure at the first failing entry.

    Returns the variables at the end (the given ones plus every capture)."""
    own_sender = RequestsSender() if send is None else None
    variables = dict(variables)
    try:
        for entry in hurl.entries:
            _run_entry(hurl, entry, variables, own_sender or send)  # type: ignore[arg-type]
    finally:
        if own_sender is not None:
            own_sender.close()
    return variables


def _entry_title(hurl: HurlFile, entry: Entry, url: str | None = None) -> str:
    target = url if url is not None else entry.request.url.source()
    return (
        f"{hurl.path}:{entry.request.line}: entry {entry.index} of {len(hurl.entries)} "
        f"({entry.request.method} {target})"
    )


def _excerpt(response: HttpResponse, limit: int = 2000) -> str:
    text = response.text
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} chars)"
    return f"  response: {response.version} {response.status}\n  body: {text or '<empty>'}"


def _run_entry(hurl: HurlFile, entry: Entry, variables: dict[str, Any], send: Sender) -> None:
    request = entry.request
    try:
        url = request.url.render(variables)
        headers = {header.name: header.value.render(variables) for header in request.headers}
        body = None
        if request.has_body:
            body = json.dumps(_render_json(request.body, variables)).encode()
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "application/json"
    except HurlFailure as exc:
        raise HurlFailure(f"{_entry_title(hurl, entry)}\n  {exc}") from None
    title = _entry_title(hurl, entry, url)
    try:
        response = send(request.method, url, headers, body)
    except HurlFailure as exc:
        raise HurlFailure(f"{title}\n  {exc}") from None

    expected = entry.response
    if expected is None:
        return
    if expected.status is not None and response.status != expected.status:
        raise HurlFailure(
            f"{title}\n  line {expected.line}: expected status {expected.status}, "
            f"got {response.status}\n{_excerpt(response)}"
        )
    problems: list[str] = []
    if expected.version is not None and response.version != expected.version:
        problems.append(
            f"line {expected.line}: expected version {expected.version}, got {response.version}"
        )
    for header in expected.headers:
        try:
            want = header.value.render(variables)
        except HurlFailure as exc:
            problems.append(f"line {header.line}: {exc}")
            continue
        got = response.header_values(header.name)
        if want not in got:
            problems.append(
                f"line {header.line}: header {header.name}\n"
                f"    actual:   {', '.join(repr(v) for v in got) or 'none'}\n"
                f"    expected: {want!r}"
            )
    if problems:
        raise HurlFailure(_report(title, problems, response))

    for capture in expected.captures:
        try:
            value = eval_query(capture.query, response, variables)
        except HurlFailure as exc:
            raise HurlFailure(
                _report(title, [f"line {capture.line}: {capture.text}\n    {exc}"], response)
            ) from None
        if value is _NO_VALUE:
            raise HurlFailure(
                _report(
                    title,
                    [
                        f"line {capture.line}: {capture.text}\n    the query found no "
                        "value to capture"
                    ],
                    response,
                )
            )
        variables[capture.name] = value

    for assertion in expected.asserts:
        try:
            message = check_assert(assertion, response, variables)
        except HurlFailure as exc:
            message = str(exc)
        if message is not None:
            problems.append(f"line {assertion.line}: {assertion.text}\n    {message}")
    if problems:
        raise HurlFailure(_report(title, problems, response))


def _report(title: str, problems: list[str], response: HttpResponse) -> str:
    return "\n".join([title, *(f"  {problem}" for problem in problems), _excerpt(response)])


def _render_json(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Template):
        return value.render(variables)
    if isinstance(value, list):
        return [_render_json(item, variables) for item in value]
    if isinstance(value, dict):
        return {_render_json(k, variables): _render_json(v, variables) for k, v in value.items()}
    return value


def eval_query(query: Query, response: HttpResponse, variables: dict[str, Any]) -> Any:
    value: Any
    if query.kind == "status":
        value = response.status
    elif query.kind == "body":
        value = response.text
    elif query.kind == "header":
        assert query.arg is not None
        found = response.header_values(query.arg.render(variables))
        value = _NO_VALUE if not found else found[0] if len(found) == 1 else found
    else:  # jsonpath
        assert query.arg is not None
        expr = query.arg.render(variables)
        try:
            selectors = compile_jsonpath(expr)
        except ValueError as exc:
            raise HurlFailure(str(exc)) from None
        try:
            document = json.loads(response.text)
        except json.JSONDecodeError:
            raise HurlFailure("jsonpath query on a response body that is not JSON") from None
        value = eval_jsonpath(selectors, document)
    for name in query.filters:  # only "count"
        if value is _NO_VALUE:
            raise HurlFailure(f"filter '{name}': the query found no value")
        if not isinstance(value, list):
            raise HurlFailure(f"filter '{name}' expects a list, got {display(value)}")
        value = len(value)
    return value


def _expected_value(value: PredicateValue, variables: dict[str, Any]) -> Any:
    if value.kind == "string":
        return value.value.render(variables)
    if value.kind == "var":
        return lookup(variables, value.value)
    return value.value


def check_assert(
    assertion: Assert, response: HttpResponse, variables: dict[str, Any]
) -> str | None:
    """None when the assert holds, else a readable 'actual / expected' message."""
    actual = eval_query(assertion.query, response, variables)
    return eval_predicate(assertion.predicate, actual, variables)


def eval_predicate(predicate: Predicate, actual: Any, variables: dict[str, Any]) -> str | None:
    expected = None
    if predicate.value is not None:
        expected = _expected_value(predicate.value, variables)
    func = predicate.func
    described = {
        "==": lambda: display(expected),
        "!=": lambda: f"not equal to {display(expected)}",
        ">": lambda: f"greater than {display(expected)}",
        ">=": lambda: f"greater than or equal to {display(expected)}",
        "<": lambda: f"less than {display(expected)}",
        "<=": lambda: f"less than or equal to {display(expected)}",
        "startsWith": lambda: f"starts with {display(expected)}",
        "endsWith": lambda: f"ends with {display(expected)}",
        "contains": lambda: f"contains {display(expected)}",
        "includes": lambda: f"includes {display(expected)}",
        "matches": lambda: f"matches regex <{expected}>",
        "exists": lambda: "something",
        "isEmpty": lambda: "an empty collection or string",
        "isString": lambda: "a string",
        "isInteger": lambda: "an integer",
        "isFloat": lambda: "a float",
        "isBoolean": lambda: "a boolean",
        "isNumber": lambda: "a number",
        "isCollection": lambda: "a collection",
    }[func]()
    expected_text = ("not " if predicate.negated else "") + described

    if actual is _NO_VALUE:
        success, mismatch = False, False
    else:
        success, mismatch = _apply(func, actual, expected)
    if mismatch:
        return (
            f"actual:   {display(actual)}\n    expected: {expected_text}\n"
            f"    (type mismatch: '{func}' cannot apply to a {type_name(actual)})"
        )
    if success == predicate.negated:
        return f"actual:   {display(actual)}\n    expected: {expected_text}"
    return None


def _apply(func: str, actual: Any, expected: Any) -> tuple[bool, bool]:
    """(success, type_mismatch) of `actual <func> expected`."""
    if func == "==":
        return values_equal(actual, expected), False
    if func == "!=":
        return not values_equal(actual, expected), False
    if func in (">", ">=", "<", "<="):
        comparable = (_is_number(actual) and _is_number(expected)) or (
            isinstance(actual, str) and isinstance(expected, str)
        )
        if not comparable:
            return False, True
        result = {
            ">": actual > expected,
            ">=": actual >= expected,
            "<": actual < expected,
            "<=": actual <= expected,
        }[func]
        return result, False
    if func in ("startsWith", "endsWith", "contains"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False, True
        method = {"startsWith": actual.startswith, "endsWith": actual.endswith}.get(func)
        return (method(expected) if method else expected in actual), False
    if func == "includes":
        if not isinstance(actual, list):
            return False, True
        return any(values_equal(item, expected) for item in actual), False
    if func == "matches":
        if not isinstance(actual, str):
            return False, True
        try:
            return re.search(expected, actual) is not None, False
        except re.error as exc:
            raise HurlFailure(f"invalid regex {expected!r}: {exc}") from None
    if func == "exists":
        return True, False
    if func == "isEmpty":
        if not isinstance(actual, list | dict | str):
            return False, True
        return len(actual) == 0, False
    checks = {
        "isString": lambda v: isinstance(v, str),
        "isInteger": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "isFloat": lambda v: isinstance(v, float),
        "isBoolean": lambda v: isinstance(v, bool),
        "isNumber": _is_number,
        "isCollection": lambda v: isinstance(v, list | dict),
    }
    return checks[func](actual), False
