"""Events other apps react to without adaccounts knowing them (campaigns listens)."""

from django.dispatch import Signal

# Sent (after commit) when an ad account becomes ACTIVE again, e.g. new credentials verified:
# its waiting jobs can run now. Arguments: account_id.
ad_account_reactivated = Signal()

# Sent (after commit) when an ad account is soft-deleted: it can take no new jobs, and the
# ones still waiting will never run. Arguments: account_id.
ad_account_deleted = Signal()
