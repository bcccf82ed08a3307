"""Uploading ad images (POST /act_<id>/adimages), stored by the MD5 hash Meta names them by.

Sources: the Ad Account Ad Images and Ad Image references, named at each rule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from . import errors
from .media import image_format, image_size
from .params import Params, UploadedFile
from .state import GraphObject
from .writes import Created, Ctx


def _store_image(ctx: Ctx, name: str, data: bytes) -> dict[str, Any]:
    fmt = image_format(data)
    if fmt is None:
        # Ad Image reference: images must be image files (JPG, PNG, GIF, BMP, WebP...).
        raise errors.invalid_parameter(
            "Image Resize Failed",
            f"Could not read {name!r} as an image: it is not a JPEG, PNG, GIF, BMP or WebP file.",
            blame_fields=["bytes"],
        )
    width, height = image_size(data, fmt)
    image_hash = hashlib.md5(data).hexdigest()  # noqa: S324 - Meta's image hash is an MD5
    image_id = f"{ctx.account.id}:{image_hash}"
    url = f"{ctx.origin}/__sandbox__/media/images/{image_hash}.{fmt}"
    existing = ctx.state.get_object(image_id)
    if existing is None:
        obj = GraphObject(
            id=image_id,
            type="adimage",
            account_id=ctx.account.id,
            parent_id=None,
            fields={},
            created_time=ctx.now,
            updated_time=ctx.now,
            blob=data,
        )
        ctx.state.add_object(obj)
    else:
        obj = existing
        obj.deleted = False
        obj.updated_time = ctx.now
    obj.fields.update(
        {
            "id": image_id,
            "account_id": ctx.account.id,
            "hash": image_hash,
            "name": name,
            "url": url,
            "url_128": url,
            "permalink_url": url,
            "width": width,
            "height": height,
            "original_width": width,
            "original_height": height,
            "status": "ACTIVE",
        }
    )
    return {
        "hash": image_hash,
        "url": url,
        "url_128": url,
        "url_256": url,
        "url_256_height": str(min(height, 256)),
        "url_256_width": str(min(width, 256)),
        "height": height,
        "width": width,
        "name": name,
    }


def create_images(ctx: Ctx, params: Params, files: dict[str, UploadedFile]) -> Created:
    """POST /act_<id>/adimages (Ad Account Ad Images reference): multipart files or ``bytes``
    (base64); answers ``{"images": {"<name>": {"hash", "url", ...}}}``; the hash is the MD5 of
    the bytes, so uploading the same image again returns the same hash."""
    images: dict[str, Any] = {}
    created: list[str] = []
    for upload in files.values():
        key = upload.filename or upload.field
        before = ctx.state.get_object(f"{ctx.account.id}:{hashlib.md5(upload.content).hexdigest()}")  # noqa: S324
        images[key] = _store_image(ctx, key, upload.content)
        if before is None:
            created.append(f"{ctx.account.id}:{images[key]['hash']}")
    encoded = params.str("bytes")
    if encoded is not None:
        try:
            data = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError):
            raise errors.invalid_parameter(
                "Invalid image",
                "bytes must be the base64-encoded image file.",
                blame_fields=["bytes"],
            ) from None
        image_hash = hashlib.md5(data).hexdigest()  # noqa: S324
        before = ctx.state.get_object(f"{ctx.account.id}:{image_hash}")
        images["bytes"] = _store_image(ctx, "bytes", data)
        if before is None:
            created.append(f"{ctx.account.id}:{image_hash}")
    copy_from = params.json("copy_from", dict)
    if copy_from is not None:
        source_account = str(copy_from.get("source_account_id", "")).removeprefix("act_")
        source = ctx.state.get_object(f"{source_account}:{copy_from.get('hash')}")
        if source is None or source_account not in ctx.token.account_ids or source.blob is None:
            raise errors.invalid_parameter(
                "Image not found",
                "copy_from names an image this token can't read.",
                blame_fields=["copy_from"],
            )
        images[str(copy_from.get("hash"))] = _store_image(
            ctx, str(source.fields.get("name")), source.blob
        )
    if not images:
        raise errors.invalid_parameter(
            "No image",
            "Send the image as a multipart file, as base64 in bytes, or copy_from.",
            blame_fields=["bytes"],
        )
    return Created({"images": images}, created)
