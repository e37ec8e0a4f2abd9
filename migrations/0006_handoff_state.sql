-- The handoff's state (domain::handoff::HandoffState): the digest of the random state the
-- tenant host put in the visitor's cookie. The exchange wants that cookie back, so a
-- code minted in another browser opens nothing. Codes from before have '' and are
-- refused (they live a minute anyway).
ALTER TABLE grant_codes ADD COLUMN state_hash TEXT NOT NULL DEFAULT '';
