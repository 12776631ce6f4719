-- How an endpoint reaches its receiver: an HTTP(S) proxy URL without its
-- password ('' for none), the TLS settings without the client key (a JSON
-- object of ca_pem, client_cert_pem, server_name; NULL for none), and the
-- OAuth 2.0 client credentials auth without the client secret (a JSON
-- object of token_url, client_id, scopes; NULL for none). The proxy
-- password, the client key and the client secret are sealed with the
-- other secrets (secrets).
ALTER TABLE endpoints
	ADD COLUMN proxy text NOT NULL DEFAULT '',
	ADD COLUMN tls json,
	ADD COLUMN auth_oauth2 json;
