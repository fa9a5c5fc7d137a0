"""flows/export.py: every rpt_ view as Parquet, read back equal; partitions; the swap; safety;
Prefect artifacts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from flows import export as ex
from flows.export import ExportError, export_all
from flows.load import WarehouseBusy, connect
from report_fixture import RUN_ID, build_warehouse, insert_rows, mention

VIEWS = ["rpt_data_quality", "rpt_disagreements", "rpt_documents", "rpt_latest_metrics", "rpt_mentions",
         "rpt_metric_growth", "rpt_metric_series"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    db = build_warehouse(root / "w.duckdb")
    manifest = export_all(db, root / "exports", "run-42")
    return db, root / "exports", manifest


def _read_back_duckdb(con, folder: Path, name: str, cols: list[str]) -> str:
    info = json.loads((folder / "manifest.json").read_text())["files"][name]
    if info.get("partitioned_by"):
        src = f"read_parquet('{folder / name}/**/*.parquet', hive_partitioning = true)"
    else:
        src = f"read_parquet('{folder / info['path']}')"
    return f"select {', '.join(cols)} from {src}"


@pytest.mark.parametrize("name", VIEWS)
def test_parquet_reads_back_as_the_view_with_duckdb(exported, name):
    db, folder, _ = exported
    con = connect(db, read_only=True)
    try:
        cols = [r[0] for r in con.execute(f"select column_name from (describe {name})").fetchall()]
        quoted = [f'"{c}"' for c in cols]
        view = f"select {', '.join(quoted)} from {name}"
        back = _read_back_duckdb(con, folder, name, quoted)
        # same rows both ways (bag equality: except all in both directions) and same count
        for a, b in ((view, back), (back, view)):
            assert con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0] == 0
        assert con.execute(f"select count(*) from ({back})").fetchone()[0] == \
            con.execute(f"select count(*) from {name}").fetchone()[0]
        # and the same types: a decimal stays a decimal, a date a date
        view_types = con.execute(f"select column_type from (describe {view})").fetchall()
        back_types = con.execute(f"select column_type from (describe {back})").fetchall()
        assert back_types == view_types
    finally:
        con.close()


@pytest.mark.parametrize("name", ["rpt_mentions", "rpt_metric_series", "rpt_latest_metrics"])
def test_parquet_reads_back_with_pandas(exported, name):
    db, folder, manifest = exported
    con = connect(db, read_only=True)
    # The view through Arrow, as pandas gets Parquet: Decimal objects and dates, not floats
    view = con.sql(f"select * from {name}").to_arrow_table().to_pandas()
    con.close()
    info = manifest["files"][name]
    if info.get("partitioned_by"):
        # Explicit partition types: pyarrow would otherwise infer dictionaries, which pandas
        # cannot merge when one partition is NULL.
        part = pads.partitioning(pa.schema([("entity", pa.string()), ("year", pa.int32())]), flavor="hive")
        back = pd.read_parquet(folder / name, partitioning=part).drop(columns="year")
    else:
        back = pd.read_parquet(folder / info["path"])
    back = back[list(view.columns)]
    key = [c for c in ("entity", "metric_key", "kind", "unit", "period_end", "doc_id", "mention_no")
           if c in view.columns]

    def records(df: pd.DataFrame) -> list[dict]:
        def clean(v):
            if hasattr(v, "tolist") and not isinstance(v, str):
                return list(v.tolist())
            return None if v is None or (not isinstance(v, (list, str)) and pd.isna(v)) else v

        rows = [{k: clean(v) for k, v in r.items()} for r in df.to_dict("records")]
        return sorted(rows, key=lambda r: [str(r[c]) for c in key])

    a, b = records(view), records(back)
    assert len(a) == len(b) > 0
    assert a == b
    assert all(isinstance(v, Decimal) for v in back["value"]), "values stay exact"


def test_layout_and_manifest(exported):
    _, folder, manifest = exported
    on_disk = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["run_id"] == manifest["run_id"] == "run-42"
    assert sorted(on_disk["files"]) == VIEWS
    assert (folder / "README.md").read_text().count("rpt_") >= len(VIEWS)
    assert (folder / "rpt_mentions" / "entity=ICBC" / "year=2024").is_dir()
    assert (folder / "rpt_metric_series" / "entity=CCB" / "year=2023").is_dir()
    # NULL entity and NULL year have a partition of their own, with the Hive name for NULL
    assert (folder / "rpt_mentions" / "entity=__HIVE_DEFAULT_PARTITION__"
            / "year=__HIVE_DEFAULT_PARTITION__").is_dir()
    con = duckdb.connect()
    for name, info in on_disk["files"].items():
        path = folder / info["path"]
        assert path.exists(), name
        src = (f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)"
               if info.get("partitioned_by") else f"read_parquet('{path}')")
        assert con.execute(f"select count(*) from {src}").fetchone()[0] == info["rows"], name
    assert (folder / on_disk["report"]["path"]).is_file()
    # nothing left beside the export: no staging or old folders
    assert sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(".")) == []


def test_partition_pruning_reads_one_institution(exported):
    _, folder, _ = exported
    n = duckdb.connect().execute(
        f"select count(*) from read_parquet('{folder}/rpt_mentions/**/*.parquet', hive_partitioning = true) "
        "where entity = 'ICBC' and year = 2024").fetchone()[0]
    assert n == 4  # d02's three and d03's 7.5亿 (its 16万亿 is dated 2020)


def test_hostile_partition_values_stay_inside(tmp_path):
    con = build_warehouse(tmp_path / "w.duckdb", close=False)
    evil = ["../../evil", "/etc/passwd", "..", "a\\b", "工行 50%"]
    insert_rows(con, "fct_mentions", [
        mention("d01", 200 + i, "s", "x", entity=e, metric_key="total_assets",
                period_end=date(2024, 6, 30), value=Decimal(i + 1))
        for i, e in enumerate(evil)])
    con.close()
    before = set(os.listdir(tmp_path))
    manifest = export_all(tmp_path / "w.duckdb", tmp_path / "out" / "exports", None)
    assert set(os.listdir(tmp_path)) == before | {"out"}
    root = (tmp_path / "out" / "exports").resolve()
    for p in root.rglob("*"):
        assert p.resolve().is_relative_to(root)
    assert not (tmp_path / "evil").exists() and not Path("/etc/passwd/year=2024").exists()
    got = duckdb.connect().execute(
        f"select distinct entity from read_parquet('{root}/rpt_mentions/**/*.parquet', "
        "hive_partitioning = true) where metric_key = 'total_assets'").fetchall()
    assert sorted(r[0] for r in got) == sorted(evil), "encoded names decode to the same values"
    assert manifest["run_id"] == RUN_ID  # None: the newest completed run


def test_safe_child_refuses_escapes(tmp_path):
    for bad in ("..", "/abs", "a/../../b", "", "x\x00y"):
        with pytest.raises(ExportError):
            ex.safe_child(tmp_path, bad)
    assert ex.safe_child(tmp_path, "rpt_x.parquet") == tmp_path / "rpt_x.parquet"


def test_second_export_replaces_the_first(tmp_path):
    db = build_warehouse(tmp_path / "w.duckdb")
    export_all(db, tmp_path / "exports", "first")
    (tmp_path / "exports" / "stale.txt").write_text("from an older export")
    export_all(db, tmp_path / "exports", "second")
    assert json.loads((tmp_path / "exports" / "manifest.json").read_text())["run_id"] == "second"
    assert not (tmp_path / "exports" / "stale.txt").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failed_export_keeps_the_previous_one(tmp_path, monkeypatch):
    db = build_warehouse(tmp_path / "w.duckdb")
    export_all(db, tmp_path / "exports", "good")
    import flows.report

    def boom(*a, **k):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(flows.report, "render_report", boom)
    with pytest.raises(RuntimeError):
        export_all(db, tmp_path / "exports", "bad")
    assert json.loads((tmp_path / "exports" / "manifest.json").read_text())["run_id"] == "good"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refuses_folders_that_are_not_exports(tmp_path):
    db = build_warehouse(tmp_path / "w.duckdb")
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "keep.md").write_text("precious")
    with pytest.raises(ExportError, match="not an earlier export"):
        export_all(db, mine, "x")
    assert (mine / "keep.md").read_text() == "precious"
    with pytest.raises(ExportError, match="contains the warehouse"):
        export_all(db, tmp_path, "x")


def test_export_while_a_run_writes_says_busy(tmp_path):
    db = build_warehouse(tmp_path / "w.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(db)!r})
            print("locked", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusy):
            export_all(db, tmp_path / "exports", "x")
        assert not (tmp_path / "exports").exists()
        assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.prefect
def test_export_task_publishes_artifacts_in_a_flow(tmp_path):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.export import export_task

    db = build_warehouse(tmp_path / "w.duckdb")

    @flow
    def wrapper() -> dict:
        return export_task(str(db), str(tmp_path / "exports"), "flow-run-1")

    manifest = wrapper()
    assert manifest["run_id"] == "flow-run-1"
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["bankmetrics-export-counts", "bankmetrics-report"])))
    by_key = {a.key: a for a in arts}
    assert by_key["bankmetrics-export-counts"].type == "table"
    assert "rpt_mentions/" in str(by_key["bankmetrics-export-counts"].data)
    assert "report/index.html" in by_key["bankmetrics-report"].data
    # outside a flow run: plain export, no artifacts and no error
    ex.publish_artifacts(manifest)


def test_old_warehouse_gets_an_actionable_error(tmp_path):
    from flows.load import connect as wh_connect
    from flows.load import migrate
    from flows.config import SQL_DIR

    old_sql = tmp_path / "old_sql"
    old_sql.mkdir()
    for f in sorted(SQL_DIR.glob("0*.sql")) + [SQL_DIR / "400_rpt_mentions.sql"]:
        (old_sql / f.name).write_text(f.read_text())
    con = wh_connect(tmp_path / "w.duckdb")
    migrate(con, old_sql)
    con.close()
    with pytest.raises(ExportError, match="bankmetrics run"):
        export_all(tmp_path / "w.duckdb", tmp_path / "exports", "x")
    assert not (tmp_path / "exports").exists()


def test_a_killed_exports_staging_folders_are_cleaned_up_later(tmp_path):
    import os
    import time as _time

    from flows.export import _remove_stale_staging

    target = tmp_path / "exports"
    stale = tmp_path / ".exports.tmp-dead"
    fresh = tmp_path / ".exports.tmp-live"
    for d in (stale, fresh):
        d.mkdir()
        (d / "x.parquet").write_bytes(b"x")
    old = _time.time() - 7200
    os.utime(stale, (old, old))
    _remove_stale_staging(target)
    assert not stale.exists() and fresh.exists()
