-- Every instance keeps some state in memory (the public catalogue's pages, client registrations)
-- and must drop it when another instance changes what it was read from. Each statement that
-- writes one of these tables notifies the channel `mes_changes` with `<schema>.<table>`; PostgreSQL
-- delivers it to the listening instances when the writing transaction commits, and not at all if
-- it rolls back (core/store/changes.ts). Statement-level: one notification per statement, however
-- many rows it wrote, and identical ones in a transaction are folded into one.
CREATE FUNCTION mes_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mes_changes', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END
$$;

CREATE TRIGGER apps_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON apps
  FOR EACH STATEMENT EXECUTE FUNCTION mes_notify_change();
CREATE TRIGGER publishers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON publishers
  FOR EACH STATEMENT EXECUTE FUNCTION mes_notify_change();
CREATE TRIGGER app_logos_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_logos
  FOR EACH STATEMENT EXECUTE FUNCTION mes_notify_change();
CREATE TRIGGER oauth_clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_clients
  FOR EACH STATEMENT EXECUTE FUNCTION mes_notify_change();
