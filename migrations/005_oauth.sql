-- State of the SMART authorization server (src/smart/): everything oidc-provider persists (clients,
-- grants, sessions, interactions, authorization codes, access and refresh tokens, replay markers)
-- plus the server's own signing keys and the SMART launch contexts. Nothing lives in process memory,
-- so a token issued by one instance is honoured by every other instance on the same database.
CREATE TABLE oauth_models (
  kind        text NOT NULL,
  -- SHA-256 of the artifact's id for bearer artifacts (codes, tokens), so a database dump holds no
  -- usable credentials; the id itself for clients, grants, sessions and interactions.
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (kind, id)
);
CREATE INDEX oauth_models_grant ON oauth_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_models_uid ON oauth_models (uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_models_expires ON oauth_models (expires_at) WHERE expires_at IS NOT NULL;

-- Key material shared by every instance: the signing JWKS and the cookie-signing keys, created
-- once by whichever instance starts first.
CREATE TABLE auth_secrets (
  name    text PRIMARY KEY,
  value   jsonb NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);

-- EHR launch (SMART App Launch 2.2, "EHR Launch"): the opaque `launch` value an EHR passes to the
-- app, bound to the context the EHR chose. Consumed into a grant's context at authorization.
CREATE TABLE smart_launches (
  id           text PRIMARY KEY,
  context      jsonb NOT NULL,
  created_by   text,
  expires_at   timestamptz NOT NULL
);

-- The launch context granted with each authorization (patient, encounter, fhirContext, banner and
-- style), keyed by oidc-provider's grant id so refreshed tokens carry the same context.
CREATE TABLE smart_grant_contexts (
  grant_id   text PRIMARY KEY,
  context    jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
