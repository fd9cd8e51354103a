-- Every item collected (news articles, posts), once per source and id at the source, with its
-- language, the near-duplicate it repeats (empty for an original) and its sentiment.
CREATE TABLE news_items (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    guid TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    lang TEXT NOT NULL,
    symbols TEXT NOT NULL,
    published INTEGER NOT NULL,
    collected INTEGER NOT NULL,
    duplicate_of TEXT NOT NULL,
    exact_key INTEGER NOT NULL,
    compound REAL NOT NULL,
    positive REAL NOT NULL,
    negative REAL NOT NULL,
    intensity REAL NOT NULL,
    label TEXT NOT NULL,
    hits TEXT NOT NULL,
    UNIQUE (source, guid)
);
CREATE INDEX news_items_by_published ON news_items (published DESC, id);
CREATE INDEX news_items_by_key ON news_items (exact_key);

-- The tickers each item mentions, to list a symbol's items.
CREATE TABLE news_item_symbols (
    symbol TEXT NOT NULL,
    published INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (symbol, published, item_id)
);
