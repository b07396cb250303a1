-- The catalog (issue 3). A product's category is its path from the root,
-- kept as a JSON array and as a key of names each followed by U+001F, so a
-- category and all below it is one prefix test.
CREATE TABLE products (
    product_id     TEXT    PRIMARY KEY,
    sku            TEXT    UNIQUE,
    name           TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    category_key   TEXT    NOT NULL,
    brand          TEXT,
    tags           TEXT    NOT NULL,
    price_minor    BIGINT  NOT NULL,
    currency       TEXT    NOT NULL,
    stock          BIGINT  NOT NULL,
    status         TEXT    NOT NULL,
    review_status  TEXT    NOT NULL,
    attributes     TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX products_category ON products (category_key);
CREATE INDEX products_brand ON products (brand);

CREATE TABLE product_tags (
    tag         TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    PRIMARY KEY (tag, product_id)
);

-- The product an event is about (`properties.product_id`, else `sku`), for
-- product timelines.
ALTER TABLE events ADD COLUMN product TEXT;
CREATE INDEX events_product ON events (product, ts) WHERE product IS NOT NULL;
