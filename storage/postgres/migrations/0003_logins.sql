-- Switchyard's schema, version 3: the sign-in limiter shared by every node.
--
-- Failed sign-ins are counted in token buckets (server/loginlimit.go):
-- per address, per name from one address, per name. A bucket has a row
-- only while it counts failures: full_at is when it is full again, and
-- the purge deletes the rows past it, so the table holds no more than the
-- failures of the last few minutes. A row is never deleted before that,
-- so no flood of other keys can make the limiter forget a locked name.
-- Keys are bytes: a name cut to its limit may end inside a character.
-- Times are Unix nanoseconds from the calling node's clock.
CREATE TABLE login_buckets (
	key bytea PRIMARY KEY,
	burst double precision NOT NULL,
	tokens double precision NOT NULL,
	at bigint NOT NULL,
	full_at bigint NOT NULL
);
CREATE INDEX login_buckets_full ON login_buckets (full_at);

-- The addresses each name has signed in from, the last few: a stranger
-- who exhausts a name's allowance locks it for strangers only. A row is
-- written by a successful sign-in alone, that is by someone who knows
-- the password.
CREATE TABLE login_known (
	name_key bytea NOT NULL,
	addr_key bytea NOT NULL,
	at bigint NOT NULL,
	PRIMARY KEY (name_key, addr_key)
);
