-- Idempotency keys of POST /events: a SHA-256 of the request that used
-- the key, the event it made and the answer it gave, written in the
-- transaction that writes the event and its deliveries. No foreign key
-- to events: a record outlives its event if retention purges that first.
CREATE TABLE event_idempotency (
	key bytea PRIMARY KEY,
	body_hash bytea NOT NULL,
	event_id uuid NOT NULL,
	response json NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX event_idempotency_expiry ON event_idempotency (expires_at);
