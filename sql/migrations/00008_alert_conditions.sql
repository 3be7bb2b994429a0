-- Two more alert conditions (issue 13): path_change (the target's traceroute path changed at least
-- `threshold` times within the window; threshold defaults to 1) and probe_missing (no live probe holds
-- the target's lease: its probe stopped heartbeating and no other took it over; no threshold, like
-- outage). The checks of 00007 are replaced; the threshold check was unnamed, so it is found by its text.
do $$
declare c record;
begin
  for c in
    select conname from pg_constraint
    where conrelid = 'alert_rules'::regclass and contype = 'c'
      and (conname = 'alert_rules_condition_check' or pg_get_constraintdef(oid) like '%''outage''%threshold IS NOT NULL%')
  loop
    execute format('alter table alert_rules drop constraint %I', c.conname);
  end loop;
end
$$;

alter table alert_rules
  add constraint alert_rules_condition_check
    check (condition in ('outage', 'loss', 'latency_p95', 'latency_p50', 'path_change', 'probe_missing')),
  add constraint alert_rules_threshold_needed_check
    check ((condition in ('outage', 'probe_missing')) = (threshold is null));
