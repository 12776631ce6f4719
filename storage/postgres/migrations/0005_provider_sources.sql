-- A provider's allowed sources: CIDRs, normalised by the server; an
-- empty array allows every address.
ALTER TABLE providers ADD COLUMN allowed_sources text[] NOT NULL DEFAULT '{}';
