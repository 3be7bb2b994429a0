-- updated_at follows every change to a target, whichever process makes it (API, CLI, psql): the
-- scheduler's change detection relies on it.
create or replace function pingscope_touch_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end
$$;

drop trigger if exists targets_touch_updated_at on targets;
create trigger targets_touch_updated_at before update on targets
  for each row execute function pingscope_touch_updated_at();
