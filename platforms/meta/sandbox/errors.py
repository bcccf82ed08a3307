"""Meta's error shape and the errors the sandbox answers with.

Shape (Graph API "Handling Errors",
https://developers.facebook.com/docs/graph-api/guides/error-handling):

    {"error": {"message", "type", "code", "error_subcode", "is_transient",
               "error_user_title", "error_user_msg", "fbtrace_id"}}

Every factory below says where its code, subcode and wording come from. Where Meta documents
only the code (not the exact text), the wording is the sandbox's own and the README lists it
under "not confirmed".
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterable
from typing import Any

_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"

# Graph's standard rate-limit explanation, quoted by every Marketing API reference page's error
# table, e.g. https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group
ADS_MANAGEMENT_THROTTLE_MESSAGE = (
    "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. "
    "For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management."
)


def new_trace_id() -> str:
    """An opaque id in the style of Meta's fbtrace_id (it only has to be unique)."""
    return "A" + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))


class GraphError(Exception):
    """A Graph API error: raised anywhere in request handling, rendered in Meta's shape."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        http_status: int = 400,
        is_transient: bool = False,
        user_title: str | None = None,
        user_msg: str | None = None,
        error_data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.error_type = error_type
        self.subcode = subcode
        self.http_status = http_status
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        self.error_data = error_data
        self.headers = dict(headers or {})

    def body(self, trace_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        if self.error_data is not None:
            error["error_data"] = self.error_data
        error["fbtrace_id"] = trace_id or new_trace_id()
        return {"error": error}


# --- Authentication ---------------------------------------------------------------------------


def token_missing() -> GraphError:
    # Code 104 with this text is what Graph answers a call without access_token (seen in many
    # clients' recorded responses; code 104 is listed in every Marketing API reference error table).
    return GraphError(
        "An access token is required to request this resource.", code=104, http_status=400
    )


def token_invalid() -> GraphError:
    # Code 190 "Invalid OAuth 2.0 Access Token" (reference error tables; error-handling guide:
    # "OAuthException ... access token has expired, been revoked, or is otherwise invalid").
    return GraphError(
        "Invalid OAuth access token - Cannot parse access token",
        code=190,
        http_status=400,
        headers={
            "WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth '
            'access token - Cannot parse access token"'
        },
    )


def token_expired(expired_at: str, now: str) -> GraphError:
    # Code 190, subcode 463 "The session has expired" (error-handling guide, subcode table).
    message = (
        f"Error validating access token: Session has expired on {expired_at}. "
        f"The current time is {now}."
    )
    return GraphError(
        message,
        code=190,
        subcode=463,
        http_status=400,
        user_title="Session expired",
        user_msg="Your session has expired. Please log in again.",
        headers={"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{message}"'},
    )


def appsecret_proof_missing() -> GraphError:
    # Graph API "Securing requests" (https://developers.facebook.com/docs/graph-api/security):
    # with "Require App Secret" on, calls without appsecret_proof are refused with code 100.
    return GraphError(
        "API calls from the server require an appsecret_proof argument",
        code=100,
        error_type="GraphMethodException",
    )


def appsecret_proof_invalid() -> GraphError:
    # Same page: appsecret_proof = hex HMAC-SHA256 of the access token keyed by the app secret;
    # a proof that does not match is refused with code 100.
    return GraphError(
        "Invalid appsecret_proof provided in the API argument",
        code=100,
        error_type="GraphMethodException",
    )


# --- Objects and paths ------------------------------------------------------------------------


def unsupported_request(method: str, object_id: str) -> GraphError:
    # Code 100, subcode 33: the answer for an id that does not exist *or* that the token may not
    # see (Graph does not tell the two apart).
    verb = method.lower()
    return GraphError(
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read the "
        "Graph API documentation at https://developers.facebook.com/docs/graph-api",
        code=100,
        subcode=33,
        error_type="GraphMethodException",
    )


def unknown_path(components: str) -> GraphError:
    # Code 2500 "Error parsing graph query" (reference error tables).
    return GraphError(f"Unknown path components: {components}", code=2500)


def nonexisting_field(field: str, node_type: str) -> GraphError:
    return GraphError(
        f"(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})", code=100
    )


def deprecated_version(version: str) -> GraphError:
    # Code 2635 "You are calling a deprecated version of the Ads API. Please update to the latest
    # version." (reference error tables).
    return GraphError(
        f"(#2635) You are calling a deprecated version of the Ads API ({version}). "
        "Please update to the latest version.",
        code=2635,
    )


# --- Parameters -------------------------------------------------------------------------------


def required_param(name: str) -> GraphError:
    # Graph's wording for a parameter marked [required] in the reference, e.g.
    # "(#100) The parameter special_ad_categories is required".
    return GraphError(f"(#100) The parameter {name} is required", code=100)


def enum_param(name: str, allowed: Iterable[str]) -> GraphError:
    return GraphError(f"(#100) Param {name} must be one of {{{', '.join(allowed)}}}", code=100)


def not_integer(name: str) -> GraphError:
    return GraphError(f"(#100) Param {name} must be an integer", code=100)


def not_json(name: str, kind: str) -> GraphError:
    return GraphError(f"(#100) Param {name} must be a JSON {kind}", code=100)


def not_bool(name: str) -> GraphError:
    return GraphError(f"(#100) Param {name} must be a boolean", code=100)


def invalid_parameter(
    user_title: str,
    user_msg: str,
    *,
    subcode: int | None = None,
    blame_fields: list[str] | None = None,
    error_data: Any = None,
) -> GraphError:
    """Meta's usual validation failure: code 100 "Invalid parameter" with details for people."""
    data = error_data
    if data is None and blame_fields:
        # Meta sends error_data as a JSON *string* (Ad Set reference, DSA examples).
        data = json.dumps({"blame_field_specs": [blame_fields]})
    return GraphError(
        "Invalid parameter",
        code=100,
        subcode=subcode,
        user_title=user_title,
        user_msg=user_msg,
        error_data=data,
    )


# --- Throttling and faults ---------------------------------------------------------------------


def ads_management_throttled(headers: dict[str, str]) -> GraphError:
    # Code 80004 (Marketing API reference error tables, text quoted above). The subcode 2446079
    # is the one the Marketing API rate-limiting page gives for ad-account throttling
    # (https://developers.facebook.com/docs/marketing-apis/rate-limiting); Meta's pages do not
    # pair it with 80004 explicitly.
    return GraphError(
        ADS_MANAGEMENT_THROTTLE_MESSAGE,
        code=80004,
        subcode=2446079,
        is_transient=True,
        headers=headers,
        user_title="Too many calls",
        user_msg="There have been too many calls to this ad account. Wait a bit and try again.",
    )


def user_request_limit() -> GraphError:
    # Marketing API rate limiting, "Ad Set Level Rate Limiting": "For each ad set, the budget is
    # only allowed to change 4 times per hour, if exceeds the limit, the budget change for that
    # ad set will be blocked for an hour. Error, Code: 17, Message: User request limit reached."
    # That section documents no subcode: 2446079 belongs to the Business Use Case limit ("Related
    # error code: 17, Error subcode: 2446079"), a different throttle, so none is sent here.
    # https://developers.facebook.com/docs/marketing-api/overview/rate-limiting
    return GraphError("(#17) User request limit reached", code=17, is_transient=True)


def transient() -> GraphError:
    # Code 2 "API Service: Temporary issue due to downtime. Wait and retry the operation."
    # (error-handling guide).
    return GraphError("Service temporarily unavailable", code=2, http_status=500, is_transient=True)


def unknown_error() -> GraphError:
    # Code 1 "API Unknown: Possibly a temporary issue due to downtime" (error-handling guide).
    return GraphError("An unknown error occurred", code=1, http_status=500, is_transient=True)


def permanent_fault() -> GraphError:
    return invalid_parameter(
        "Sandbox permanent fault",
        "The sandbox was asked to refuse this request with a permanent error.",
    )


def batch_too_large() -> GraphError:
    # Graph API Batch Requests: "Batch requests are limited to 50 requests per batch."
    # (https://developers.facebook.com/docs/graph-api/batch-requests). The wording is the one
    # Graph has long used ("Too many requests in batch message. Maximum batch size is 50").
    return GraphError(
        "Too many requests in batch message. Maximum batch size is 50",
        code=100,
        error_type="GraphBatchException",
    )
