"""The audit trail: who changed what, when, on ad accounts, jobs and live objects.

One append-only table (`audit_events`): the model refuses updates and deletes, and on
PostgreSQL (and SQLite) a trigger refuses them too. Every event is written in the transaction
of the change it records, so the trail holds what committed, no more and no less.

Actions (`<object_type>.<verb>`):

- `ad_account.created`, `ad_account.updated` (the changed fields), `ad_account.deleted` (soft),
  `ad_account.status_changed` (a verify, or a worker's dead-token answer),
  `ad_account.credentials_reencrypted` (a key rotation: same credentials, new key);
- `job.created` (a submission, a change, an archive, additions, an import), `job.cancelled`,
  `job.retried`, `job.finished` (SUCCESS, FAILED or PARTIAL_SUCCESS, by a worker or the
  sweeper);
- `campaign.updated`, `ad_set.updated`, `ad.updated`: a change Meta accepted, recorded when it
  accepted it, with the user who asked for it; `campaign.archived`, `ad_set.archived`,
  `ad.archived` for an ARCHIVE job's change;
- `campaign.synced`, `ad_set.synced`, `ad.synced`: what a sync read back changed (Meta's
  effective status, review feedback), by the system;
- `team.updated`: a team's settings (its webhook).

A credential never appears: `changes` says only that it was set or changed (`CREDENTIALS_SET`,
`CREDENTIALS_CHANGED`), never a value or any part of one.
"""
