"""Meta's rules for creating campaigns, ad sets, creatives and ads, as tables.

Allowed values come from the facebook-business SDK's enum classes, so an SDK upgrade brings
Meta's new values with it. The tables here hold only what the SDK does not know: which values
are still accepted at creation time, what Meta removed since, and how fields depend on each
other. Each one names the Meta page it follows (developers.facebook.com/docs/marketing-api/
unless a full address is given); platforms/meta/README.md lists them with the version that
brought them and the test that proves each.

One module per level; everything is read as `rules.<NAME>`, whatever module holds it.
"""

# The package is its tables: every module's names, as one namespace.
from platforms.meta.rules.ad_set import *  # noqa: F403
from platforms.meta.rules.campaign import *  # noqa: F403
from platforms.meta.rules.creative import *  # noqa: F403
from platforms.meta.rules.sdk import *  # noqa: F403
from platforms.meta.rules.targeting import *  # noqa: F403
