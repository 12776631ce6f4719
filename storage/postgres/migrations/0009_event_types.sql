-- The outbound catalogue: declared event types, by name. example and
-- schema are JSON objects, NULL when absent. A change is a change of the
-- endpoints' kind: the engine that enforces the schemas reloads with the
-- endpoints.
CREATE TABLE event_types (
	type text PRIMARY KEY,
	kind text NOT NULL,
	description text NOT NULL,
	example json,
	schema json,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);

CREATE TRIGGER event_types_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_types
	FOR EACH STATEMENT EXECUTE FUNCTION switchyard_changed('endpoints');
