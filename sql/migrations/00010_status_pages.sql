-- Public status pages (issue 14): one per target tag, opt-in like the badges. A tag has no public page
-- until an admin creates its row (PUT /status-pages/{tag}); the page shows the targets that carry the
-- tag when it is read, so no target list is kept here. Deleting the row unpublishes the page.
create table if not exists status_pages (
  tag         text primary key check (length(tag) between 1 and 50),
  title       text not null check (length(title) between 1 and 200),
  description text check (length(description) <= 2000),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
