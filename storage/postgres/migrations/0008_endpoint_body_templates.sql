-- An endpoint's body templates by language (body_templates): a JSON object
-- of language code to template; JSON null when it has none.
ALTER TABLE endpoints ADD COLUMN body_templates json;
