-- Tag rules (issue 16): a tag for every profile a condition selects (a
-- segment condition's JSON form), kept by the tags sweeper in
-- profile_tags with source 'rule'.
CREATE TABLE tag_rules (
    tag         TEXT    PRIMARY KEY,
    family      TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX profile_tags_source ON profile_tags (source, tag);
