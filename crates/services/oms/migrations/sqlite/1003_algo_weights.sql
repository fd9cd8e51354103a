-- VWAP parent orders: the historical volume of each slice's interval (JSON array of integers),
-- fixed when the order is placed so a restart slices it the same way.
ALTER TABLE oms_algos ADD COLUMN weights TEXT;
