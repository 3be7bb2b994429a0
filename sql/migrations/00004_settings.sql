-- Small key/value settings pingscope keeps for itself (e.g. the JWT signing secret generated on first
-- start when JWT_SECRET is not configured outside production).
create table if not exists app_settings (
  key        text primary key,
  value      text not null,
  created_at timestamptz not null default now()
);
