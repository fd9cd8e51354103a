-- PostgreSQL's 1001 makes its minute bars' primary key a covering one (index-only scans of a
-- symbol's range). SQLite needs nothing: the embedded mode's single table is small and read
-- through its (symbol, start) key already. This file keeps both engines' versions in step.
SELECT 1;
