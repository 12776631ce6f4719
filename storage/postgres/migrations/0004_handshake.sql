-- Switchyard's schema, version 4: a provider's optional handshake script,
-- run for every request before anything is recorded (a sender's URL
-- verification). Providers saved before it have none.
ALTER TABLE providers ADD COLUMN handshake_script text NOT NULL DEFAULT '';
