# Private PostgreSQL cluster and cached template databases for bench/run (sourced, not run).
# Needs: BENCH_DIR, PG_PORT, BENCH_BIN, AS_OF, SEED, ROOT.

PGBIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PGDATA_DIR="$BENCH_DIR/pg"
PGHOST_DIR="$BENCH_DIR/sock"

as_pg() { runuser -u postgres -- "$@"; }
psql_q() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST_DIR" -p "$PG_PORT" -U postgres "$@"; }
db_url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1"; }

cluster_start() {
    mkdir -p "$BENCH_DIR" "$PGHOST_DIR"
    chown postgres "$BENCH_DIR" "$PGHOST_DIR"
    chmod 755 "$BENCH_DIR"
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        log "creating the bench cluster in $PGDATA_DIR"
        as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$PGDATA_DIR/postgresql.conf" <<EOF
# bench/run
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGHOST_DIR'
max_connections = 200
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
logging_collector = off
EOF
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$BENCH_DIR/postgres.log" -w -t 60 start >/dev/null
    fi
}

cluster_stop() {
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
}

db_exists() {
    [ "$(psql_q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = "1" ]
}

drop_db() {
    if db_exists "$1"; then
        psql_q -d postgres -c "ALTER DATABASE \"$1\" IS_TEMPLATE false" >/dev/null
        psql_q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
    fi
}

# Key of the cached templates: data parameters + the migrations + the seed code.
template_key() {
    local h
    h=$( (cd "$ROOT" && cat migrations/*/*.sql src/seed/*.rs bench/report/seed.sql 2>/dev/null) | sha256sum | cut -c1-10)
    echo "${AS_OF//-/}_s${SEED}_$h"
}

# make_template NAME FAMILIES: migrate + seed-demo into NAME, mark it a template. Cached.
make_template() {
    local name=$1 families=$2
    if db_exists "$name" && [ "$(psql_q -d postgres -tAc "SELECT datistemplate FROM pg_database WHERE datname = '$name'")" = "t" ]; then
        log "template $name cached"
        return
    fi
    drop_db "$name"
    # drop older templates of the same size with another key, to keep the disk small
    local old
    for old in $(psql_q -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'tpl\\_${families}\\_%' AND datname <> '$name'"); do
        drop_db "$old"
    done
    log "building template $name ($families families as of $AS_OF, seed $SEED)"
    psql_q -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null
    local t0=$SECONDS
    if ! "$BENCH_BIN" migrate --database-url "$(db_url "$name")" >"$BENCH_DIR/logs/migrate_$name.log" 2>&1; then
        cat "$BENCH_DIR/logs/migrate_$name.log" >&2
        return 1
    fi
    if ! "$BENCH_BIN" seed-demo --families "$families" --as-of "$AS_OF" --seed "$SEED" \
        --database-url "$(db_url "$name")" >"$BENCH_DIR/logs/seed_$name.log" 2>&1; then
        cat "$BENCH_DIR/logs/seed_$name.log" >&2
        return 1
    fi
    psql_q -d "$name" -c "VACUUM ANALYZE" >/dev/null
    psql_q -d postgres -c "ALTER DATABASE \"$name\" IS_TEMPLATE true" >/dev/null
    log "template $name ready in $((SECONDS - t0)) s: $(tail -1 "$BENCH_DIR/logs/seed_$name.log")"
}

# make_real_template NAME DUMP: openIMIS's own database (a plain pg_dump, e.g.
# ../shared/openimis-db/1.5.0-running/openimis_1.5.0.sql: real schema and demo data) + our
# migrations, VACUUM ANALYZE, marked a template. Cached (the name holds the migrations' key; the
# dump is read-only data).
make_real_template() {
    local name=$1 dump=$2
    if db_exists "$name" && [ "$(psql_q -d postgres -tAc "SELECT datistemplate FROM pg_database WHERE datname = '$name'")" = "t" ]; then
        log "template $name cached"
        return
    fi
    drop_db "$name"
    log "building template $name from $dump"
    psql_q -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null
    psql_q -d "$name" -f "$dump" >"$BENCH_DIR/logs/load_$name.log" 2>&1 ||
        { tail -20 "$BENCH_DIR/logs/load_$name.log" >&2; return 1; }
    if ! "$BENCH_BIN" migrate --database-url "$(db_url "$name")" >"$BENCH_DIR/logs/migrate_$name.log" 2>&1; then
        cat "$BENCH_DIR/logs/migrate_$name.log" >&2
        return 1
    fi
    psql_q -d "$name" -c "VACUUM ANALYZE" >/dev/null
    psql_q -d postgres -c "ALTER DATABASE \"$name\" IS_TEMPLATE true" >/dev/null
}

# make_report_template NAME BASE N: BASE + bench/report/seed.sql's region of N families. Cached.
make_report_template() {
    local name=$1 base=$2 n=$3
    if db_exists "$name"; then
        log "template $name cached"
        return
    fi
    log "building template $name ($base + a $n-family region)"
    psql_q -d postgres -c "CREATE DATABASE \"$name\" TEMPLATE \"$base\"" >/dev/null
    psql_q -d "$name" -f "$ROOT/bench/report/seed.sql" >/dev/null
    psql_q -d "$name" -c "SELECT pn_bench_seed($n)" -c "VACUUM ANALYZE" >/dev/null
    psql_q -d postgres -c "ALTER DATABASE \"$name\" IS_TEMPLATE true" >/dev/null
}

# fresh_copy TEMPLATE NAME: a new database NAME cloned from TEMPLATE.
fresh_copy() {
    drop_db "$2"
    psql_q -d postgres -c "CREATE DATABASE \"$2\" TEMPLATE \"$1\" STRATEGY FILE_COPY" >/dev/null
}
