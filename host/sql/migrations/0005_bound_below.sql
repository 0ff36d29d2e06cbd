-- 0005: how far below its truth a reading can be, percent (ct_core::bound::stated_below), where
-- that differs from bound_pct (a window whose samples do not show its waveform reads high
-- further than low; one whose last samples showed a sliver of a new load, low further than
-- high); empty where bound_pct holds on both sides. A new last column, so the same SQL in both
-- dialects.
ALTER TABLE readings ADD COLUMN bound_below_pct DOUBLE PRECISION;
