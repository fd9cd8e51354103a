-- The minute bars' primary key carries every column (INCLUDE: stored in the leaf entries, not
-- part of the key), so one symbol's range is an index-only scan of adjacent leaf pages: rows
-- written minute by minute for all symbols lie one per heap page for a given symbol, and a
-- year of one symbol read through the heap touched ~56,000 pages. Index-only scans need the
-- pages all-visible: backfills vacuum the months they wrote (store.rs, vacuum_minute_bars),
-- autovacuum the rest. The key columns are unchanged, so ON CONFLICT (symbol, start) works
-- as before. Rebuilds every partition's index under an exclusive lock: on a large table the
-- migration takes a while (about 10 s per 6 million bars on a 2-core machine).
ALTER TABLE hist_bars_1m DROP CONSTRAINT hist_bars_1m_pkey;
ALTER TABLE hist_bars_1m ADD PRIMARY KEY (symbol, start)
    INCLUDE (open, high, low, close, volume, trades);
