-- 0003: the device's sample clock against the host's (ppm), measured from receive times; empty
-- while a reading used the nominal rate. A new last column, so the same SQL in both dialects.
ALTER TABLE readings ADD COLUMN clock_ppm DOUBLE PRECISION;
