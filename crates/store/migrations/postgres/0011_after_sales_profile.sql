-- A merge gives the merged profile's refunds and cancellations to the
-- survivor (`UPDATE after_sales … WHERE profile_id = …`): without an index
-- that read every after-sale row at every merge.
CREATE INDEX IF NOT EXISTS after_sales_profile ON after_sales (profile_id);
