-- Path history (issue 14): a target may have its traceroute run on a schedule, with several probes per
-- hop (`queries`) so that each hop's loss and round trips are kept (traceroutes.hops[].sent, rtts_ms).
-- Every `pingscope serve` runs due schedules; a due one is claimed by moving next_run_at forward in the
-- claiming statement (`for update skip locked`), so each run happens once in a fleet.
create table if not exists traceroute_schedules (
  target_id   int primary key references targets (id) on delete cascade,
  interval_s  int not null check (interval_s between 60 and 86400),
  max_hops    smallint not null default 30 check (max_hops between 1 and 64),
  queries     smallint not null default 3 check (queries between 1 and 10),
  next_run_at timestamptz not null default now(),
  last_run_at timestamptz,
  last_error  text,
  created_by  text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create index if not exists traceroute_schedules_due_idx on traceroute_schedules (next_run_at);
