-- Switchyard's schema, version 2: many nodes on one database.
--
-- Claims are held by nodes, not rows: messages.claimed_by and
-- deliveries.claimed_by name the node holding the row, and the node's one
-- row in nodes says until when it is live. A heartbeat renews every claim
-- of its node at once; when a lease ends, every claim of that node is free
-- at once. Times compared with the database's clock are timestamptz and
-- set from now(), never from a node's clock.

CREATE TABLE nodes (
	id text COLLATE "C" PRIMARY KEY,
	address text NOT NULL,
	version text NOT NULL,
	started_at bigint,
	last_seen timestamptz NOT NULL,
	lease_until timestamptz NOT NULL
);
-- The live nodes, which every claim reads (a few rows: the index matters
-- for plans with many dead nodes not yet purged, and for the purge).
CREATE INDEX nodes_lease ON nodes (lease_until);

-- A lease per row is not needed: the node's row holds it.
ALTER TABLE messages DROP COLUMN lease_until;
ALTER TABLE deliveries DROP COLUMN lease_until;

-- The deliveries in flight: PENDING and claimed (a few per endpoint at
-- most), which a claim counts per lane against the endpoint's concurrency.
CREATE INDEX deliveries_claimed ON deliveries (lane) WHERE status = 'PENDING' AND claimed_by IS NOT NULL;

-- The rate limits' token buckets, one per endpoint that has a rate limit
-- (once it has been claimed for), apart from endpoints so that spending a
-- token is not a change of the endpoint (see changes below).
CREATE TABLE endpoint_tokens (
	endpoint_id uuid PRIMARY KEY REFERENCES endpoints ON DELETE CASCADE,
	tokens double precision NOT NULL,
	refilled_at timestamptz NOT NULL
);

-- The change feed. Every statement that writes what a node keeps in a
-- cache moves its kind's version and notifies the schema's channel with
-- the kind, in the statement's transaction, through the triggers below:
-- no write path can forget it. A statement that changes no row moves the
-- version too; that only costs a reload.
CREATE TABLE changes (
	kind text PRIMARY KEY,
	version bigint NOT NULL
);
INSERT INTO changes (kind, version) VALUES ('catalogue', 0), ('endpoints', 0), ('access', 0), ('settings', 0);

-- The channel is named after the table's schema, so that installations in
-- other schemas of the database do not hear each other.
CREATE FUNCTION switchyard_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('UPDATE %I.changes SET version = version + 1 WHERE kind = $1', TG_TABLE_SCHEMA) USING TG_ARGV[0];
	PERFORM pg_notify('switchyard_changes_' || left(md5(TG_TABLE_SCHEMA), 16), TG_ARGV[0]);
	RETURN NULL;
END
$$;

CREATE TRIGGER providers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON providers
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('catalogue');
CREATE TRIGGER functions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON functions
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('catalogue');
CREATE TRIGGER endpoints_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON endpoints
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('endpoints');
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('settings');
-- A sign-in time (users.last_login_at) and a token's last use
-- (tokens.last_used_at) are not changes: they are the only columns
-- updated outside these lists.
CREATE TRIGGER users_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, name_key, display_name, role, disabled, password_hash ON users
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('access');
CREATE TRIGGER tokens_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF user_id, name, prefix, hash, expires_at ON tokens
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('access');
CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('access');
