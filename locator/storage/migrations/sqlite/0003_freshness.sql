-- Freshness (issue 16): when someone last confirmed the venue works (ISO 8601 UTC text; NULL: never), and
-- whether several people lately said it is closed with no admin review since (0/1).
ALTER TABLE venues ADD COLUMN last_confirmed TEXT;
ALTER TABLE venues ADD COLUMN reported_closed INTEGER NOT NULL DEFAULT 0 CHECK (reported_closed IN (0, 1));
-- The "closed" taps of one venue, counted by distinct client (locator.config.CLOSED_TAPS).
CREATE INDEX IF NOT EXISTS reports_venue ON reports (venue_id, kind, status, created_at);
