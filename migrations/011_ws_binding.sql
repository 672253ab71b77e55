-- Binding tokens of the websocket channel (Subscriptions R5 Backport IG 1.1.0, channels.html
-- "Websockets", and OperationDefinition backport-subscription-get-ws-binding-token). A token is
-- issued by $get-ws-binding-token and presented on a websocket as `bind-with-token <token>`.
-- Only its SHA-256 (hex) is stored: a leaked table (or backup) binds nothing. Kept in the
-- database, not in one instance's memory, so a client may connect to any instance.
CREATE TABLE ws_binding_tokens (
  token_sha256     text COLLATE "C" PRIMARY KEY,
  -- The Subscriptions the token binds (each with channel type websocket when it was issued).
  subscription_ids text[] NOT NULL,
  -- The token is accepted until then, and the bindings made with it end then.
  expires_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Expired tokens are deleted by range whenever a new one is issued.
CREATE INDEX ws_binding_tokens_expires ON ws_binding_tokens (expires_at);
