-- Viewing figures, aggregated per input, video, kind and minute. Written
-- the same on SQLite and PostgreSQL (portable types, ON CONFLICT upserts).
-- A live broadcast's recording keeps its video uid, so `kind` is part of
-- every key. `video_uid` is '' when the player did not know it.

CREATE TABLE qoe_minute (
    input_uid      TEXT    NOT NULL,
    video_uid      TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    minute         BIGINT  NOT NULL, -- Unix time / 60
    views          BIGINT  NOT NULL DEFAULT 0,
    watch_ms       BIGINT  NOT NULL DEFAULT 0,
    rebuffers      BIGINT  NOT NULL DEFAULT 0,
    rebuffer_ms    BIGINT  NOT NULL DEFAULT 0,
    up             BIGINT  NOT NULL DEFAULT 0,
    down           BIGINT  NOT NULL DEFAULT 0,
    failures       BIGINT  NOT NULL DEFAULT 0,
    -- Failures before the first frame: attempts that never became views.
    startup_failures BIGINT NOT NULL DEFAULT 0,
    startup_count  BIGINT  NOT NULL DEFAULT 0,
    startup_ms_sum BIGINT  NOT NULL DEFAULT 0,
    latency_count  BIGINT  NOT NULL DEFAULT 0,
    latency_ms_sum BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (input_uid, video_uid, kind, minute)
);
CREATE INDEX qoe_minute_by_minute ON qoe_minute (minute);

-- Start-up times as a histogram (bucket numbers from the backend's
-- `startup_bucket`), so medians and percentiles add up across replicas.
CREATE TABLE qoe_startup (
    input_uid TEXT    NOT NULL,
    video_uid TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    minute    BIGINT  NOT NULL,
    bucket    INTEGER NOT NULL,
    n         BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (input_uid, video_uid, kind, minute, bucket)
);
CREATE INDEX qoe_startup_by_minute ON qoe_startup (minute);

CREATE TABLE qoe_failure (
    input_uid TEXT    NOT NULL,
    video_uid TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    minute    BIGINT  NOT NULL,
    code      TEXT    NOT NULL,
    n         BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (input_uid, video_uid, kind, minute, code)
);
CREATE INDEX qoe_failure_by_minute ON qoe_failure (minute);

-- Pages that reported lately, for "viewers now" across replicas. A page
-- that left is deleted; one that stopped reporting ages out.
CREATE TABLE qoe_viewer (
    page      TEXT   NOT NULL,
    input_uid TEXT   NOT NULL,
    video_uid TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    last_seen BIGINT NOT NULL, -- Unix seconds
    PRIMARY KEY (page, input_uid)
);
CREATE INDEX qoe_viewer_by_input ON qoe_viewer (input_uid, last_seen);
