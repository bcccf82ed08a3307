"""A local, stateful stand-in for Meta's Graph API (Marketing API endpoints mojito uses).

stdlib + aiohttp only: nothing of mojito's apps and nothing of the facebook-business SDK is
imported here, so the sandbox cannot agree with the client by construction. See README.md.
"""

from .config import SandboxConfig
from .server import SandboxServer, create_app, seed_demo, serve_forever
from .state import (
    DEMO_ACCOUNT_ID,
    DEMO_ACCOUNT_NAME,
    DEMO_PAGE_ID,
    DEMO_TOKEN,
    SandboxState,
)

__all__ = [
    "DEMO_ACCOUNT_ID",
    "DEMO_ACCOUNT_NAME",
    "DEMO_PAGE_ID",
    "DEMO_TOKEN",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "create_app",
    "seed_demo",
    "serve_forever",
]
