"""Uploading ad videos (POST /act_<id>/advideos: by URL, multipart or in chunks) and their status.

Sources: the Ad Videos and Video references, named at each rule.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .media import is_video
from .params import Params, UploadedFile
from .state import GraphObject, SandboxState
from .writes import Created, Ctx, new_object


def video_status(state: SandboxState, video: GraphObject, now: float) -> str:
    if video.extra.get("error"):
        return "error"
    started = video.extra.get("processing_started")
    if started is None:
        return "processing"
    ready_after = video.extra.get("ready_after", state.config.video_ready_after)
    return "ready" if now >= started + ready_after else "processing"


def video_status_field(state: SandboxState, video: GraphObject, now: float) -> dict[str, Any]:
    """The shape of a Video's ``status`` field: ``video_status`` plus per-phase statuses."""
    status = video_status(state, video, now)
    uploaded = video.extra.get("processing_started") is not None
    transferred = video.extra.get("bytes_transferred", 0)
    phases = {
        "uploading_phase": {
            "status": "complete" if uploaded else "in_progress",
            "bytes_transferred": transferred,
        },
        "processing_phase": {
            "status": {"ready": "complete", "error": "error"}.get(
                status, "in_progress" if uploaded else "not_started"
            )
        },
        "publishing_phase": {"status": "complete" if status == "ready" else "not_started"},
    }
    if status == "error":
        phases["processing_phase"]["errors"] = [
            {"code": 1363008, "message": "The video could not be processed (sandbox marker)."}
        ]
    return {"video_status": status, **phases}


def _new_video(ctx: Ctx, params: Params, **extra: Any) -> GraphObject:
    title = params.str("title") or params.str("name")
    fields: dict[str, Any] = {}
    if title is not None:
        fields["title"] = title
    if params.str("description") is not None:
        fields["description"] = params.str("description")
    video = new_object(ctx, "advideo", None, fields)
    video.extra.update(extra)
    if title and "[sandbox:video_error]" in title:
        video.extra["error"] = True
    return video


def upload_video(ctx: Ctx, params: Params, files: dict[str, UploadedFile]) -> Created:
    """POST /act_<id>/advideos (Ad Videos reference): ``file_url``, ``source`` as multipart, or a
    chunked upload (``upload_phase`` start/transfer/finish/cancel with ``file_size``,
    ``upload_session_id``, ``start_offset``, ``video_file_chunk``)."""
    phase = params.enum("upload_phase", ("start", "transfer", "finish", "cancel"))
    file_url = params.str("file_url")
    if phase is not None and file_url is not None:
        # Video reference, file_url: "Accessible URL of a video file. Cannot be used with
        # upload_phase."
        raise errors.invalid_parameter(
            "file_url with upload_phase",
            "file_url cannot be used with upload_phase.",
            blame_fields=["file_url"],
        )
    if phase == "start":
        return _chunk_start(ctx, params)
    if phase is not None:
        return _chunk_continue(ctx, params, files, phase)
    if file_url is not None:
        if not file_url.startswith(("http://", "https://")):
            raise errors.GraphError("(#389) Unable to fetch video file from URL.", code=389)
        # The sandbox records the URL and never fetches it (the network here is closed).
        video = _new_video(ctx, params, file_url=file_url, processing_started=ctx.now)
        ctx.state.add_object(video)
        return Created({"id": video.id}, [video.id])
    upload = files.get("source") or next(iter(files.values()), None)
    if upload is None:
        raise errors.invalid_parameter(
            "No video",
            "Send the video as source (multipart), file_url, or a chunked upload.",
            blame_fields=["source"],
        )
    if not is_video(upload.content):
        raise errors.GraphError(
            "(#352) The video file you selected is in a format that we don't support.", code=352
        )
    video = _new_video(
        ctx, params, processing_started=ctx.now, bytes_transferred=len(upload.content)
    )
    video.blob = upload.content
    ctx.state.add_object(video)
    return Created({"id": video.id}, [video.id])


def _chunk_start(ctx: Ctx, params: Params) -> Created:
    size = params.int("file_size", required=True)
    assert size is not None
    if size <= 0:
        raise errors.GraphError(
            "(#382) The video file you tried to upload is too small. Please try again with a "
            "larger file.",
            code=382,
        )
    video = _new_video(ctx, params, bytes_transferred=0)
    ctx.state.add_object(video)
    session_id = ctx.state.new_upload_session_id()
    end = min(size, ctx.state.config.video_chunk_size)
    ctx.state.upload_sessions[session_id] = {
        "video_id": video.id,
        "account_id": ctx.account.id,
        "size": size,
        "data": bytearray(),
    }
    return Created(
        {
            "video_id": video.id,
            "upload_session_id": session_id,
            "start_offset": "0",
            "end_offset": str(end),
        },
        [video.id],
    )


def _chunk_continue(
    ctx: Ctx, params: Params, files: dict[str, UploadedFile], phase: str
) -> Created:
    session_id = params.str("upload_session_id", required=True)
    session = ctx.state.upload_sessions.get(str(session_id))
    if session is None or session["account_id"] != ctx.account.id:
        raise errors.invalid_parameter(
            "Invalid upload session",
            f"Upload session {session_id} does not exist.",
            blame_fields=["upload_session_id"],
        )
    video = ctx.state.objects[session["video_id"]]
    received: bytearray = session["data"]
    size: int = session["size"]
    if phase == "cancel":
        video.deleted = True
        del ctx.state.upload_sessions[str(session_id)]
        return Created({"success": True}, [])
    if phase == "transfer":
        start = params.int("start_offset", required=True)
        upload = files.get("video_file_chunk") or next(iter(files.values()), None)
        if upload is None:
            raise errors.required_param("video_file_chunk")
        if start != len(received) or start + len(upload.content) > size:
            # The SDK's VideoUploadTransferRequestManager resumes on subcode 1363037 from
            # error_data.start_offset/end_offset; the sandbox answers the same way.
            expected_end = min(size, len(received) + ctx.state.config.video_chunk_size)
            raise errors.GraphError(
                "Invalid parameter",
                code=100,
                subcode=1363037,
                user_title="Chunk offset mismatch",
                user_msg=f"Expected the chunk starting at byte {len(received)}.",
                error_data={"start_offset": len(received), "end_offset": expected_end},
            )
        received.extend(upload.content)
        video.extra["bytes_transferred"] = len(received)
        new_start = len(received)
        new_end = min(size, new_start + ctx.state.config.video_chunk_size)
        return Created({"start_offset": str(new_start), "end_offset": str(new_end)}, [])
    # finish
    if len(received) != size:
        raise errors.invalid_parameter(
            "Upload incomplete",
            f"Received {len(received)} of {size} bytes; transfer the rest before finishing.",
            blame_fields=["upload_phase"],
        )
    if not is_video(bytes(received)):
        raise errors.GraphError(
            "(#352) The video file you selected is in a format that we don't support.", code=352
        )
    title = params.str("title") or params.str("name")
    if title is not None:
        video.fields["title"] = title
        if "[sandbox:video_error]" in title:
            video.extra["error"] = True
    video.blob = bytes(received)
    video.extra["processing_started"] = ctx.now
    video.updated_time = ctx.now
    del ctx.state.upload_sessions[str(session_id)]
    return Created({"success": True}, [])
