-- migrate:no-transaction
-- Sites (vantage points, issue 12). A probe process belongs to one site (PROBE_SITE, default 'default');
-- every sample and outage now says which site measured it. Targets list the sites that probe them
-- (null: every site). The tiers samples_1m / samples_1h stay as they are, all sites combined, with
-- their history: a continuous aggregate's query cannot change. Two new tiers, samples_site_1m and
-- samples_site_1h, hold the same columns per target AND site, for the per-site views; their policies
-- mirror the combined tiers' (src/db/maintenance/policies.ts keeps both in step with the retention
-- settings). Every statement is safe to re-run after an interruption. Keep semicolons out of comments.

create table if not exists sites (
  id         smallserial primary key,
  name       text not null unique check (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  created_at timestamptz not null default now()
);
insert into sites (id, name) values (1, 'default') on conflict do nothing;
select setval(pg_get_serial_sequence('sites', 'id'), greatest(1, (select max(id) from sites)));

-- The sites that probe a target: null = every site (the default), else a non-empty list of names.
alter table targets add column if not exists sites text[] check (sites is null or cardinality(sites) between 1 and 32);

-- Existing samples were all measured by the one site there was.
alter table samples add column if not exists site_id smallint not null default 1;
-- Two sites may probe one target at the same microsecond: the key of a sample includes its site (a
-- retried batch still never lands twice). Built before the old one is dropped, so it is never missing.
create unique index if not exists samples_target_site_time_seq_idx on samples (target_id, site_id, time desc, seq);
drop index if exists samples_target_time_seq_idx;
-- One compressed segment per target and site, as one per target before: the uniqueness check on a
-- compressed chunk stays inside one segment. Applies to chunks compressed from now on.
alter table samples set (timescaledb.compress_segmentby = 'target_id, site_id');

alter table outages add column if not exists site text not null default 'default';
create unique index if not exists outages_one_open_site_idx on outages (target_id, site) where ended_at is null;
drop index if exists outages_one_open_idx;

-- Per-site tiers. Same columns and histogram bins as samples_1m / samples_1h (00002_rollups.sql),
-- plus site_id.
create materialized view if not exists samples_site_1m
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select
  time_bucket('1 minute', time) as bucket,
  target_id,
  site_id,
  count(*)::int as sent,
  count(rtt_us)::int as received,
  count(*) filter (where status = 1)::int as timeouts,
  count(*) filter (where status = 2)::int as unreachable,
  count(*) filter (where status = 3)::int as errors,
  min(rtt_us) as rtt_min,
  max(rtt_us) as rtt_max,
  sum(rtt_us)::bigint as rtt_sum,
  sum(rtt_us::double precision * rtt_us) as rtt_sumsq,
  count(jitter_us)::int as jitter_count,
  sum(jitter_us)::bigint as jitter_sum,
  max(jitter_us) as jitter_max,
  min(ttl) as ttl_min,
  max(ttl) as ttl_max,
  count(*) filter (where rtt_us < 32)::int as h00,
  count(*) filter (where rtt_us >= 32 and rtt_us < 40)::int as h01,
  count(*) filter (where rtt_us >= 40 and rtt_us < 51)::int as h02,
  count(*) filter (where rtt_us >= 51 and rtt_us < 64)::int as h03,
  count(*) filter (where rtt_us >= 64 and rtt_us < 81)::int as h04,
  count(*) filter (where rtt_us >= 81 and rtt_us < 102)::int as h05,
  count(*) filter (where rtt_us >= 102 and rtt_us < 128)::int as h06,
  count(*) filter (where rtt_us >= 128 and rtt_us < 161)::int as h07,
  count(*) filter (where rtt_us >= 161 and rtt_us < 203)::int as h08,
  count(*) filter (where rtt_us >= 203 and rtt_us < 256)::int as h09,
  count(*) filter (where rtt_us >= 256 and rtt_us < 323)::int as h10,
  count(*) filter (where rtt_us >= 323 and rtt_us < 406)::int as h11,
  count(*) filter (where rtt_us >= 406 and rtt_us < 512)::int as h12,
  count(*) filter (where rtt_us >= 512 and rtt_us < 645)::int as h13,
  count(*) filter (where rtt_us >= 645 and rtt_us < 813)::int as h14,
  count(*) filter (where rtt_us >= 813 and rtt_us < 1024)::int as h15,
  count(*) filter (where rtt_us >= 1024 and rtt_us < 1290)::int as h16,
  count(*) filter (where rtt_us >= 1290 and rtt_us < 1625)::int as h17,
  count(*) filter (where rtt_us >= 1625 and rtt_us < 2048)::int as h18,
  count(*) filter (where rtt_us >= 2048 and rtt_us < 2580)::int as h19,
  count(*) filter (where rtt_us >= 2580 and rtt_us < 3251)::int as h20,
  count(*) filter (where rtt_us >= 3251 and rtt_us < 4096)::int as h21,
  count(*) filter (where rtt_us >= 4096 and rtt_us < 5161)::int as h22,
  count(*) filter (where rtt_us >= 5161 and rtt_us < 6502)::int as h23,
  count(*) filter (where rtt_us >= 6502 and rtt_us < 8192)::int as h24,
  count(*) filter (where rtt_us >= 8192 and rtt_us < 10321)::int as h25,
  count(*) filter (where rtt_us >= 10321 and rtt_us < 13004)::int as h26,
  count(*) filter (where rtt_us >= 13004 and rtt_us < 16384)::int as h27,
  count(*) filter (where rtt_us >= 16384 and rtt_us < 20643)::int as h28,
  count(*) filter (where rtt_us >= 20643 and rtt_us < 26008)::int as h29,
  count(*) filter (where rtt_us >= 26008 and rtt_us < 32768)::int as h30,
  count(*) filter (where rtt_us >= 32768 and rtt_us < 41285)::int as h31,
  count(*) filter (where rtt_us >= 41285 and rtt_us < 52016)::int as h32,
  count(*) filter (where rtt_us >= 52016 and rtt_us < 65536)::int as h33,
  count(*) filter (where rtt_us >= 65536 and rtt_us < 82570)::int as h34,
  count(*) filter (where rtt_us >= 82570 and rtt_us < 104032)::int as h35,
  count(*) filter (where rtt_us >= 104032 and rtt_us < 131072)::int as h36,
  count(*) filter (where rtt_us >= 131072 and rtt_us < 165140)::int as h37,
  count(*) filter (where rtt_us >= 165140 and rtt_us < 208064)::int as h38,
  count(*) filter (where rtt_us >= 208064 and rtt_us < 262144)::int as h39,
  count(*) filter (where rtt_us >= 262144 and rtt_us < 330281)::int as h40,
  count(*) filter (where rtt_us >= 330281 and rtt_us < 416128)::int as h41,
  count(*) filter (where rtt_us >= 416128 and rtt_us < 524288)::int as h42,
  count(*) filter (where rtt_us >= 524288 and rtt_us < 660561)::int as h43,
  count(*) filter (where rtt_us >= 660561 and rtt_us < 832255)::int as h44,
  count(*) filter (where rtt_us >= 832255 and rtt_us < 1048576)::int as h45,
  count(*) filter (where rtt_us >= 1048576 and rtt_us < 1321123)::int as h46,
  count(*) filter (where rtt_us >= 1321123 and rtt_us < 1664511)::int as h47,
  count(*) filter (where rtt_us >= 1664511 and rtt_us < 2097152)::int as h48,
  count(*) filter (where rtt_us >= 2097152 and rtt_us < 2642246)::int as h49,
  count(*) filter (where rtt_us >= 2642246 and rtt_us < 3329021)::int as h50,
  count(*) filter (where rtt_us >= 3329021 and rtt_us < 4194304)::int as h51,
  count(*) filter (where rtt_us >= 4194304 and rtt_us < 5284492)::int as h52,
  count(*) filter (where rtt_us >= 5284492 and rtt_us < 6658043)::int as h53,
  count(*) filter (where rtt_us >= 6658043 and rtt_us < 8388608)::int as h54,
  count(*) filter (where rtt_us >= 8388608)::int as h55
from samples
group by 1, 2, 3
with no data;

create materialized view if not exists samples_site_1h
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select
  time_bucket('1 hour', bucket) as bucket,
  target_id,
  site_id,
  sum(sent)::int as sent,
  sum(received)::int as received,
  sum(timeouts)::int as timeouts,
  sum(unreachable)::int as unreachable,
  sum(errors)::int as errors,
  min(rtt_min) as rtt_min,
  max(rtt_max) as rtt_max,
  sum(rtt_sum)::bigint as rtt_sum,
  sum(rtt_sumsq) as rtt_sumsq,
  sum(jitter_count)::int as jitter_count,
  sum(jitter_sum)::bigint as jitter_sum,
  max(jitter_max) as jitter_max,
  min(ttl_min) as ttl_min,
  max(ttl_max) as ttl_max,
  sum(h00)::int as h00,
  sum(h01)::int as h01,
  sum(h02)::int as h02,
  sum(h03)::int as h03,
  sum(h04)::int as h04,
  sum(h05)::int as h05,
  sum(h06)::int as h06,
  sum(h07)::int as h07,
  sum(h08)::int as h08,
  sum(h09)::int as h09,
  sum(h10)::int as h10,
  sum(h11)::int as h11,
  sum(h12)::int as h12,
  sum(h13)::int as h13,
  sum(h14)::int as h14,
  sum(h15)::int as h15,
  sum(h16)::int as h16,
  sum(h17)::int as h17,
  sum(h18)::int as h18,
  sum(h19)::int as h19,
  sum(h20)::int as h20,
  sum(h21)::int as h21,
  sum(h22)::int as h22,
  sum(h23)::int as h23,
  sum(h24)::int as h24,
  sum(h25)::int as h25,
  sum(h26)::int as h26,
  sum(h27)::int as h27,
  sum(h28)::int as h28,
  sum(h29)::int as h29,
  sum(h30)::int as h30,
  sum(h31)::int as h31,
  sum(h32)::int as h32,
  sum(h33)::int as h33,
  sum(h34)::int as h34,
  sum(h35)::int as h35,
  sum(h36)::int as h36,
  sum(h37)::int as h37,
  sum(h38)::int as h38,
  sum(h39)::int as h39,
  sum(h40)::int as h40,
  sum(h41)::int as h41,
  sum(h42)::int as h42,
  sum(h43)::int as h43,
  sum(h44)::int as h44,
  sum(h45)::int as h45,
  sum(h46)::int as h46,
  sum(h47)::int as h47,
  sum(h48)::int as h48,
  sum(h49)::int as h49,
  sum(h50)::int as h50,
  sum(h51)::int as h51,
  sum(h52)::int as h52,
  sum(h53)::int as h53,
  sum(h54)::int as h54,
  sum(h55)::int as h55
from samples_site_1m
group by 1, 2, 3
with no data;
select set_chunk_time_interval('samples_site_1m', interval '1 day');

-- The same policies as the combined tiers (see 00002_rollups.sql for why these windows), rewritten from
-- the configured retention by reconcilePolicies.
select add_continuous_aggregate_policy('samples_site_1m',
  start_offset => interval '71 hours', end_offset => interval '1 minute',
  schedule_interval => interval '1 minute', if_not_exists => true);

select add_continuous_aggregate_policy('samples_site_1h',
  start_offset => interval '29 days', end_offset => interval '1 hour',
  schedule_interval => interval '30 minutes', if_not_exists => true);

select alter_job(j.job_id, config => j.config || jsonb_build_object('buckets_per_batch',
         case j.hypertable_name when 'samples_site_1m' then 1440 else 720 end))
from timescaledb_information.jobs j
where j.proc_name = 'policy_refresh_continuous_aggregate'
  and j.hypertable_name in ('samples_site_1m', 'samples_site_1h')
  and exists (select 1 from pg_proc
              where proname = 'add_continuous_aggregate_policy' and 'buckets_per_batch' = any (proargnames));

select add_retention_policy('samples_site_1m', drop_after => interval '30 days', if_not_exists => true);
select add_retention_policy('samples_site_1h', drop_after => interval '1825 days', if_not_exists => true);

alter materialized view samples_site_1m set (timescaledb.compress = true);
select add_compression_policy('samples_site_1m', compress_after => interval '95 hours', if_not_exists => true);

alter materialized view samples_site_1h set (timescaledb.compress = true);
select add_compression_policy('samples_site_1h', compress_after => interval '30 days', if_not_exists => true);
