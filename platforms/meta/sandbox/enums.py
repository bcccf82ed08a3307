"""Meta's documented values, copied from the Marketing API reference (not imported from the SDK).

Sources (developers.facebook.com/docs/marketing-api/reference/...):
- ad-campaign-group (Campaign), "Creating": objective, special_ad_categories, status,
  bid_strategy; "Outcome-Driven Ads Experiences" for the ODAX objectives and their mapping.
- ad-campaign (Ad Set), "Creating": billing_event, optimization_goal, destination_type,
  promoted_object.custom_event_type, status; "Outcome-Driven Ads Experiences, Restrictions" for
  the optimization goals each objective allows.
- ad-creative: call_to_action_type.
- The values of the v19-v27 rules (special ad categories, Advantage+ audience and creative,
  placements, EU territories) name their pages where they are defined.
Readable fields per node are in node_fields.py.
"""

from __future__ import annotations


def _names(text: str) -> list[str]:
    """Whitespace-separated names (long value lists read better as text)."""
    return text.split()


# Campaign objectives. Since Marketing API v17.0 campaigns can only be created with the
# "OUTCOME_*" objectives (blog "An update to ad objectives", 2023-02-13; Campaign reference,
# "Objective Validation": "These older objectives are deprecated with ... v17.0").
ODAX_OBJECTIVES: tuple[str, ...] = (
    "OUTCOME_APP_PROMOTION",
    "OUTCOME_AWARENESS",
    "OUTCOME_ENGAGEMENT",
    "OUTCOME_LEADS",
    "OUTCOME_SALES",
    "OUTCOME_TRAFFIC",
)
LEGACY_OBJECTIVES: tuple[str, ...] = (
    "APP_INSTALLS",
    "BRAND_AWARENESS",
    "CONVERSIONS",
    "EVENT_RESPONSES",
    "LEAD_GENERATION",
    "LINK_CLICKS",
    "LOCAL_AWARENESS",
    "MESSAGES",
    "OFFER_CLAIMS",
    "PAGE_LIKES",
    "POST_ENGAGEMENT",
    "PRODUCT_CATALOG_SALES",
    "REACH",
    "STORE_VISITS",
    "VIDEO_VIEWS",
)
# Order in which Graph lists them in "(#100) Objective X is invalid. Use one of: ...".
ODAX_OBJECTIVES_MESSAGE_ORDER: tuple[str, ...] = (
    "OUTCOME_LEADS",
    "OUTCOME_SALES",
    "OUTCOME_ENGAGEMENT",
    "OUTCOME_AWARENESS",
    "OUTCOME_TRAFFIC",
    "OUTCOME_APP_PROMOTION",
)
ODAX_ONLY_SINCE: tuple[int, int] = (17, 0)

SPECIAL_AD_CATEGORIES: tuple[str, ...] = (
    "NONE",
    "EMPLOYMENT",
    "HOUSING",
    "ISSUES_ELECTIONS_POLITICS",
    "ONLINE_GAMBLING_AND_GAMING",
    "FINANCIAL_PRODUCTS_SERVICES",
)
# Special Ad Category guide: "In October 2024 we introduced a new input called
# FINANCIAL_PRODUCTS_SERVICES ... This input will replace the CREDIT input as of January 14, 2025."
# https://developers.facebook.com/documentation/ads-commerce/marketing-api/audiences/special-ad-category
REPLACED_SPECIAL_AD_CATEGORIES: dict[str, str] = {"CREDIT": "FINANCIAL_PRODUCTS_SERVICES"}
# "Audience and product restrictions outlined ... for HOUSING and EMPLOYMENT Special Ad Categories
# inputs will also apply to the new FINANCIAL_PRODUCTS_SERVICES input" (same page): the three
# categories of the v26.0 Advantage+ audience rule.
HEC_SPECIAL_AD_CATEGORIES: frozenset[str] = frozenset(
    {"HOUSING", "EMPLOYMENT", "FINANCIAL_PRODUCTS_SERVICES"}
)

# Campaign reference, smart_promotion_type. Advantage+ campaigns guide: "Beginning with v25.0, you
# will no longer be able to use ... smart_promotion_type=AUTOMATED_SHOPPING_ADS ... or ...
# smart_promotion_type=SMART_APP_PROMOTION"; v24.0 changelog: creating Advantage+ shopping and app
# campaigns is no longer allowed.
SMART_PROMOTION_TYPES: tuple[str, ...] = (
    "GUIDED_CREATION",
    "SMART_APP_PROMOTION",
    "AUTOMATED_SHOPPING_ADS",
)
ADVANTAGE_SHOPPING_AND_APP_TYPES: frozenset[str] = frozenset(
    {"AUTOMATED_SHOPPING_ADS", "SMART_APP_PROMOTION"}
)

# "Only ACTIVE and PAUSED are valid during creation. Other statuses can be used for update."
# (Campaign, Ad Set and Ad references, status parameter.)
STATUSES: tuple[str, ...] = ("ACTIVE", "PAUSED", "DELETED", "ARCHIVED")
CREATE_STATUSES: tuple[str, ...] = ("ACTIVE", "PAUSED")
CREATIVE_STATUSES: tuple[str, ...] = ("ACTIVE", "IN_PROCESS", "WITH_ISSUES", "DELETED")

BUYING_TYPES: tuple[str, ...] = ("AUCTION", "RESERVED")

BID_STRATEGIES: tuple[str, ...] = (
    "LOWEST_COST_WITHOUT_CAP",
    "LOWEST_COST_WITH_BID_CAP",
    "COST_CAP",
    "LOWEST_COST_WITH_MIN_ROAS",
)
# Ad Set reference, bid_amount: "bid_amount is required if bid_strategy is set to
# LOWEST_COST_WITH_BID_CAP or COST_CAP".
BID_AMOUNT_STRATEGIES: frozenset[str] = frozenset({"LOWEST_COST_WITH_BID_CAP", "COST_CAP"})

BILLING_EVENTS: tuple[str, ...] = (
    "APP_INSTALLS",
    "CLICKS",
    "IMPRESSIONS",
    "LINK_CLICKS",
    "NONE",
    "OFFER_CLAIMS",
    "PAGE_LIKES",
    "POST_ENGAGEMENT",
    "THRUPLAY",
    "PURCHASE",
    "LISTING_INTERACTION",
)

OPTIMIZATION_GOALS: tuple[str, ...] = (
    "NONE",
    "APP_INSTALLS",
    "AD_RECALL_LIFT",
    "ENGAGED_USERS",
    "EVENT_RESPONSES",
    "IMPRESSIONS",
    "LEAD_GENERATION",
    "QUALITY_LEAD",
    "LINK_CLICKS",
    "OFFSITE_CONVERSIONS",
    "PAGE_LIKES",
    "POST_ENGAGEMENT",
    "QUALITY_CALL",
    "REACH",
    "LANDING_PAGE_VIEWS",
    "VISIT_INSTAGRAM_PROFILE",
    "ENGAGED_PAGE_VIEWS",
    "VALUE",
    "THRUPLAY",
    "DERIVED_EVENTS",
    "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
    "CONVERSATIONS",
    "IN_APP_VALUE",
    "MESSAGING_PURCHASE_CONVERSION",
    "MESSAGING_DEEP_CONVERSATION_AND_FOLLOW",
    "SUBSCRIBERS",
    "REMINDERS_SET",
    "MEANINGFUL_CALL_ATTEMPT",
    "PROFILE_VISIT",
    "PROFILE_AND_PAGE_ENGAGEMENT",
    "ADVERTISER_SILOED_VALUE",
    "AUTOMATIC_OBJECTIVE",
    "MESSAGING_APPOINTMENT_CONVERSION",
)

# Ad Set reference, "Outcome-Driven Ads Experiences, Restrictions" table (union over the
# conversion locations of each objective) and Campaign reference "Objective Mapping" table.
OPTIMIZATION_GOALS_BY_OBJECTIVE: dict[str, frozenset[str]] = {
    "OUTCOME_AWARENESS": frozenset({"AD_RECALL_LIFT", "REACH", "IMPRESSIONS", "THRUPLAY"}),
    "OUTCOME_TRAFFIC": frozenset(
        {"LINK_CLICKS", "LANDING_PAGE_VIEWS", "IMPRESSIONS", "REACH", "QUALITY_CALL"}
    ),
    "OUTCOME_ENGAGEMENT": frozenset(
        {
            "THRUPLAY",
            "POST_ENGAGEMENT",
            "IMPRESSIONS",
            "REACH",
            "EVENT_RESPONSES",
            "CONVERSATIONS",
            "LINK_CLICKS",
            "OFFSITE_CONVERSIONS",
            "LANDING_PAGE_VIEWS",
            "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
            "PAGE_LIKES",
            "LEAD_GENERATION",
        }
    ),
    "OUTCOME_LEADS": frozenset(
        {
            "OFFSITE_CONVERSIONS",
            "LANDING_PAGE_VIEWS",
            "LINK_CLICKS",
            "IMPRESSIONS",
            "REACH",
            "LEAD_GENERATION",
            "QUALITY_LEAD",
            "QUALITY_CALL",
            "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
        }
    ),
    "OUTCOME_APP_PROMOTION": frozenset(
        {
            "LINK_CLICKS",
            "APP_INSTALLS",
            "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
            "VALUE",
            "OFFSITE_CONVERSIONS",
        }
    ),
    "OUTCOME_SALES": frozenset(
        {
            "OFFSITE_CONVERSIONS",
            "VALUE",
            "LINK_CLICKS",
            "LANDING_PAGE_VIEWS",
            "IMPRESSIONS",
            "REACH",
            "CONVERSATIONS",
            "QUALITY_CALL",
        }
    ),
}

DESTINATION_TYPES: tuple[str, ...] = (
    "WEBSITE",
    "APP",
    "MESSENGER",
    "APPLINKS_AUTOMATIC",
    "WHATSAPP",
    "INSTAGRAM_DIRECT",
    "FACEBOOK",
    "MESSAGING_MESSENGER_WHATSAPP",
    "MESSAGING_INSTAGRAM_DIRECT_MESSENGER",
    "MESSAGING_INSTAGRAM_DIRECT_MESSENGER_WHATSAPP",
    "MESSAGING_INSTAGRAM_DIRECT_WHATSAPP",
    "SHOP_AUTOMATIC",
    "ON_AD",
    "ON_POST",
    "ON_EVENT",
    "ON_VIDEO",
    "ON_PAGE",
    "INSTAGRAM_PROFILE",
    "FACEBOOK_PAGE",
    "INSTAGRAM_PROFILE_AND_FACEBOOK_PAGE",
    "INSTAGRAM_LIVE",
    "FACEBOOK_LIVE",
    "IMAGINE",
)

CUSTOM_EVENT_TYPES: tuple[str, ...] = (
    "AD_IMPRESSION",
    "RATE",
    "TUTORIAL_COMPLETION",
    "CONTACT",
    "CUSTOMIZE_PRODUCT",
    "DONATE",
    "FIND_LOCATION",
    "SCHEDULE",
    "START_TRIAL",
    "SUBMIT_APPLICATION",
    "SUBSCRIBE",
    "ADD_TO_CART",
    "ADD_TO_WISHLIST",
    "INITIATED_CHECKOUT",
    "ADD_PAYMENT_INFO",
    "PURCHASE",
    "LEAD",
    "COMPLETE_REGISTRATION",
    "CONTENT_VIEW",
    "SEARCH",
    "SERVICE_BOOKING_REQUEST",
    "MESSAGING_CONVERSATION_STARTED_7D",
    "LEVEL_ACHIEVED",
    "ACHIEVEMENT_UNLOCKED",
    "SPENT_CREDITS",
    "LISTING_INTERACTION",
    "D2_RETENTION",
    "D7_RETENTION",
    "OTHER",
)

CALL_TO_ACTION_TYPES: frozenset[str] = frozenset(
    _names(
        """
        OPEN_LINK LIKE_PAGE SHOP_NOW PLAY_GAME INSTALL_APP USE_APP CALL CALL_ME VIDEO_CALL
        INSTALL_MOBILE_APP USE_MOBILE_APP MOBILE_DOWNLOAD BOOK_TRAVEL LISTEN_MUSIC WATCH_VIDEO
        LEARN_MORE SIGN_UP DOWNLOAD WATCH_MORE NO_BUTTON VISIT_PAGES_FEED CALL_NOW APPLY_NOW
        CONTACT BUY_NOW GET_OFFER GET_OFFER_VIEW BUY_TICKETS UPDATE_APP GET_DIRECTIONS BUY
        SEND_UPDATES MESSAGE_PAGE DONATE SUBSCRIBE SAY_THANKS SELL_NOW SHARE DONATE_NOW
        GET_QUOTE CONTACT_US ORDER_NOW START_ORDER ADD_TO_CART VIEW_CART VIEW_IN_CART
        VIDEO_ANNOTATION RECORD_NOW INQUIRE_NOW CONFIRM REFER_FRIENDS REQUEST_TIME GET_SHOWTIMES
        LISTEN_NOW TRY_DEMO WOODHENGE_SUPPORT SOTTO_SUBSCRIBE FOLLOW_USER RAISE_MONEY SEE_SHOP
        GET_DETAILS FIND_OUT_MORE VISIT_WEBSITE BROWSE_SHOP EVENT_RSVP WHATSAPP_MESSAGE
        FOLLOW_NEWS_STORYLINE SEE_MORE BOOK_NOW FIND_A_GROUP FIND_YOUR_GROUPS PAY_TO_ACCESS
        PURCHASE_GIFT_CARDS FOLLOW_PAGE SEND_A_GIFT SWIPE_UP_SHOP SWIPE_UP_PRODUCT
        SEND_GIFT_MONEY PLAY_GAME_ON_FACEBOOK GET_STARTED OPEN_INSTANT_APP AUDIO_CALL
        GET_PROMOTIONS JOIN_CHANNEL MAKE_AN_APPOINTMENT ASK_ABOUT_SERVICES BOOK_A_CONSULTATION
        GET_A_QUOTE BUY_VIA_MESSAGE ASK_FOR_MORE_INFO CHAT_WITH_US VIEW_PRODUCT VIEW_CHANNEL
        GET_IN_TOUCH ASK_A_QUESTION START_A_CHAT CHAT_NOW ASK_US WATCH_LIVE_VIDEO
        JOIN_LIVE_VIDEO SHOP_WITH_AI TRY_ON_WITH_AI BUY_ACTIVITY_TICKETS STREAM_NOW WATCH_NOW
        """
    )
)

# Advantage+ creative features: keys of degrees_of_freedom_spec.creative_features_spec. Meta's
# AdCreativeFeaturesSpec reference (https://developers.facebook.com/docs/marketing-api/reference/ad-creative-features-spec)
# lists them; this is the facebook-business SDK 26.0.3 list generated from Meta's API spec
# (AdCreativeFeaturesSpec.Field), copied, not imported.
CREATIVE_FEATURES: frozenset[str] = frozenset(
    _names(
        """
        adapt_to_placement add_text_overlay ads_with_benefits advantage_plus_creative
        app_highlights audio auto_promotion_tag biz_ai carousel_to_video catalog_feed_tag
        creative_stickers customize_product_recommendation cv_transformation
        description_automation dha_optimization dynamic_cta_text dynamic_partner_content
        enable_ncs_testimonials enhance_cta fb_feed_tag fb_reels_tag fb_story_tag
        feed_caption_optimization generate_cta hide_price hyperlink_formatting ig_feed_tag
        ig_glados_feed ig_reels_tag ig_stream_tag ig_video_native_subtitle image_animation
        image_auto_crop image_background_gen image_banner image_brightness_and_contrast
        image_end_card image_enhancement image_templates image_text_translation image_touchups
        image_uncrop inline_comment local_store_extension media_liquidity_animated_image
        media_order media_type_automation multi_creative_post_carousel multi_photo_to_video
        music_generation pac_genai_recomposition pac_recomposition pac_relaxation
        product_browsing product_extensions product_metadata_automation product_tags
        profile_card profile_extension replace_media_text reveal_details_over_time
        show_destination_blurbs show_summary site_extensions standard_enhancements
        standard_enhancements_catalog text_extraction_for_headline
        text_extraction_for_tap_target text_formatting_optimization text_generation
        text_optimizations text_overlay_translation text_translation translate_voiceover
        video_auto_crop video_filtering video_highlight video_highlights video_to_image
        video_uncrop video_uncrop_9x16_to_9x18 video_voiceover wa_mm_image_filtering
        wa_mm_text_truncation_length
        """
    )
) | {"image_template"}  # Meta's get-started example and standard-enhancements page spell it so
# v22.0 changelog: "Opting ads in to and previewing ads using the STANDARD_ENHANCEMENTS bundle is
# no longer supported" (v22.0+):
# https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version22.0
CREATIVE_FEATURE_BUNDLES: frozenset[str] = frozenset(
    {"standard_enhancements", "standard_enhancements_catalog"}
)
# AdCreativeFeaturesSpec reference: "Provide the field enroll_status to opt in/out of the
# feature. Value: OPT_IN, OPT_OUT"; AdCreativeFeatureDetails also has customizations.
ENROLL_STATUSES: tuple[str, ...] = ("OPT_IN", "OPT_OUT")
CREATIVE_FEATURE_DETAILS: frozenset[str] = frozenset({"enroll_status", "customizations"})

# Basic targeting (https://developers.facebook.com/docs/marketing-api/audiences/reference/basic-targeting):
# genders "Defaults to all" (1 men, 2 women); age_min "Defaults to 18"; age_max "must be 65 or
# lower". The Advantage+ audience blog calls these values the "default targeting setup".
DEFAULT_AGE_MIN = 18
DEFAULT_AGE_MAX = 65
ALL_GENDERS: frozenset[int] = frozenset({1, 2})
# Detailed targeting: the types of the Ad Account Targetingbrowse reference's limit_type
# (https://developers.facebook.com/documentation/ads-commerce/marketing-api/reference/ad-account/targetingbrowse),
# without location_categories, and flexible_spec, which holds them ("Flexible Targeting":
# https://developers.facebook.com/documentation/ads-commerce/marketing-api/audiences/reference/flexible-targeting).
DETAILED_TARGETING_KEYS: frozenset[str] = frozenset(
    _names(
        """
        interests education_schools education_majors work_positions work_employers
        relationship_statuses interested_in user_adclusters college_years education_statuses
        family_statuses industries life_events politics behaviors income net_worth home_type
        home_ownership home_value ethnic_affinity generation household_composition moms
        office_type flexible_spec
        """
    )
)
# targeting_automation.advantage_audience: "To opt in, set ... to 1. To opt out, set ... to 0."
# (Advantage+ audience guide). individual_setting's age and gender: v23.0 changelog.
ADVANTAGE_AUDIENCE_VALUES: tuple[str, ...] = ("0", "1")
INDIVIDUAL_SETTINGS: tuple[str, ...] = ("age", "gender")

# Placement targeting ("The platforms and positions available are device_platforms,
# publisher_platforms, facebook_positions, audience_network_positions, instagram_positions,
# threads_positions, and messenger_positions"; whatsapp_positions for WhatsApp Status):
# https://developers.facebook.com/documentation/ads-commerce/marketing-api/audiences/reference/placement-targeting
PLACEMENT_KEYS: tuple[str, ...] = (
    "publisher_platforms",
    "device_platforms",
    "facebook_positions",
    "instagram_positions",
    "messenger_positions",
    "audience_network_positions",
    "threads_positions",
    "whatsapp_positions",
)
# Positions Meta removed: (field, value) -> (first version that refuses it, what Meta says).
REMOVED_POSITIONS: dict[tuple[str, str], tuple[tuple[int, int], str]] = {
    # Meta's SDK 24.0.0 release notes (github.com/facebook/facebook-php-business-sdk/releases):
    ("facebook_positions", "video_feeds"): (
        (24, 0),
        "The Facebook video feeds ad placement is no longer available in Marketing API v24.0, "
        "and attempts to use it will result in errors.",
    ),
    # v26.0 blog ("Developers should remove 'Explore' from placement configuration") and the
    # SDK 26.0.0 release notes (github.com/meta/facebook-python-business-sdk/releases). Only
    # the Explore feed: explore_home stays.
    ("instagram_positions", "explore"): (
        (26, 0),
        "The Instagram Explore Feed ad placement is removed and returns errors if specified.",
    ),
}
# v26.0 blog (zh_CN, translated): "when creating or updating ad sets, the story value is silently
# removed from messenger_positions"; v26.0 calls, then all versions including unversioned calls
# from October 27, 2026 — a date now past, so every version drops it.
SILENTLY_REMOVED_POSITIONS: frozenset[tuple[str, str]] = frozenset(
    {("messenger_positions", "story")}
)
# v19.0 changelog: "The targeting_optimization field will not be accepted for campaigns that are
# optimized for link clicks or landing page views. This also applies to previous optimizations
# that were included in Advantage Detailed Targeting with no option to opt-out including
# conversions, value, app installs, app events and conversations" (v19.0+, all versions April
# 22, 2024):
# https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version19.0
NO_TARGETING_OPTIMIZATION_GOALS: frozenset[str] = frozenset(
    {
        "LINK_CLICKS",
        "LANDING_PAGE_VIEWS",
        # "...including conversions, value, app installs, app events and conversations"
        "OFFSITE_CONVERSIONS",
        "VALUE",
        "APP_INSTALLS",
        "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
        "CONVERSATIONS",
    }
)

# Ad Set reference, "Targeting DSA Regulated Locations (EU)": ad sets that target the EU need
# dsa_payor and dsa_beneficiary (or the ad account's defaults). Meta's blog requires them for
# "ads which target the EU, associated territories, or select global/worldwide"
# (https://developers.facebook.com/blog/post/2023/05/16/new-marketing-mpa-api-requirements-for-facebook-and-instagram-ads-targeting-eu/);
# its full list of territories is on a page it links to, not in the reference. The sandbox uses
# the 27 member states and the French outermost regions that have ISO codes of their own
# (French Guiana, Guadeloupe, Martinique, Réunion, Mayotte, Saint-Martin); the Azores, Madeira
# and the Canary Islands are parts of PT and ES.
EU_MEMBER_STATES: frozenset[str] = frozenset(
    _names(
        """
        AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE
        """
    )
)
EU_ASSOCIATED_TERRITORIES: frozenset[str] = frozenset(_names("GF GP MQ RE YT MF"))
EU_COUNTRIES: frozenset[str] = EU_MEMBER_STATES | EU_ASSOCIATED_TERRITORIES
EU_COUNTRY_GROUPS: frozenset[str] = frozenset({"eu", "europe", "worldwide"})

# Filter operators (filtering parameter, e.g. Ad Account "customaudiences"/"insights" edges).
FILTER_OPERATORS: tuple[str, ...] = (
    "EQUAL",
    "NOT_EQUAL",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
    "IN_RANGE",
    "NOT_IN_RANGE",
    "CONTAIN",
    "NOT_CONTAIN",
    "CONTAINS_ANY",
    "CONTAINS_ALL",
    "NOT_CONTAINS_ANY",
    "STEM_MATCH",
    "IN",
    "NOT_IN",
    "STARTS_WITH",
    "ENDS_WITH",
    "ANY",
    "ALL",
    "AFTER",
    "BEFORE",
    "ON_OR_AFTER",
    "ON_OR_BEFORE",
    "NONE",
    "TOP",
)

UPLOAD_PHASES: tuple[str, ...] = ("start", "transfer", "finish", "cancel")
