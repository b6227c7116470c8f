-- The venue register in one SQLite file: the schema the store had before it
-- had migrations, verbatim. Every statement says IF NOT EXISTS (or OR IGNORE),
-- so a register made by that older code (this schema, user_version 0) runs
-- this migration as a no-op and is recorded as being at 0001.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS venues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    district_code TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    operator TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    opening_hours TEXT,
    amenities TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    data_version INTEGER NOT NULL,  -- the register's version when it was kept
    created_at TEXT NOT NULL,
    note TEXT NOT NULL,
    venue_count INTEGER NOT NULL,
    payload BLOB NOT NULL           -- zlib-compressed JSON list of venue dicts
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    venue_id TEXT,
    before TEXT,
    after TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_venue ON audit (venue_id);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    venue_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    proposal TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    client TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX IF NOT EXISTS reports_client ON reports (client, created_at);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,
    venue_id TEXT          -- NULL: everything changed
);
INSERT OR IGNORE INTO meta VALUES ('version', '0');
