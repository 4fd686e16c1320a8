-- The public service centre branch whose counter took an application (issue 6, 002 §3.4; 004
-- processes 1–15): its operators do the channel's PSC steps and keep its journal (002 Annex 3),
-- read by branch and date.
ALTER TABLE workflow_instance ADD COLUMN office TEXT;
CREATE INDEX workflow_instance_office ON workflow_instance (office, started_ms);
