"""A job's media on Meta: images uploaded as bytes, videos handed over by URL and read until
encoded, a video's own thumbnail, and a lost video upload found again by its title.

Every function makes its Graph calls through `meta_call` and touches no database, so media
threads can run them.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor, as_completed
from itertools import islice
from typing import Any

from django.conf import settings
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount
from facebook_business.adobjects.advideo import AdVideo as FbAdVideo

from campaigns.engine.adapter import NotSent
from platforms.meta.calls import meta_call
from platforms.meta.client import MetaClient, build_meta_client
from platforms.meta.errors import ErrorKind, MetaError
from platforms.meta.media import MediaFetchError, check_public_http_url, fetch_image

FAILED_VIDEO_STATES = frozenset({"error", "expired"})


def upload_image(client: MetaClient, account_key: str, url: str) -> str:
    """Download an image (SSRF-safe) and upload it to the account; return Meta's hash.

    Uploads are content-addressed (the hash is the bytes' MD5): sending the same image twice
    yields the same hash, so no lookup is needed after a lost answer.
    """
    step = "media"
    media = fetch_image(url)
    encoded = base64.b64encode(media.content).decode()
    account = FbAdAccount(client.account_id, api=client.api)
    result = meta_call(
        client, account_key, step, lambda: account.create_ad_image(params={"bytes": encoded})
    )
    data = result.export_all_data() if hasattr(result, "export_all_data") else dict(result)
    images = data.get("images") or {}
    first = next(iter(images.values()), {}) if isinstance(images, dict) else {}
    image_hash = first.get("hash") or data.get("hash")
    if not image_hash:
        raise MetaError(
            message="Meta's image upload answer had no hash.", kind=ErrorKind.TRANSIENT, step=step
        )
    return str(image_hash)


def upload_images(
    account_id: str, credentials: dict[str, str], account_key: str, urls: list[str]
) -> list[str | BaseException]:
    """Upload several images at once (`META_MEDIA_CONCURRENCY` threads): each its hash, or
    what went wrong with it, in the order of `urls`."""

    def upload(url: str) -> str:
        # One SDK session per thread: a requests.Session is not shared across threads.
        client = build_meta_client(account_id=account_id, credentials=credentials)
        return upload_image(client, account_key, url)

    results: dict[int, str | BaseException] = {}
    workers = min(settings.META_MEDIA_CONCURRENCY, len(urls))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media") as pool:
        futures = {pool.submit(upload, url): n for n, url in enumerate(urls)}
        for future in as_completed(futures):
            try:
                results[futures[future]] = future.result()
            except (MetaError, MediaFetchError, NotSent) as exc:
                results[futures[future]] = exc
    return [results[n] for n in range(len(urls))]


def video_title(label: str, asset_pk: Any) -> str:
    """The title a job's video is uploaded with: its marker, found again after a lost answer."""
    return f"{label}-{asset_pk}"


def create_video(client: MetaClient, account_key: str, url: str, title: str) -> str:
    """Hand the video to Meta by URL; Meta downloads it from its own network. Still, never
    hand it an address inside ours."""
    check_public_http_url(url)
    account = FbAdAccount(client.account_id, api=client.api)
    created = meta_call(
        client,
        account_key,
        "video",
        lambda: account.create_ad_video(params={"file_url": url, "title": title}),
    )
    return str(created["id"])


def video_status(client: MetaClient, account_key: str, video_id: str) -> str:
    """Meta's processing status of a video; raises Meta's error when processing failed."""
    video = meta_call(
        client,
        account_key,
        "video status",
        lambda: FbAdVideo(video_id, api=client.api).api_get(fields=["status"]),
    )
    status = str((video.get("status") or {}).get("video_status", ""))
    if status in FAILED_VIDEO_STATES:
        raise MetaError(
            message=f"Meta could not process the video (status {status}).",
            kind=ErrorKind.PERMANENT,
            step="video",
        )
    return status


def find_videos(client: MetaClient, account_key: str, title: str) -> list[str]:
    """Videos of the account with this title (Ad Account Advideos, Reading: `title` is
    Meta's "video names filter"): one page, not the whole library."""
    account = FbAdAccount(client.account_id, api=client.api)
    videos = meta_call(
        client,
        account_key,
        "video (lookup)",
        # One page: the title is the job's marker, so more than a page means something else.
        lambda: list(
            islice(
                account.get_ad_videos(fields=["id", "title"], params={"title": title, "limit": 25}),
                25,
            )
        ),
    )
    return [str(video["id"]) for video in videos if video.get("title") == title]


def video_thumbnail(client: MetaClient, account_key: str, video_id: str) -> str:
    """Meta's own thumbnail of a video, for a video ad the client sent without one."""
    video = meta_call(
        client,
        account_key,
        "video thumbnail",
        lambda: FbAdVideo(video_id, api=client.api).api_get(fields=["picture"]),
    )
    picture = video.get("picture")
    if not picture:
        raise MetaError(
            message=(
                f"Meta has no thumbnail for video {video_id}; "
                "send thumbnail_url or thumbnail_hash with it."
            ),
            kind=ErrorKind.PERMANENT,
            step="video thumbnail",
        )
    return str(picture)
