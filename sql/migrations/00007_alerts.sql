-- Alerts and incidents (issue 13): rules judged over the rollups, the hysteresis state of every rule ×
-- target, incidents, silences, notification channels and a transactional outbox. The evaluator
-- (src/alerts/evaluator.ts) writes a transition's state, incident and outbox rows in one transaction;
-- the sender (src/alerts/sender.ts) delivers the outbox. Both keep all their state here, so a restart
-- loses nothing and several `pingscope serve` processes on one database may run them side by side.

-- Where notifications go. `config` holds the kind's settings, secrets included (the webhook's HMAC key,
-- Slack's URL, which is its own credential, the SMTP password): the API never returns them in full.
-- lease_owner / lease_until: the sender that is delivering this channel's queue right now. A channel's
-- notifications go out in order, one batch at a time, so one sender at a time holds its queue; a
-- sender that dies mid-delivery loses the lease when it expires (the database's clock decides).
create table if not exists alert_channels (
  id          serial primary key,
  name        text not null unique check (length(name) between 1 and 200),
  kind        text not null constraint alert_channels_kind_check check (kind in ('webhook', 'slack', 'email')),
  config      jsonb not null default '{}',
  enabled     boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  lease_owner text,
  lease_until timestamptz
);

-- A rule: which targets (scope), what condition over which window, how long it must hold to fire
-- (for_s) and be clear to resolve (recover_s). `threshold` is a percentage for loss and milliseconds for
-- latency (met when value >= threshold); an outage has none (met while the target has an open outage).
-- The condition check is named so that a later migration can widen it (path_change, probe_missing):
--   alter table alert_rules drop constraint alert_rules_condition_check,
--     add constraint alert_rules_condition_check check (condition in (…))
-- channel_ids has no foreign key (arrays cannot have one): deleting a channel removes its id from every
-- rule in the same transaction (src/alerts/channels.repo.ts). A rule about one target goes with it.
create table if not exists alert_rules (
  id          serial primary key,
  name        text not null unique check (length(name) between 1 and 200),
  scope       text not null check (scope in ('target', 'tag', 'all')),
  target_id   int references targets (id) on delete cascade,
  tag         text,
  condition   text not null constraint alert_rules_condition_check
                check (condition in ('outage', 'loss', 'latency_p95', 'latency_p50')),
  threshold   double precision check (threshold >= 0),
  window_s    int not null default 300 check (window_s between 60 and 86400),
  for_s       int not null default 60 check (for_s between 0 and 86400),
  recover_s   int not null default 120 check (recover_s between 0 and 86400),
  severity    text not null default 'warning' check (severity in ('critical', 'warning', 'info')),
  -- Muted: still evaluated and incidents still recorded, no notification (like a silence on the rule).
  muted       boolean not null default false,
  channel_ids int[] not null default '{}',
  created_by  text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  check ((scope = 'target') = (target_id is not null)),
  check ((scope = 'tag') = (tag is not null)),
  check ((condition = 'outage') or threshold is not null)
);

-- One row per incident: a rule × target that fired, until it resolved. The rule's and the target's
-- names are copied in, so the history stays readable after either is deleted (as events do); the
-- target has no foreign key for the same reason.
-- `notified`: its fire notification was queued. False while a silence or the rule's mute holds it; the
-- evaluator queues it once neither applies any more, if the incident is still open. A resolve is
-- notified only when its fire was.
create table if not exists incidents (
  id              serial primary key, -- int4, as every id the API takes
  rule_id         int references alert_rules (id) on delete set null,
  rule_name       text not null,
  condition       text not null,
  severity        text not null,
  threshold       double precision,
  target_id       int not null,
  target_address  text not null,
  target_name     text,
  started_at      timestamptz not null, -- when the condition began to hold
  fired_at        timestamptz not null, -- when it had held for for_s
  ended_at        timestamptz,          -- when it stopped holding (null while open)
  end_reason      text check (end_reason in ('recovered', 'out_of_scope', 'rule_deleted')),
  peak            double precision,
  notified        boolean not null default false,
  acknowledged_by text,
  acknowledged_at timestamptz,
  -- [{"at": …, "by": …, "text": …}], appended by POST /incidents/{id}/notes.
  notes           jsonb not null default '[]',
  check (ended_at is null or ended_at >= started_at)
);
-- One open incident per rule × target, whatever two evaluators race to do.
create unique index if not exists incidents_one_open_idx on incidents (rule_id, target_id) where ended_at is null;
create index if not exists incidents_started_idx on incidents (started_at desc);
create index if not exists incidents_target_started_idx on incidents (target_id, started_at desc);

-- The hysteresis state (src/alerts/hysteresis.ts) of every rule × target that is not 'ok' (no row =
-- ok), so evaluation survives restarts. `version` makes every write conditional on the state the
-- evaluator read: a second evaluator that moved it first wins, the other's transaction rolls back.
-- No foreign key to targets: the evaluator closes the incident of a target that left the rule's scope
-- (deleted, paused, retagged) and then drops the row.
create table if not exists alert_state (
  rule_id     int not null references alert_rules (id) on delete cascade,
  target_id   int not null,
  phase       text not null check (phase in ('pending', 'firing', 'recovering')),
  since       timestamptz not null,
  started_at  timestamptz,
  peak        double precision,
  incident_id int references incidents (id) on delete set null,
  version     int not null default 1,
  primary key (rule_id, target_id)
);

-- Maintenance windows: by target or by tag, [starts_at, ends_at). While one covers a target its
-- incidents are recorded and its notifications held (see incidents.notified).
create table if not exists silences (
  id         serial primary key,
  target_id  int references targets (id) on delete cascade,
  tag        text,
  starts_at  timestamptz not null,
  ends_at    timestamptz not null,
  reason     text not null check (length(reason) between 1 and 2000),
  created_by text,
  created_at timestamptz not null default now(),
  check ((target_id is null) <> (tag is null)),
  check (ends_at > starts_at)
);
create index if not exists silences_ends_idx on silences (ends_at);

-- The transactional outbox: one row per notification per channel, written in the transaction that
-- made the state change, so a change is never lost and never announced without having happened.
-- dedupe_key ('incident:<id>:<fire|resolve>:channel:<id>') makes a second insert of the same
-- notification a no-op. The sender delivers rows in id order per channel, several due rows created
-- within a minute of the oldest as one notification, and records every attempt; after a failure the
-- row waits until next_attempt_at (exponential backoff); it is given up (failed_at) after a day.
-- created_at and next_attempt_at are the evaluator's clock, like every time the sender compares.
create table if not exists notification_outbox (
  id              bigserial primary key,
  channel_id      int not null references alert_channels (id) on delete cascade,
  incident_id     int references incidents (id) on delete set null,
  transition      text not null check (transition in ('fire', 'resolve')),
  dedupe_key      text not null unique,
  payload         jsonb not null,
  attempts        int not null default 0,
  next_attempt_at timestamptz not null,
  delivered_at    timestamptz,
  failed_at       timestamptz,
  last_error      text,
  created_at      timestamptz not null
);
-- The sender's one question, every second: the oldest undelivered row of each channel.
create index if not exists notification_outbox_pending_idx on notification_outbox (channel_id, id)
  where delivered_at is null and failed_at is null;
create index if not exists notification_outbox_incident_idx on notification_outbox (incident_id);
