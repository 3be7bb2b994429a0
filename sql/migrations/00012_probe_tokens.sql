-- Remote probe agents (issue 12): `pingscope probe --server URL --token pst_…` probes from a site that
-- holds no database credentials. It authenticates with an API token of scope 'probe', which posts for
-- one site and may use the /probe/* routes only (src/auth/auth.plugin.ts enforces it for every route).

-- null: the token carries its user's own rights (as before). 'probe': /probe/* only, for `site`.
alter table api_tokens add column if not exists scope text check (scope in ('probe'));
-- The site a probe token heartbeats and posts samples for (sites.name's rule; the site row is added at
-- the agent's first heartbeat).
alter table api_tokens add column if not exists site text check (site ~ '^[a-z0-9][a-z0-9._-]{0,63}$');
alter table api_tokens add constraint api_tokens_probe_site_check check ((scope = 'probe') = (site is not null));

-- Sample batches an agent posted, by the id the agent gave the batch before it first tried to send it:
-- a retried batch (its answer lost, the agent restarted) is recognised and not applied twice. Rows are
-- kept 7 days (deleted by POST /probe/samples itself, src/agent/agent.repo.ts); a batch retried later
-- than that still adds no sample twice (samples' unique key), only its outage events would repeat.
create table if not exists probe_batches (
  batch_id    uuid primary key,
  -- the probe token that posted it (null once the token row is gone)
  token_id    int references api_tokens (id) on delete set null,
  site        text not null,
  received_at timestamptz not null default now(),
  -- samples in the batch, and how many of them were new
  rows        int not null,
  stored      int not null
);
create index if not exists probe_batches_received_idx on probe_batches (received_at);
