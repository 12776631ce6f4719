-- Switchyard's schema, version 1.
--
-- Ids are UUIDv7 (uuid): id order is time order. Times are bigint Unix
-- nanoseconds, NULL for none. json columns hold documents read and written
-- whole. Secrets are sealed (AES-256-GCM) in bytea columns. claimed_by and
-- lease_until are for the cluster's claims (FOR UPDATE SKIP LOCKED with a
-- lease); nothing sets them yet.

-- Providers and functions, with every saved version of their scripts.

CREATE TABLE providers (
	id uuid PRIMARY KEY,
	name text NOT NULL,
	description text NOT NULL,
	sequence integer NOT NULL,
	active boolean NOT NULL,
	match_script text NOT NULL,
	properties json,
	secrets bytea, -- sealed JSON object, name -> value; NULL when none
	match_timeout_ms integer NOT NULL,
	version integer NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);

CREATE TABLE provider_versions (
	provider_id uuid NOT NULL REFERENCES providers ON DELETE CASCADE,
	version integer NOT NULL,
	script text NOT NULL,
	saved_at bigint NOT NULL,
	PRIMARY KEY (provider_id, version)
);

CREATE TABLE functions (
	id uuid PRIMARY KEY,
	name text NOT NULL,
	description text NOT NULL,
	provider_id uuid NOT NULL REFERENCES providers,
	uri text NOT NULL,
	active boolean NOT NULL,
	script text NOT NULL,
	timeout_ms integer NOT NULL,
	version integer NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);
CREATE INDEX functions_provider ON functions (provider_id);

CREATE TABLE function_versions (
	function_id uuid NOT NULL REFERENCES functions ON DELETE CASCADE,
	version integer NOT NULL,
	script text NOT NULL,
	saved_at bigint NOT NULL,
	PRIMARY KEY (function_id, version)
);

-- Messages: the request's metadata and, once processed, its outcome.
-- Bodies and processing details live apart, so lists never read them.

CREATE TABLE messages (
	id uuid PRIMARY KEY,
	received_at bigint,
	method text NOT NULL,
	uri text NOT NULL,
	headers json,
	query json,
	remote_addr text NOT NULL,
	remote_host text NOT NULL,
	content_type text NOT NULL,
	size integer NOT NULL,
	resubmit_of text NOT NULL,
	status text NOT NULL,
	provider_id text NOT NULL DEFAULT '',
	provider_name text NOT NULL DEFAULT '',
	provider_version integer NOT NULL DEFAULT 0,
	summary text NOT NULL DEFAULT '',
	completed_at bigint,
	duration_ms double precision NOT NULL DEFAULT 0,
	claimed_by text,
	lease_until timestamptz
);
-- The queue: PENDING messages in id order (a claim scans it, checking
-- each row's lease). It also serves the list filter status=PENDING.
CREATE INDEX messages_pending ON messages (id) WHERE status = 'PENDING';
-- The other list filters, each in id order so a page is an index range.
-- Status and provider are indexed once a message is processed: ingest
-- writes no entry into either.
CREATE INDEX messages_status ON messages (status, id) WHERE status <> 'PENDING';
CREATE INDEX messages_provider ON messages (provider_id, id) WHERE provider_id <> '';
CREATE INDEX messages_uri ON messages (uri, id);

-- A message's body, and its processing details, are deleted with it by
-- the statement that purges it: no foreign key, whose check would cost
-- every ingest a trigger and an index probe.
CREATE TABLE payloads (
	message_id uuid PRIMARY KEY,
	body bytea NOT NULL
);
-- Bodies are compressed with lz4 where the server has it (PostgreSQL 14
-- and later, built with it): several times cheaper than the default pglz.
DO $$
BEGIN
	IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') THEN
		ALTER TABLE payloads ALTER COLUMN body SET COMPRESSION lz4;
	END IF;
END
$$;

CREATE TABLE message_details (
	message_id uuid PRIMARY KEY,
	logs json,
	executions json
);

-- DEDUPE keys.

CREATE TABLE seen (
	key bytea PRIMARY KEY,
	expires_at bigint NOT NULL
);
CREATE INDEX seen_expiry ON seen (expires_at);

-- Outbound: endpoints, events, deliveries and their attempts.

CREATE TABLE endpoints (
	id uuid PRIMARY KEY,
	name text NOT NULL,
	description text NOT NULL,
	url text NOT NULL,
	method text NOT NULL,
	enabled boolean NOT NULL,
	disabled_reason text NOT NULL,
	failing_since bigint,
	consecutive_failures integer NOT NULL,
	event_types json,
	headers json, -- the headers whose values are not secret
	secret_headers json,
	auth_type text NOT NULL,
	auth_username text NOT NULL,
	body_template text NOT NULL,
	msg_key text NOT NULL,
	extra_body json,
	timeout_ms integer NOT NULL,
	retry_max_attempts integer NOT NULL,
	retry_interval_ms integer NOT NULL,
	retry_backoff text NOT NULL,
	verify_type text NOT NULL,
	verify_value text NOT NULL,
	language text NOT NULL,
	concurrency integer NOT NULL,
	rate_limit double precision NOT NULL,
	auto_disable_failing_for_hours integer NOT NULL,
	auto_disable_consecutive_failures integer NOT NULL,
	-- sealed: auth password and token, signing secrets, secret header
	-- and cookie values
	secrets bytea,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);

CREATE TABLE events (
	id uuid PRIMARY KEY,
	type text NOT NULL,
	time bigint,
	title text NOT NULL,
	sub_title text NOT NULL,
	message text NOT NULL,
	logo text NOT NULL,
	image text NOT NULL,
	data json,
	source text NOT NULL
);

-- No foreign key to events: a purge takes deliveries and events by the
-- time in their own ids.
CREATE TABLE deliveries (
	id uuid PRIMARY KEY,
	event_id uuid NOT NULL,
	event_type text NOT NULL,
	endpoint_id uuid,
	-- Lanes sort byte by byte, whatever the database's collation.
	lane text COLLATE "C" NOT NULL,
	callback json, -- a callback's request, its secrets left out
	callback_secrets bytea, -- sealed
	status text NOT NULL,
	attempt_count integer NOT NULL,
	base integer NOT NULL,
	next_at bigint,
	last_status integer NOT NULL,
	last_error text NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	claimed_by text,
	lease_until timestamptz
);
-- The outbound queue: each lane's PENDING deliveries, earliest due first.
CREATE INDEX deliveries_due ON deliveries (lane, next_at, id) WHERE status = 'PENDING';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_status ON deliveries (status, id);

CREATE TABLE attempts (
	delivery_id uuid NOT NULL REFERENCES deliveries ON DELETE CASCADE,
	n integer NOT NULL,
	at bigint NOT NULL,
	status integer NOT NULL,
	latency_ms double precision NOT NULL,
	response bytea NOT NULL, -- the first 16 KiB of the answer, as sent
	error text NOT NULL,
	PRIMARY KEY (delivery_id, n)
);

CREATE TABLE settings (
	name text PRIMARY KEY,
	value bytea NOT NULL
);

-- Users, their API tokens and sessions, and the audit log.

CREATE TABLE users (
	id uuid PRIMARY KEY,
	name text NOT NULL,
	-- The name lower-cased (by Go's strings.ToLower): names are unique
	-- whatever their case.
	name_key text NOT NULL CONSTRAINT users_name_unique UNIQUE,
	display_name text NOT NULL,
	role text NOT NULL,
	disabled boolean NOT NULL,
	password_hash text NOT NULL, -- argon2id, PHC form
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	last_login_at bigint
);

CREATE TABLE tokens (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	name text NOT NULL,
	prefix text NOT NULL,
	hash bytea NOT NULL CONSTRAINT tokens_hash_unique UNIQUE, -- SHA-256 of the token
	created_at bigint NOT NULL,
	expires_at bigint,
	last_used_at bigint
);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE sessions (
	id text COLLATE "C" PRIMARY KEY, -- SHA-256 (hex) of the cookie's secret
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	csrf text NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit (
	id uuid PRIMARY KEY,
	time bigint NOT NULL,
	actor text NOT NULL,
	user_id text NOT NULL,
	action text NOT NULL,
	target text NOT NULL,
	detail text NOT NULL,
	ip text NOT NULL
);
