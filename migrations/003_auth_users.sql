-- Users of the SMART authorization server: people who log in (patients, practitioners, admins,
-- researchers). Passwords are argon2id hashes; TOTP secrets are enrolled in two steps (pending,
-- then confirmed by a first code); recovery codes are stored as SHA-256 hashes and used once.
CREATE TABLE auth_users (
  id                  text PRIMARY KEY,
  username            text NOT NULL UNIQUE,
  email               text UNIQUE,
  role                text NOT NULL CHECK (role IN ('admin', 'practitioner', 'patient', 'researcher')),
  -- The FHIR resource the user is (Practitioner/…, Patient/…, RelatedPerson/…, Person/…).
  fhir_user           text,
  password_hash       text NOT NULL,
  failed_logins       integer NOT NULL DEFAULT 0,
  locked_until        timestamptz,
  totp_secret         text,
  totp_pending_secret text,
  -- The last TOTP time step accepted, so that a code cannot be replayed within its window.
  totp_last_step      bigint,
  recovery_codes      text[] NOT NULL DEFAULT '{}',
  created             timestamptz NOT NULL DEFAULT now(),
  updated             timestamptz NOT NULL DEFAULT now()
);
