-- A user's credential version, stamped in every JWT issued to them (claim `cv`) and compared on every
-- request: bumping it (password change, role change, disable) makes every JWT issued before refused at
-- once, instead of staying valid until it expires. API tokens are revoked one by one and are not tied
-- to it. Read with the user's row by primary key, so the check costs no extra query.
alter table users add column if not exists credential_version int not null default 0;
