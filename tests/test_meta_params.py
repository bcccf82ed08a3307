"""What Meta is sent for each creative format (platforms/meta/params.py), from plan rows."""

from __future__ import annotations

from typing import Any

from campaigns.models import Creative, MediaAsset, MediaKind
from platforms.meta import rules
from platforms.meta.models import CreativeFormat, MetaCreativeCard, MetaCreativeDetails
from platforms.meta.params import CreativeParams
from platforms.meta.validation.creative import full_feature_spec

LABEL = "mojito-job-1"


def creative_of(details: MetaCreativeDetails, cards: list[MetaCreativeCard] = ()) -> Creative:
    creative = Creative(name="Creative 1")
    creative.meta = details
    creative.cards = list(cards)
    return creative


def params_for(creative: Creative, media: dict[Any, MediaAsset] | None = None) -> dict[str, Any]:
    thumbnails: list[str] = []

    def thumbnail(video_id: str) -> str:
        thumbnails.append(video_id)
        return f"https://graph.example/{video_id}/picture"

    return CreativeParams(media or {}, thumbnail)(creative, LABEL)


def test_every_known_feature_goes_out_with_its_status() -> None:
    details = MetaCreativeDetails(
        format=CreativeFormat.IMAGE,
        page_id="1",
        link="https://example.com",
        image_hash="abc",
        creative_features=full_feature_spec({"inline_comment": "OPT_IN"}),
    )
    spec = params_for(creative_of(details))["degrees_of_freedom_spec"]["creative_features_spec"]
    assert set(spec) == rules.CREATIVE_FEATURES
    assert spec["inline_comment"] == {"enroll_status": "OPT_IN"}
    assert spec["image_touchups"] == {"enroll_status": "OPT_OUT"}


def test_a_carousel_sends_its_cards_as_child_attachments_in_order() -> None:
    image = MediaAsset(kind=MediaKind.IMAGE, source_url="https://cdn/a.jpg", platform_id="h1")
    video = MediaAsset(kind=MediaKind.VIDEO, source_url="https://cdn/v.mp4", platform_id="v9")
    details = MetaCreativeDetails(
        format=CreativeFormat.CAROUSEL,
        page_id="100",
        link="https://example.com/all",
        message="Pick one",
        call_to_action={"type": "SHOP_NOW"},
        multi_share_optimized=None,
    )
    cards = [
        MetaCreativeCard(
            position=0,
            link="https://example.com/1",
            headline="One",
            call_to_action={"type": "SHOP_NOW"},
            image_asset=image,
        ),
        MetaCreativeCard(position=1, link="https://example.com/2", image_hash="h2"),
        MetaCreativeCard(position=2, link="https://example.com/3", video_asset=video),
    ]
    sent = params_for(creative_of(details, cards), {image.pk: image, video.pk: video})
    link_data = sent["object_story_spec"]["link_data"]
    assert sent["object_story_spec"]["page_id"] == "100"
    assert link_data["link"] == "https://example.com/all"
    assert link_data["message"] == "Pick one"
    # The cards' order is the client's unless it let Meta reorder them.
    assert link_data["multi_share_optimized"] is False
    assert link_data["child_attachments"] == [
        {
            "link": "https://example.com/1",
            "name": "One",
            "image_hash": "h1",
            "call_to_action": {"type": "SHOP_NOW", "value": {"link": "https://example.com/1"}},
        },
        {"link": "https://example.com/2", "image_hash": "h2"},
        # A video card without a thumbnail takes Meta's own frame as its picture.
        {
            "link": "https://example.com/3",
            "video_id": "v9",
            "picture": "https://graph.example/v9/picture",
        },
    ]
    assert sent["adlabels"] == [{"name": LABEL}]


def test_an_existing_facebook_post_is_sent_by_id_only() -> None:
    details = MetaCreativeDetails(
        format=CreativeFormat.FACEBOOK_POST, object_story_id="100_200", page_id=""
    )
    sent = params_for(creative_of(details))
    assert sent == {
        "name": "Creative 1",
        "object_story_id": "100_200",
        "adlabels": [{"name": LABEL}],
    }


def test_an_existing_instagram_post_names_the_page_the_account_and_the_media() -> None:
    details = MetaCreativeDetails(
        format=CreativeFormat.INSTAGRAM_POST,
        page_id="100",
        instagram_user_id="178",
        source_instagram_media_id="179",
        link="https://example.com/shop",
        call_to_action={"type": "SHOP_NOW", "link": None},
    )
    sent = params_for(creative_of(details))
    assert sent["object_id"] == "100"
    assert sent["instagram_user_id"] == "178"
    assert sent["source_instagram_media_id"] == "179"
    assert sent["call_to_action"] == {
        "type": "SHOP_NOW",
        "value": {"link": "https://example.com/shop"},
    }
    assert "object_story_spec" not in sent
