-- 0004: the bound a reading states for its own error, percent (ct_core::bound), empty where the
-- method's usual target holds. A new last column, so the same SQL in both dialects.
ALTER TABLE readings ADD COLUMN bound_pct DOUBLE PRECISION;
