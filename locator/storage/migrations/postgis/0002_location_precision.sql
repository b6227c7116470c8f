-- How exactly a venue's point is known: 'exact', or 'town' (placed at the centre of the town its address
-- names, by the importer from the gazetteer). Every venue before this migration was placed exactly.
ALTER TABLE venues ADD COLUMN location_precision text NOT NULL DEFAULT 'exact'
    CHECK (location_precision IN ('exact', 'town'));
