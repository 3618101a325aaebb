"""An Athena (or CloudTrail Lake) stand-in for tests: speaks Athena's JSON protocol
(awsJson1.1, X-Amz-Target: AmazonAthena.StartQueryExecution / GetQueryExecution /
GetQueryResults / StopQueryExecution) on loopback and runs each received query in DuckDB,
translated from Trino's SQL by sqlglot, over a trail folder laid out as the table AWS
documents for CloudTrail logs with partition projection (partition columns account, region,
timestamp).

With --lake STORE_ID it speaks CloudTrail's instead (X-Amz-Target:
CloudTrail_20131101.StartQuery / DescribeQuery / GetQueryResults / CancelQuery) over the
same events laid out as an event data store ("Supported SQL schemas for event data stores"):
eventtime a timestamp; requestparameters, responseelements and the other documents a
map(varchar, varchar) whose nested values are their compact JSON text and other values
their text; results as rows of one-entry {column: text} maps with no header row and NULLs
left out. The statement names the store by its bare ID, as Lake's are written; the stand-in
quotes it before parsing, as Lake resolves it.

Usage: athena_server.py TRAIL_DIR DATABASE TABLE PARTITIONS_LOG
       athena_server.py --lake STORE_ID TRAIL_DIR PARTITIONS_LOG
Prints the port on its first line of stdout, then serves until killed. For every query it
appends one JSON line to PARTITIONS_LOG: the query id and the partitions the query's
partition predicates select (what Athena would read), and one for every query stopped;
DataScannedInBytes is the size of the read partitions' objects. Results come in pages of
ATHENA_STUB_PAGE rows (7); ATHENA_STUB_RUNNING=forever keeps queries running until stopped;
ATHENA_STUB_DROP_COLUMNS=a,b leaves columns out of the table. Failures are reported in
the words of Athena's engine (TABLE_NOT_FOUND, COLUMN_NOT_FOUND), or Lake's exceptions.
"""

import gzip
import http.server
import json
import os
import re
import sys
import tempfile
import threading
import uuid

import duckdb
import sqlglot
from sqlglot import exp

PARTITION_COLUMNS = {"account", "region", "timestamp"}
PAGE = int(os.environ.get("ATHENA_STUB_PAGE", "7"))
# "forever": queries stay RUNNING until StopQueryExecution (to test cancelling).
RUNNING = os.environ.get("ATHENA_STUB_RUNNING", "")
# Columns left out of the table (a table created from an older version of AWS's page).
DROP = [c for c in os.environ.get("ATHENA_STUB_DROP_COLUMNS", "").split(",") if c]

USERIDENTITY = """STRUCT(
    type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR,
    accesskeyid VARCHAR, username VARCHAR,
    onbehalfof STRUCT(userid VARCHAR, identitystorearn VARCHAR),
    sessioncontext STRUCT(
        attributes STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR),
        sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR),
        ec2roledelivery VARCHAR,
        webidfederationdata STRUCT(federatedprovider VARCHAR, attributes MAP(VARCHAR, VARCHAR))))"""

STRINGS = [
    "eventversion", "eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress",
    "useragent", "errorcode", "errormessage", "requestparameters", "responseelements",
    "additionaleventdata", "requestid", "eventid", "readonly", "eventtype", "apiversion",
    "recipientaccountid", "serviceeventdetails", "sharedeventid", "vpcendpointid",
    "vpcendpointaccountid", "eventcategory", "sessioncredentialfromconsole", "edgedevicedetails",
]
# Fields the documented table keeps as JSON text (the SerDe gives their JSON as is).
JSON_TEXT = {"requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails", "edgedevicedetails"}


def lower_keys(value):
    if isinstance(value, dict):
        return {k.lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def partition_of(path):
    parts = path.split(os.sep)
    at = parts.index("AWSLogs")
    rest = parts[at + 1:]
    if rest and rest[0].startswith("o-"):
        rest = rest[1:]
    account, kind, region, y, m, d = rest[0], rest[1], rest[2], rest[3], rest[4], rest[5]
    if kind != "CloudTrail":
        return None
    return account, region, f"{y}/{m}/{d}"


def lake_text(value):
    """A value of Lake's map(varchar, varchar): text as is, anything else its compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def load(con, trail, database, table, lake=False):
    """Loads every log file into the table (through newline-delimited JSON, which DuckDB
    reads into the documented column types: struct fields it does not find are NULL)."""
    columns = {"eventversion": "VARCHAR", "useridentity": USERIDENTITY}
    columns.update({c: "VARCHAR" for c in STRINGS if c != "eventversion"})
    if lake:
        columns.update({c: "MAP(VARCHAR, VARCHAR)" for c in JSON_TEXT})
        columns["eventtime"] = "TIMESTAMP"
        columns["readonly"] = "BOOLEAN"
        columns["resources"] = "STRUCT(accountid VARCHAR, type VARCHAR, arn VARCHAR, arnprefix VARCHAR)[]"
        target = f'"{table}"'
    else:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
        columns["resources"] = "STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[]"
        columns.update({"account": "VARCHAR", "region": "VARCHAR", "timestamp": "VARCHAR"})
        target = f'"{database}"."{table}"'

    sizes = {}
    lines = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    with lines:
        for folder, _, files in os.walk(trail):
            for name in sorted(files):
                path = os.path.join(folder, name)
                partition = partition_of(os.path.relpath(path, trail))
                if partition is None or not name.endswith(".json.gz"):
                    continue
                sizes[partition] = sizes.get(partition, 0) + os.path.getsize(path)
                with gzip.open(path, "rt") as f:
                    records = json.load(f).get("Records", [])
                for record in records:
                    row = {}
                    for key, value in record.items():
                        column = key.lower()
                        if column in ("useridentity", "resources"):
                            value = lower_keys(value)
                        elif lake and column in JSON_TEXT and isinstance(value, dict):
                            value = {k: lake_text(v) for k, v in value.items() if v is not None}
                        elif lake and column == "eventtime":
                            value = value.replace("T", " ").rstrip("Z")
                        elif lake and column == "readonly":
                            value = value if isinstance(value, bool) else value == "true"
                        elif value is not None and (column in JSON_TEXT or not isinstance(value, str)):
                            value = json.dumps(value, separators=(",", ":"))
                        if column in columns:
                            row[column] = value
                    if not lake:
                        row["account"], row["region"], row["timestamp"] = partition
                    lines.write(json.dumps(row) + "\n")
    spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    con.execute(
        f'CREATE TABLE {target} AS SELECT * FROM read_json(?, format = \'newline_delimited\', columns = {spec})',
        [lines.name],
    )
    os.unlink(lines.name)
    for column in DROP:
        con.execute(f'ALTER TABLE {target} DROP COLUMN {column}')
    return sizes


def athena_error(error, database):
    """DuckDB's error in the words Athena's engine uses for the same fault."""
    text = str(error)
    table = re.search(r"Table with name (\S+) does not exist", text)
    if table:
        return f"TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.{database}.{table.group(1)}' does not exist"
    column = re.search(r'Referenced column "?([^" ]+)"? not found', text)
    if column:
        return f"COLUMN_NOT_FOUND: line 1:1: Column '{column.group(1)}' cannot be resolved or requester is not authorized to access requested resources"
    return f"GENERIC_INTERNAL_ERROR: {type(error).__name__}: {text}"


def advance(record, finished):
    """One poll of a query: running on the first (or forever with ATHENA_STUB_RUNNING),
    then failed or `finished`, as a real query goes."""
    record["polls"] += 1
    if record["state"] in ("QUEUED", "RUNNING"):
        if record["polls"] == 1 or RUNNING == "forever":
            record["state"] = "RUNNING"
        elif "failure" in record:
            record["state"], record["reason"] = "FAILED", record["failure"]
        else:
            record["state"] = finished


class Engine:
    def __init__(self, trail, database, table, log):
        self.con = duckdb.connect()
        self.database, self.table, self.log = database, table, log
        self.sizes = load(self.con, trail, database, table)
        self.queries = {}
        self.lock = threading.Lock()

    def partitions_read(self, tree):
        """The partitions the query's partition-only conjuncts select, as Athena prunes."""
        where = None
        for select in tree.find_all(exp.Select):
            source = select.args.get("from") or select.args.get("from_")
            if source is not None and isinstance(source.this, exp.Table) and source.this.name == self.table:
                where = select.args.get("where")
        conjuncts = []
        if where is not None:
            for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
                columns = {c.name for c in conjunct.find_all(exp.Column)}
                if columns and columns <= PARTITION_COLUMNS:
                    conjuncts.append(conjunct.sql(dialect="duckdb"))
        condition = " AND ".join(conjuncts) or "TRUE"
        # Every partition the condition selects is read, rows kept or not.
        selected = []
        for p in self.sizes:
            row = self.con.execute(
                f"SELECT count(*) FROM (SELECT ? AS account, ? AS region, ? AS \"timestamp\") WHERE {condition}",
                list(p),
            ).fetchone()
            if row[0]:
                selected.append(p)
        return sorted(selected)

    def start(self, body):
        query_id = str(uuid.uuid4())
        sql = body.get("QueryString", "")
        record = {"id": query_id, "sql": sql, "polls": 0, "state": "QUEUED", "reason": None, "rows": None, "columns": None, "scanned": 0}
        try:
            tree = sqlglot.parse_one(sql, read="trino")
            partitions = self.partitions_read(tree)
            record["scanned"] = sum(self.sizes[p] for p in partitions)
            translated = tree.sql(dialect="duckdb")
            result = self.con.cursor().execute(translated)
            record["columns"] = [d[0] for d in result.description]
            record["rows"] = result.fetchall()
            with open(self.log, "a") as f:
                f.write(json.dumps({"id": query_id, "partitions": ["/".join(p) for p in partitions]}) + "\n")
        except Exception as error:  # the query failed: Athena reports it through the state
            record["failure"] = athena_error(error, self.database)
        with self.lock:
            self.queries[query_id] = record
        return {"QueryExecutionId": query_id}

    def get(self, body):
        record = self.queries.get(body.get("QueryExecutionId"))
        if record is None:
            raise KeyError("QueryExecution not found")
        advance(record, "SUCCEEDED")
        status = {"State": record["state"]}
        if record["reason"]:
            status["StateChangeReason"] = record["reason"]
        return {"QueryExecution": {
            "QueryExecutionId": record["id"],
            "Query": record["sql"],
            "Status": status,
            "Statistics": {"DataScannedInBytes": record["scanned"], "EngineExecutionTimeInMillis": 1},
        }}

    def results(self, body):
        record = self.queries.get(body.get("QueryExecutionId"))
        if record is None or record["state"] != "SUCCEEDED":
            raise KeyError("Query has not yet finished")
        start = int(body.get("NextToken") or 0)
        size = min(int(body.get("MaxResults") or 1000), PAGE)
        text = lambda v: None if v is None else (v if isinstance(v, str) else str(v))
        rows = []
        if start == 0:
            rows.append({"Data": [{"VarCharValue": c} for c in record["columns"]]})
            size -= 1
        chunk = record["rows"][start:start + size]
        for row in chunk:
            rows.append({"Data": [({} if text(v) is None else {"VarCharValue": text(v)}) for v in row]})
        out = {
            "ResultSet": {
                "Rows": rows,
                "ResultSetMetadata": {"ColumnInfo": [{"Name": c, "Label": c, "Type": "varchar"} for c in record["columns"]]},
            },
            "UpdateCount": 0,
        }
        if start + size < len(record["rows"]):
            out["NextToken"] = str(start + size)
        return out

    def stop(self, body):
        record = self.queries.get(body.get("QueryExecutionId"))
        if record is not None:
            record["state"], record["reason"] = "CANCELLED", "Query was cancelled by user"
            with open(self.log, "a") as f:
                f.write(json.dumps({"id": record["id"], "stopped": True}) + "\n")
        return {}


class LakeError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class Lake:
    """The same queries, through CloudTrail Lake's API over an event data store."""

    def __init__(self, trail, store, log):
        self.con = duckdb.connect()
        self.store, self.log = store, log
        sizes = load(self.con, trail, None, store, lake=True)
        self.scanned = sum(sizes.values())
        self.queries = {}
        self.lock = threading.Lock()

    def start(self, body):
        sql = body.get("QueryStatement", "")
        if not 1 <= len(sql) <= 10000:
            raise LakeError("InvalidParameterException", f"QueryStatement is {len(sql)} characters; at most 10000")
        # Every name after a FROM is an event data store (a WITH clause's names are not).
        named = set(re.findall(r"\bFROM\s+([A-Za-z0-9._-]+)", sql))
        if named != {self.store}:
            raise LakeError("EventDataStoreNotFoundException", f"The specified event data store {sorted(named)} was not found.")
        query_id = str(uuid.uuid4())
        record = {"id": query_id, "sql": sql, "polls": 0, "state": "QUEUED", "reason": None}
        try:
            quoted = re.sub(rf"\bFROM\s+{re.escape(self.store)}\b", f'FROM "{self.store}"', sql)
            result = self.con.cursor().execute(sqlglot.transpile(quoted, read="trino", write="duckdb")[0])
            record["columns"] = [d[0] for d in result.description]
            record["rows"] = result.fetchall()
            with open(self.log, "a") as f:
                f.write(json.dumps({"id": query_id, "lake": True}) + "\n")
        except Exception as error:
            record["failure"] = f"Query failed: {type(error).__name__}: {error}"
        with self.lock:
            self.queries[query_id] = record
        return {"QueryId": query_id}

    def record(self, body):
        record = self.queries.get(body.get("QueryId"))
        if record is None:
            raise LakeError("QueryIdNotFoundException", "The query ID does not exist or does not map to a query.")
        return record

    def describe(self, body):
        record = self.record(body)
        advance(record, "FINISHED")
        out = {
            "QueryId": record["id"],
            "QueryString": record["sql"],
            "QueryStatus": record["state"],
            "QueryStatistics": {"EventsMatched": 0, "EventsScanned": 0, "BytesScanned": self.scanned, "ExecutionTimeInMillis": 1},
        }
        if record["reason"]:
            out["ErrorMessage"] = record["reason"]
        return out

    def results(self, body):
        record = self.record(body)
        if record["state"] != "FINISHED":
            raise LakeError("InactiveQueryException", "The query is not finished.")
        start = int(body.get("NextToken") or 0)
        size = min(int(body.get("MaxQueryResults") or 1000), PAGE)
        text = lambda v: v if isinstance(v, str) else str(v)
        rows = [
            [{c: text(v)} for c, v in zip(record["columns"], row) if v is not None]
            for row in record["rows"][start:start + size]
        ]
        out = {
            "QueryStatus": "FINISHED",
            "QueryStatistics": {"ResultsCount": len(rows), "TotalResultsCount": len(record["rows"]), "BytesScanned": self.scanned},
            "QueryResultRows": rows,
        }
        if start + size < len(record["rows"]):
            out["NextToken"] = str(start + size)
        return out

    def cancel(self, body):
        record = self.record(body)
        record["state"], record["reason"] = "CANCELLED", "Query was cancelled"
        with open(self.log, "a") as f:
            f.write(json.dumps({"id": record["id"], "stopped": True}) + "\n")
        return {"QueryId": record["id"], "QueryStatus": "CANCELLED"}


def serve(engine):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            operation = target.split(".")[-1]
            if isinstance(engine, Lake):
                # The long and the short form of the target prefix, as SDKs send either.
                prefix = target.startswith(("CloudTrail_20131101.", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."))
                handlers = {
                    "StartQuery": engine.start,
                    "DescribeQuery": engine.describe,
                    "GetQueryResults": engine.results,
                    "CancelQuery": engine.cancel,
                }
            else:
                prefix = target.startswith("AmazonAthena.")
                handlers = {
                    "StartQueryExecution": engine.start,
                    "GetQueryExecution": engine.get,
                    "GetQueryResults": engine.results,
                    "StopQueryExecution": engine.stop,
                }
            try:
                if operation not in handlers or not prefix:
                    raise KeyError(f"unknown operation {target}")
                status, out = 200, handlers[operation](body)
            except LakeError as error:
                status, out = 400, {"__type": error.kind, "message": str(error)}
            except KeyError as error:
                status, out = 400, {"__type": "InvalidRequestException", "message": str(error)}
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "--lake":
        store, trail, log = sys.argv[2:5]
        serve(Lake(trail, store, log))
    else:
        trail, database, table, log = sys.argv[1:5]
        serve(Engine(trail, database, table, log))
