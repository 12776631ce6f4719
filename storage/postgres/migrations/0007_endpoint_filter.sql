-- An endpoint's filter (package notify/filter): a JSON object of dotted
-- paths into the event; JSON null when it has none. (Not named "filter",
-- a keyword of SQL.)
ALTER TABLE endpoints ADD COLUMN event_filter json;
