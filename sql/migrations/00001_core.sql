-- Schema v1: targets, the samples hypertable, and the plain tables around them.
-- Runs inside one transaction. Timestamps are timestamptz, durations carry their unit in the name.

-- Normally already created by whoever opened the database (the embedded engine does it first thing);
-- here too so that a fresh server database needs nothing done by hand.
create extension if not exists timescaledb;

create table if not exists targets (
  id           serial primary key,
  -- Normalised IPv4/IPv6 text (what the API stores after parsing), or a hostname.
  address      text not null unique,
  name         text,
  tags         text[] not null default '{}',
  interval_s   int not null default 1 check (interval_s between 1 and 3600),
  packets      smallint not null default 1 check (packets between 1 and 20),
  timeout_ms   int not null default 1000 check (timeout_ms between 100 and 10000),
  enabled      boolean not null default true,
  url          text,
  notes        text check (length(notes) <= 2000),
  badge_public boolean not null default false,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
create index if not exists targets_tags_idx on targets using gin (tags);

-- One row per echo. No foreign key to targets: an FK check costs a lookup per inserted row on the
-- hottest path, and a target's samples are deleted by the service when the target is.
create table if not exists samples (
  time      timestamptz not null,
  target_id int not null,
  seq       smallint not null default 0 check (seq >= 0), -- echo number within its round
  rtt_us    int check (rtt_us >= 0),                     -- null = lost
  ttl       smallint,
  jitter_us int check (jitter_us >= 0),                  -- |rtt - previous reply's rtt|; null when lost or first
  status    smallint not null default 0 check (status between 0 and 3), -- 0 ok, 1 timeout, 2 unreachable, 3 error
  reporter  inet                                         -- router that reported unreachable
);
select create_hypertable('samples', by_range('time', interval '1 day'), if_not_exists => true);
-- Retried write batches use `insert ... on conflict do nothing`, so a batch can never land twice.
create unique index if not exists samples_target_time_seq_idx on samples (target_id, time desc, seq);
-- seq is in the orderby so the uniqueness check on a compressed chunk can stay inside one segment batch.
alter table samples set (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'target_id',
  timescaledb.compress_orderby = 'time desc, seq'
);

-- Lifecycle and incident log. target_id has no foreign key on purpose: the events of a deleted target
-- (its 'deleted' event included) are the audit trail and outlive it; `data` keeps a snapshot of the
-- target (address, name) so they stay readable.
create table if not exists events (
  id         bigserial primary key,
  target_id  int,
  type       text not null, -- created, updated, deleted, start, stop, outage_open, outage_close, path_change, ...
  message    text not null,
  actor      text,
  data       jsonb,
  created_at timestamptz not null default now()
);
create index if not exists events_target_created_idx on events (target_id, created_at desc);
create index if not exists events_created_idx on events (created_at desc);

-- Outages and traceroutes are measurements of a target: they go with it.
create table if not exists outages (
  id          bigserial primary key,
  target_id   int not null references targets (id) on delete cascade,
  started_at  timestamptz not null,
  ended_at    timestamptz, -- null while open
  lost_rounds int not null default 0 check (lost_rounds >= 0),
  cause       text,
  check (ended_at is null or ended_at >= started_at)
);
create index if not exists outages_target_started_idx on outages (target_id, started_at desc);
-- At most one open outage per target, whatever races the scheduler has.
create unique index if not exists outages_one_open_idx on outages (target_id) where ended_at is null;

create table if not exists traceroutes (
  id          bigserial primary key,
  target_id   int not null references targets (id) on delete cascade,
  started_at  timestamptz not null,
  finished_at timestamptz,
  duration_ms double precision,
  max_hops    smallint not null check (max_hops between 1 and 64),
  hops        jsonb not null default '[]',
  hop_count   int not null default 0,
  reached     boolean not null default false,
  path_hash   text, -- hash of the responding hop addresses: a change is a path_change event
  actor       text
);
create index if not exists traceroutes_target_started_idx on traceroutes (target_id, started_at desc);

create table if not exists users (
  id            serial primary key,
  username      text not null unique,
  password_hash text not null,
  role          text not null default 'viewer' check (role in ('admin', 'viewer')),
  disabled      boolean not null default false,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
-- Usernames are case-insensitive (citext without the extension): look them up with lower(username).
create unique index if not exists users_username_lower_idx on users (lower(username));

create table if not exists api_tokens (
  id           serial primary key,
  user_id      int not null references users (id) on delete cascade,
  name         text not null,
  token_hash   text not null unique,
  prefix       text not null, -- first characters of the token, shown in listings
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz
);
create index if not exists api_tokens_user_idx on api_tokens (user_id);

-- pingscope's own policy-job log: the embedded engine has no background workers, so
-- timescaledb_information.job_stats and job_history stay empty there.
create table if not exists job_runs (
  id          bigserial primary key,
  job_id      int not null,
  job_name    text not null,
  started_at  timestamptz not null,
  finished_at timestamptz,
  ok          boolean,
  error       text
);
create index if not exists job_runs_job_started_idx on job_runs (job_id, started_at desc);
