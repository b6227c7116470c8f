-- Freshness (issue 16): when someone last confirmed the venue works (NULL: never), and whether several
-- people lately said it is closed with no admin review since.
ALTER TABLE venues ADD COLUMN last_confirmed timestamptz;
ALTER TABLE venues ADD COLUMN reported_closed boolean NOT NULL DEFAULT false;
-- The "closed" taps of one venue, counted by distinct client (locator.config.CLOSED_TAPS).
CREATE INDEX reports_venue ON reports (venue_id, kind, status, created_at);
