-- Failed sign-ins per key (an HMAC of an account or a client address, never either in clear),
-- in fixed windows that start at the first failure: shared by every node (storage/login_throttle_store.hpp).
CREATE TABLE login_throttle (
  throttle_key BLOB PRIMARY KEY,
  window_start INTEGER NOT NULL,
  failures     INTEGER NOT NULL
) STRICT;
CREATE INDEX login_throttle_start ON login_throttle (window_start);
