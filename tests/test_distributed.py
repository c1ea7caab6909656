"""The Dask backend on a real LocalCluster of two worker processes: identical results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

from parkgeo._errors import InputFormatError, ParkgeoError  # noqa: E402
from parkgeo.datasets import load_tianjin, sample_path  # noqa: E402
from parkgeo.io import read_enterprises  # noqa: E402
from parkgeo.join import assign_parks  # noqa: E402
from parkgeo.metrics import park_metrics  # noqa: E402
from parkgeo.scale import park_metrics_dask, partitions_of  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    return load_tianjin()


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        host="127.0.0.1",
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def messy_parts(tmp_path_factory, sample):
    """The sample as three Parquet files of 5,000-row groups, with bad rows and enterprise-years
    repeated in later partitions (one of them twice, in two different partitions)."""
    frame = sample.enterprises.astype({"lon": object, "year": object})
    frame.iloc[100, frame.columns.get_loc("lon")] = "not a number"
    frame.iloc[20_500, frame.columns.get_loc("year")] = "20x5"
    repeats = frame.iloc[[5, 5, 12_345]]
    body = pd.concat(
        [
            frame.iloc[:17_000],
            repeats.iloc[[0]],
            frame.iloc[17_000:33_000],
            repeats.iloc[1:],
            frame.iloc[33_000:],
        ],
        ignore_index=True,
    ).astype({"lon": str, "year": str})
    folder = tmp_path_factory.mktemp("parts")
    for i, lo in enumerate(range(0, len(body), 16_001)):
        pq.write_table(
            pa.Table.from_pandas(body.iloc[lo : lo + 16_001], preserve_index=False),
            folder / f"part-{i}.parquet",
            row_group_size=5_000,
        )
    return folder


def in_memory(path, parks, **report):
    loaded = read_enterprises(path)
    result = assign_parks(loaded.data, parks, nearest=False)
    return loaded, result.summary, park_metrics(result.assigned, parks, **report)


def assert_same(result, loaded, summary, table):
    assert result.n_read == loaded.n_read
    pd.testing.assert_frame_equal(result.rejects, loaded.rejects)
    pd.testing.assert_frame_equal(result.summary, summary)
    assert list(result.table.columns) == list(table.columns)
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column].dtype):
            np.testing.assert_allclose(
                result.table[column], table[column], rtol=1e-11, atol=1e-9, err_msg=column
            )
        else:
            pd.testing.assert_series_equal(
                result.table[column], table[column], check_names=False, obj=column
            )


def test_partitions_follow_row_groups(messy_parts):
    files = sorted(str(p) for p in messy_parts.glob("*.parquet"))
    parts = partitions_of(files, partition_rows=12_000)
    assert [p.n_rows for p in parts][:3] == [10_000, 6_001, 10_000]
    assert parts[1].first_row == 10_000 and parts[2].first_row == 16_001
    assert sum(p.n_rows for p in parts) == 48_003


def test_local_cluster_same_as_single_machine(client, sample, messy_parts):
    whole = in_memory(messy_parts, sample.parks)
    reasons = whole[0].rejects["reason"].value_counts()
    assert reasons["duplicate_enterprise_year"] == 3 and len(whole[0].rejects) == 5
    result = park_metrics_dask(
        messy_parts, sample.parks, scheduler=client, partition_rows=12_000, progress=False
    )
    assert result.n_batches == 6
    assert_same(result, *whole)
    dup = result.rejects.query("reason == 'duplicate_enterprise_year'")
    assert dup["message"].str.contains(r"\(source row 5, kept\)").sum() == 2


def test_glob_and_report_options(client, sample, messy_parts):
    report = {"years": [2015], "min_enterprises": 100, "per_mu": True}
    result = park_metrics_dask(
        str(messy_parts / "part-*.parquet"),
        sample.parks,
        scheduler=client.scheduler.address,
        partition_rows=20_000,
        progress=False,
        **report,
    )
    assert_same(result, *in_memory(messy_parts, sample.parks, **report))
    city = result.table.set_index("park_id").loc["ALL"]
    assert city["profit_change"] == pytest.approx(0.45, abs=5e-4)


def test_csv_is_read_here_and_bad_options_are_refused(client, sample, tmp_path):
    csv = tmp_path / "firms.csv"
    csv.write_text("enterprise_id,lon,lat,year\nA,117.2,39.1,2015\n", encoding="utf-8")
    result = park_metrics_dask(csv, sample.parks, scheduler=client, progress=False)
    assert result.n_read == 1 and result.encoding == "utf-8"
    with pytest.raises(InputFormatError, match="no such file"):
        park_metrics_dask(tmp_path / "absent.parquet", sample.parks, scheduler=client)
    path = sample_path("tianjin_enterprises.parquet")
    with pytest.raises(ParkgeoError, match="partition_rows"):
        park_metrics_dask(path, sample.parks, scheduler=client, partition_rows=0)
    with pytest.raises(ParkgeoError, match="overlap"):
        park_metrics_dask(path, sample.parks, scheduler=client, overlap="largest")


def test_cli_scheduler_option(client, sample, messy_parts, tmp_path):
    from parkgeo.cli import main

    parks = str(sample_path("tianjin_parks.parquet"))
    args = ["density", "--parks", parks, "--enterprises", str(messy_parts), "-q"]
    one, on_dask = tmp_path / "one.csv", tmp_path / "dask.csv"
    assert main([*args, "-o", str(one)]) == 0
    address = client.scheduler.address
    assert (
        main([*args, "-o", str(on_dask), "--scheduler", address, "--partition-rows", "9000"]) == 0
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(one), pd.read_csv(on_dask), check_exact=False, rtol=1e-11
    )


def test_cli_workers_starts_and_closes_a_local_cluster(sample, messy_parts, tmp_path):
    import multiprocessing

    from parkgeo.cli import main

    before = len(multiprocessing.active_children())
    out = tmp_path / "dask.csv"
    args = ["density", "--parks", str(sample_path("tianjin_parks.parquet"))]
    args += ["--enterprises", str(messy_parts), "--workers", "1", "-q", "-o", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out)
    expected = in_memory(messy_parts, sample.parks)[2]
    assert table["n_enterprises"].tolist() == expected["n_enterprises"].tolist()
    assert table["n_enterprises"].iloc[-4:].sum() == 48_003 - 5  # ALL rows: read - rejected
    assert len(multiprocessing.active_children()) == before


def test_dask_chatter_stays_off_stderr(tmp_path):
    """``--workers N -q`` prints nothing; without ``-q`` only parkgeo's own lines, never the
    scheduler's and workers' INFO lines; the library leaves Dask's log levels as it found them."""
    import logging
    import subprocess
    import sys
    from pathlib import Path

    from parkgeo.cli import main

    args = ["density", "--parks", str(sample_path("tianjin_parks.parquet"))]
    args += ["--enterprises", str(sample_path("tianjin_enterprises.parquet")), "--workers", "1"]
    root = Path(__file__).resolve().parents[1]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "parkgeo", *args, *extra, "-o", str(tmp_path / "d.csv")],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )

    quiet = run("-q")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    loud = run()
    assert loud.returncode == 0, loud.stderr
    lines = loud.stderr.splitlines()
    assert any("match summary" in line for line in lines)
    for chatter in ("Scheduler at", "Nanny", "Register worker", "Remove client", "Retire worker"):
        assert not any(chatter in line for line in lines), loud.stderr
    before = logging.getLogger("distributed").level
    assert main([*args, "-q", "-o", str(tmp_path / "e.csv")]) == 0
    assert logging.getLogger("distributed").level == before
