"""Batched reading and incremental aggregation: identical to the in-memory path."""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parkgeo import _driver, _runners
from parkgeo._dedupe import SeenKeys, key_hashes
from parkgeo._errors import DataValidationError, InputFormatError, ParkgeoError
from parkgeo._progress import Progress
from parkgeo.datasets import load_tianjin, sample_path
from parkgeo.io import read_enterprises
from parkgeo.join import assign_parks
from parkgeo.metrics import Partials, finish, park_metrics, partials_of
from parkgeo.scale import iter_enterprise_batches, park_metrics_batched, park_metrics_file


@pytest.fixture(scope="module")
def sample():
    return load_tianjin()


def in_memory(path, parks, *, read=None, join=None, report=None):
    loaded = read_enterprises(path, **(read or {}))
    result = assign_parks(loaded.data, parks, nearest=False, **(join or {}))
    table = park_metrics(result.assigned, parks, **(report or {}))
    return loaded, result.summary, table


def assert_same(batched, loaded, summary, table):
    """Counts and the ledger exactly; float figures to summation error."""
    assert batched.n_read == loaded.n_read
    pd.testing.assert_frame_equal(batched.rejects, loaded.rejects)
    pd.testing.assert_frame_equal(batched.summary, summary)
    assert list(batched.table.columns) == list(table.columns)
    for column in table.columns:
        got, want = batched.table[column], table[column]
        if pd.api.types.is_float_dtype(want.dtype):
            np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-9, err_msg=column)
        else:
            pd.testing.assert_series_equal(got, want, check_names=False, obj=column)


@pytest.fixture(scope="module")
def messy_csv(tmp_path_factory, sample):
    """The sample as CSV with problems placed so that batches of 7,000 rows split them:
    duplicates of rows kept in earlier batches, a duplicate inside a batch, bad cells."""
    frame = sample.enterprises.iloc[:20_000].copy()
    text = frame.astype(object).where(frame.notna(), "").astype(str)
    text.iloc[50, text.columns.get_loc("lon")] = "abc"  # non-numeric coordinate
    text.iloc[7_100, text.columns.get_loc("lat")] = ""  # missing coordinate
    text.iloc[9_000, text.columns.get_loc("year")] = "20x5"  # invalid year
    text.iloc[9_001, text.columns.get_loc("energy_tce")] = "-5"  # negative energy
    # Repeats of enterprise-years kept in batch 1, landing in batches 2 and 3; one of them
    # twice (so the in-batch duplicate must also name the row of batch 1).
    repeats = text.iloc[[3, 3, 10, 6_999]].copy()
    # A repeat of a row whose first occurrence is rejected: not a duplicate.
    bad_first = text.iloc[[50]].copy()
    bad_first.iloc[0, text.columns.get_loc("lon")] = str(frame["lon"].iloc[50])
    body = pd.concat(
        [
            text.iloc[:7_500],
            repeats.iloc[:2],
            text.iloc[7_500:15_000],
            repeats.iloc[2:],
            bad_first,
            text.iloc[15_000:],
        ],
        ignore_index=True,
    )
    path = tmp_path_factory.mktemp("messy") / "firms.csv"
    body.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("batch_rows", [7_000, 48_000, 1_000_000])
def test_sample_parquet_same_as_in_memory(sample, batch_rows):
    path = sample_path("tianjin_enterprises.parquet")
    batched = park_metrics_batched(path, sample.parks, batch_rows=batch_rows, progress=False)
    assert batched.n_batches == -(-48_000 // batch_rows)
    assert_same(batched, *in_memory(path, sample.parks))
    city = batched.table.query("park_id == 'ALL' and year == 2015").iloc[0]
    assert city["profit_change"] == pytest.approx(0.45, abs=5e-4)
    assert city["energy_per_value_added_change"] == pytest.approx(-0.0288, abs=5e-5)
    assert city["labour_productivity_change"] == pytest.approx(0.206, abs=5e-4)


def test_messy_csv_ledger_and_figures_identical(sample, messy_csv):
    loaded, summary, table = in_memory(messy_csv, sample.parks)
    reasons = loaded.rejects.set_index("source_row")["reason"]
    # The fixture does what it claims: duplicates across batches and a row behind a reject.
    assert reasons.value_counts()["duplicate_enterprise_year"] == 4
    assert (reasons.loc[[7_500, 7_501, 15_002, 15_003]] == "duplicate_enterprise_year").all()
    assert 15_004 not in reasons.index  # repeats a rejected row: kept
    batched = park_metrics_batched(messy_csv, sample.parks, batch_rows=7_000, progress=False)
    assert batched.n_batches == 3
    assert_same(batched, loaded, summary, table)
    dup = batched.rejects.query("reason == 'duplicate_enterprise_year'")
    assert dup["message"].str.contains(r"\(source row 3, kept\)").sum() == 2
    assert batched.n_read == batched.summary["n"].sum() + len(batched.rejects)


@pytest.mark.parametrize("batch_rows", [7_000, 1_000_000])
def test_duplicates_within_a_batch_found_by_the_whole_file_check(tmp_path, sample, batch_rows):
    # The batched path finds repeats within a batch too from the hashed keys (the first pass
    # skips the validator's own check): a key three times in one batch, and a key repeated
    # both in its own batch and in a later one.
    frame = sample.enterprises.iloc[:9_000]
    rows = [*range(0, 101), 40, 40, 60, *range(101, 9_000), 60]
    body = frame.iloc[rows].reset_index(drop=True)
    path = tmp_path / "dups.csv"
    body.to_csv(path, index=False)
    loaded, summary, table = in_memory(path, sample.parks)
    dup = loaded.rejects.query("reason == 'duplicate_enterprise_year'")
    assert dup["source_row"].tolist() == [101, 102, 103, 9_003]
    batched = park_metrics_batched(path, sample.parks, batch_rows=batch_rows, progress=False)
    assert_same(batched, loaded, summary, table)
    assert batched.rejects["message"].str.contains(r"\(source row 60, kept\)").sum() == 2


def test_redone_batches_without_kept_partials(sample, messy_csv, monkeypatch):
    # Over the bound for keeping first-pass partial sums, a redone batch is recomputed twice.
    monkeypatch.setattr(_driver, "_KEPT_PARTIALS_BYTES", 0)
    batched = park_metrics_batched(messy_csv, sample.parks, batch_rows=7_000, progress=False)
    assert_same(batched, *in_memory(messy_csv, sample.parks))


def test_batches_carry_global_rows_and_their_ledger(messy_csv):
    batches = list(iter_enterprise_batches(messy_csv, batch_rows=7_000, progress=False))
    assert [b.first_row for b in batches] == [0, 7_000, 14_000]
    whole = read_enterprises(messy_csv)
    kept = pd.concat([b.data for b in batches])
    pd.testing.assert_frame_equal(kept, whole.data, check_like=False)
    assert sum(len(b.rejects) for b in batches) == len(whole.rejects)
    for b in batches:
        rows = b.rejects["source_row"]
        assert rows.between(b.first_row, b.first_row + b.n_read - 1).all()


def test_strict_raises_on_a_duplicate_in_a_later_batch(tmp_path, sample):
    frame = sample.enterprises.iloc[:300]
    body = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    path = tmp_path / "dup.csv"
    body.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="duplicate_enterprise_year"):
        park_metrics_batched(path, sample.parks, batch_rows=100, strict=True, progress=False)


def test_gbk_chinese_headers_and_gcj02(tmp_path, sample):
    from parkgeo.coords import wgs84_to_gcj02

    frame = sample.enterprises.iloc[:3_000]
    lon, lat = wgs84_to_gcj02(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    chinese = pd.DataFrame(
        {
            "统一社会信用代码": frame["enterprise_id"],
            "企业名称": frame["name"],
            "行业代码": frame["industry"],
            "经度": np.round(lon, 7),
            "纬度": np.round(lat, 7),
            "年份": frame["year"],
            "纳税总额(万元)": frame["tax"],
            "利润总额(万元)": frame["profit"],
            "工业增加值(万元)": frame["value_added"],
            "综合能耗(吨标准煤)": frame["energy_tce"],
            "从业人员": frame["employees"],
        }
    )
    path = tmp_path / "gbk.csv"
    path.write_bytes(chinese.to_csv(index=False).encode("gbk"))
    read = {"coord_system": "gcj02"}
    batched = park_metrics_batched(
        path, sample.parks, batch_rows=1_000, coord_system="gcj02", progress=False
    )
    loaded, summary, table = in_memory(path, sample.parks, read=read)
    assert loaded.encoding == "gb18030"
    assert_same(batched, loaded, summary, table)


def test_parquet_directory_and_glob(tmp_path, sample):
    frame = sample.enterprises
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, lo in enumerate(range(0, len(frame), 16_000)):
        pq.write_table(
            pa.Table.from_pandas(frame.iloc[lo : lo + 16_000], preserve_index=False),
            folder / f"part-{i:02d}.parquet",
            row_group_size=5_000,
        )
    whole = in_memory(sample_path("tianjin_enterprises.parquet"), sample.parks)
    for path in (folder, str(folder / "part-*.parquet")):
        batched = park_metrics_batched(path, sample.parks, batch_rows=9_000, progress=False)
        assert_same(batched, *whole)


def test_report_options_and_join_options(sample):
    path = sample_path("tianjin_enterprises.parquet")
    report = {"years": [2014, 2015], "baseline_year": 2014, "min_enterprises": 100, "per_mu": True}
    join = {"near_m": 300.0}
    batched = park_metrics_batched(
        path, sample.parks, batch_rows=13_000, progress=False, **report, **join
    )
    assert batched.table["suppressed"].any()
    assert batched.summary.set_index("match").loc["near", "n"] > 0
    assert_same(batched, *in_memory(path, sample.parks, join=join, report=report))


def test_partials_merge_in_any_order(sample):
    assigned = assign_parks(sample.enterprises, sample.parks, nearest=False).assigned
    pieces = [assigned.iloc[i::5] for i in range(5)]
    parts = [partials_of(p, sample.parks) for p in pieces]
    forward = parts[0]
    for p in parts[1:]:
        forward = forward.merge(p)
    backward = parts[-1]
    for p in parts[-2::-1]:
        backward = backward.merge(p)
    one = partials_of(assigned, sample.parks)
    for key, values in one.sums.items():
        np.testing.assert_allclose(forward.sums[key], values, rtol=1e-12, err_msg=key)
        np.testing.assert_allclose(backward.sums[key], values, rtol=1e-12, err_msg=key)
    np.testing.assert_array_equal(forward.division_counts, one.division_counts)
    assert forward.n_rows == len(assigned) == 48_000
    # A year only one piece has is aligned, not misplaced.
    late = assigned.iloc[:10].assign(year=2020)
    merged = one.merge(partials_of(late, sample.parks))
    assert merged.years.tolist() == [2013, 2014, 2015, 2016, 2020]
    assert merged.sums["n"][:, -1].sum() == 10
    table = finish(merged, sample.parks, years=[2020])
    assert table.set_index("park_id").loc["ALL", "n_enterprises"] == 10


def test_finish_refuses_other_parks_and_no_rows(sample):
    with pytest.raises(ParkgeoError, match="nothing to measure"):
        finish(Partials.empty(len(sample.parks)), sample.parks)
    with pytest.raises(ParkgeoError, match="33 parks"):
        finish(Partials.empty(3), sample.parks)


def test_key_hashes_distinct_and_stable():
    ids = pd.Series(["A1", "A1", "1A", "A1 ", "", "企业甲", "A1"], dtype="str")
    years = np.array([2013, 2014, 2013, 2013, 2013, 2013, 2013])
    h1, h2 = key_hashes(ids, years)
    keys = list(zip(h1.tolist(), h2.tolist(), strict=True))
    assert keys[0] == keys[6]  # same id and year
    assert len(set(keys[:6])) == 6  # every other pair differs
    again = key_hashes(ids.iloc[::-1].reset_index(drop=True), years[::-1])
    assert again[0][::-1].tolist() == h1.tolist()


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def test_key_hashes_equal_whole_column_reference():
    """The cache-blocked chain gives the bits of the plain definition, across blocks."""
    rng = np.random.default_rng(5)
    n = 100_003  # three blocks of 32,768 and a remainder
    pool = ["91120101001066749X", "A", "", "企业甲乙丙丁戊己庚辛", "x" * 37, "12 34"]
    ids = pd.Series([pool[i] + str(j % 97) for j, i in enumerate(rng.integers(0, 6, n))])
    years = rng.integers(2013, 2017, n)
    got = key_hashes(ids.astype("str"), years)
    raw = [v.encode() for v in ids]
    width = -(-max(len(b) for b in raw) // 8) * 8
    words = np.frombuffer(b"".join(b.ljust(width, b"\0") for b in raw), dtype="<u8")
    words = words.reshape(n, width // 8)
    tail = np.array([len(b) for b in raw], dtype=np.uint64)
    tail |= years.astype(np.uint64) << np.uint64(32)
    with np.errstate(over="ignore"):
        for seed, hashes in zip((0x243F6A8885A308D3, 0x13198A2E03707344), got, strict=True):
            expected = _splitmix(tail + np.uint64(seed))
            for k in range(words.shape[1]):
                expected = _splitmix(expected ^ (words[:, k] + np.uint64(seed)))
            np.testing.assert_array_equal(hashes, expected)


def test_location_hashes_equal_whole_column_reference():
    from parkgeo._coordcheck import _location_hashes

    rng = np.random.default_rng(6)
    x = rng.uniform(73, 135, 70_001)
    y = rng.uniform(18, 53, 70_001)
    x[:10] = -0.0
    y[10:20] = -0.0
    got = _location_hashes(x, y)
    bx, by = (x + 0.0).view(np.uint64), (y + 0.0).view(np.uint64)
    with np.errstate(over="ignore"):
        h = bx * np.uint64(0x9E3779B97F4A7C15) ^ by
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
    np.testing.assert_array_equal(got, h)
    assert got[0] == _location_hashes(np.array([0.0]), y[:1])[0]  # -0.0 is 0.0


@pytest.mark.parametrize("weak", [False, True])
def test_sample_locations_equal_brute_force(monkeypatch, weak):
    """The sample is the first `size` distinct locations in (hash, lon, lat) order, also when
    many locations share a hash (a weak hash forces collisions)."""
    from parkgeo import _coordcheck

    if weak:
        monkeypatch.setattr(
            _coordcheck,
            "_location_hashes",
            lambda x, y: np.floor((x + 0.0) * 3).astype(np.int64).astype(np.uint64),
        )
    rng = np.random.default_rng(7)
    x = np.round(rng.uniform(110, 120, 40_000), 2)
    y = np.round(rng.uniform(30, 40, 40_000), 2)
    x = np.concatenate([x, x[:20_000], [np.nan, 2.35]])  # repeats, a NaN, a point in Paris
    y = np.concatenate([y, y[:20_000], [31.0, 48.85]])
    for size in (1, 10, 700, 5_000):
        got = _coordcheck.sample_locations(x, y, size=size)
        keep = np.isfinite(x) & np.isfinite(y)
        xs, ys = x[keep] + 0.0, y[keep] + 0.0
        inside = _coordcheck.in_china(xs, ys)
        xs, ys = xs[inside], ys[inside]
        h = _coordcheck._location_hashes(xs, ys)
        order = np.lexsort((ys, xs, h))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (xs[order][1:] != xs[order][:-1]) | (ys[order][1:] != ys[order][:-1])
        chosen = order[first][:size]
        np.testing.assert_array_equal(got, np.column_stack([xs[chosen], ys[chosen]]))


def test_seen_keys_lookup_add_and_first_hash_collisions():
    seen = SeenKeys()
    rng = np.random.default_rng(0)
    for batch in range(6):
        h1 = rng.integers(0, 2**63, 1_000, dtype=np.int64).astype(np.uint64)
        h2 = rng.integers(0, 2**63, 1_000, dtype=np.int64).astype(np.uint64)
        assert (seen.lookup(h1, h2) == -1).all()
        seen.add(h1, h2, np.arange(batch * 1_000, batch * 1_000 + 1_000))
        found = seen.lookup(h1, h2)
        np.testing.assert_array_equal(found, np.arange(batch * 1_000, batch * 1_000 + 1_000))
    assert len(seen) == 6_000 and seen.nbytes == 6_000 * 24
    # Equal first hash, different second hash: two keys, told apart.
    seen.add(np.array([7, 7], np.uint64), np.array([1, 2], np.uint64), np.array([90, 91]))
    found = seen.lookup(np.array([7, 7, 7], np.uint64), np.array([2, 1, 3], np.uint64))
    assert found.tolist() == [91, 90, -1]


def test_bad_options_and_inputs(tmp_path, sample):
    path = sample_path("tianjin_enterprises.parquet")
    with pytest.raises(ParkgeoError, match="batch_rows"):
        park_metrics_batched(path, sample.parks, batch_rows=0)
    with pytest.raises(ParkgeoError, match="min_enterprises"):
        park_metrics_batched(path, sample.parks, min_enterprises=0)
    xlsx = tmp_path / "firms.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputFormatError, match="not a readable .xlsx"):
        park_metrics_batched(xlsx, sample.parks)
    with pytest.raises(InputFormatError, match="no such file"):
        park_metrics_batched(tmp_path / "absent.csv", sample.parks)
    only_rejects = tmp_path / "bad.csv"
    only_rejects.write_text("enterprise_id,lon,lat,year\nA,0,0,2015\n", encoding="utf-8")
    with pytest.raises(ParkgeoError, match="no enterprise rows were kept"):
        park_metrics_batched(only_rejects, sample.parks, progress=False)


def test_late_non_utf8_bytes_name_the_fix(tmp_path, sample):
    frame = sample.enterprises.copy()
    frame.iloc[-1, frame.columns.get_loc("enterprise_id")] = "天津某公司"
    path = tmp_path / "late.csv"
    text = frame.to_csv(index=False)
    head, tail = text[: len(text) - 200], text[len(text) - 200 :]
    path.write_bytes(head.encode("utf-8") + tail.encode("gbk"))
    assert path.stat().st_size > 4 * 1024 * 1024
    with pytest.raises(InputFormatError, match="--encoding"):
        park_metrics_batched(path, sample.parks, progress=False)


# -- progress --------------------------------------------------------------------------------


def test_progress_terminal_bar():
    out = io.StringIO()
    with Progress("join", total=200, enabled=True, stream=out, terminal=True) as bar:
        bar.update(100)
        bar.update(100)
    text = out.getvalue()
    assert text.startswith("\rparkgeo: join [") and text.endswith("\n")
    assert "200/200 rows (100%)" in text


def test_progress_log_lines_every_tenth(caplog):
    with (
        caplog.at_level(logging.INFO, logger="parkgeo"),
        Progress("read", total=1_000, stream=io.StringIO(), terminal=False) as bar,
    ):
        for _ in range(100):
            bar.update(10)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10  # 10%, 20%, ... 90%, and the final line
    assert lines[0].startswith("read: 100/1.0k rows (10%)")
    assert lines[-1].startswith("read: 1.0k/1.0k rows (100%)")


def test_progress_quiet_shows_nothing(caplog):
    out = io.StringIO()
    with (
        caplog.at_level(logging.WARNING, logger="parkgeo"),
        Progress("read", total=10, stream=out, terminal=True) as bar,
    ):
        bar.update(10)
    assert out.getvalue() == "" and not caplog.records


# -- command line ----------------------------------------------------------------------------


def test_cli_batch_rows_gives_the_same_table_and_ledger(tmp_path, messy_csv, caplog):
    from parkgeo.cli import main

    parks = str(sample_path("tianjin_parks.parquet"))
    outputs = {}
    for name, extra in (("one", []), ("batched", ["--batch-rows", "7000"])):
        out, rejects = tmp_path / f"{name}.csv", tmp_path / f"{name}_rejects.csv"
        args = ["density", "--parks", parks, "--enterprises", str(messy_csv), "-o", str(out)]
        with caplog.at_level(logging.INFO, logger="parkgeo"):
            assert main([*args, "--rejects", str(rejects), *extra]) == 0
        outputs[name] = (pd.read_csv(out), rejects.read_bytes())
    err = caplog.text
    assert "in 3 batches: 19997 kept, 8 rejected" in err
    assert "density: 20.0k rows" in err  # progress as log lines (stderr is not a terminal)
    one, batched = outputs["one"], outputs["batched"]
    assert one[1] == batched[1]  # the reject ledger, byte for byte
    pd.testing.assert_frame_equal(one[0], batched[0], check_exact=False, rtol=1e-11)
    loaded, _, table = in_memory(messy_csv, load_tianjin().parks)
    assert one[0]["n_enterprises"].tolist() == table["n_enterprises"].tolist()


def test_cli_scale_options_are_checked(capsys):
    from parkgeo.cli import main

    args = ["density", "--parks", str(sample_path("tianjin_parks.parquet")), "--enterprises"]
    firms = str(sample_path("tianjin_enterprises.parquet"))
    assert main([*args, firms, "--batch-rows", "0", "-q"]) == 3
    assert main([*args, firms, "--batch-rows", "10", "--workers", "2", "-q"]) == 3
    assert main([*args, firms, "--partition-rows", "10", "-q"]) == 3
    err = capsys.readouterr().err
    assert "--batch-rows must be 1 or more" in err and "choose one" in err
    assert "--partition-rows applies to Dask" in err


# -- property: any batching gives the in-memory figures ---------------------------------------


@pytest.fixture(scope="module")
def sample_reference(sample):
    path = sample_path("tianjin_enterprises.parquet")
    return in_memory(path, sample.parks)


def test_any_batch_size_and_row_groups_give_the_same_table(sample, sample_reference, tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    frame = sample.enterprises

    @settings(max_examples=8, deadline=None)
    @given(
        batch_rows=st.integers(min_value=700, max_value=60_000),
        row_group=st.integers(min_value=500, max_value=50_000),
    )
    def check(batch_rows: int, row_group: int) -> None:
        path = tmp_path / f"rg{row_group}.parquet"
        if not path.exists():
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group
            )
        batched = park_metrics_batched(path, sample.parks, batch_rows=batch_rows, progress=False)
        loaded, summary, table = sample_reference
        assert_same(batched, loaded, summary, table)

    check()


# -- worker processes (jobs=) -----------------------------------------------------------------


def test_worker_processes_same_as_in_memory_on_the_sample(sample, sample_reference, tmp_path):
    # The bundled sample in row groups of 8,000 rows: six partitions over two workers.
    path = tmp_path / "sample_rg.parquet"
    table = pq.read_table(sample_path("tianjin_enterprises.parquet"))
    pq.write_table(table, path, row_group_size=8_000)
    result = park_metrics_batched(path, sample.parks, batch_rows=8_000, jobs=2, progress=False)
    assert result.n_batches == 6
    assert_same(result, *sample_reference)
    city = result.table.query("park_id == 'ALL' and year == 2015").iloc[0]
    assert city["profit_change"] == pytest.approx(0.45, abs=5e-4)


def test_worker_processes_find_duplicates_across_row_groups(tmp_path, sample):
    # Repeats of rows kept in row group 0 land in groups 1 and 2 (one key twice), a repeat
    # within group 1, and a bad cell: the ledger must name the kept rows as in one pass.
    frame = sample.enterprises.iloc[:9_000]
    rows = [*range(0, 3_000), 5, *range(3_000, 3_500), 3_100, *range(3_500, 6_000), 5, 17]
    rows += list(range(6_000, 9_000))
    body = frame.iloc[rows].reset_index(drop=True)
    body.loc[4_000, "lon"] = np.nan
    path = tmp_path / "dups.parquet"
    pq.write_table(pa.Table.from_pandas(body, preserve_index=False), path, row_group_size=3_000)
    loaded, summary, table = in_memory(path, sample.parks)
    dup = loaded.rejects.query("reason == 'duplicate_enterprise_year'")
    assert dup["source_row"].tolist() == [3_000, 3_501, 6_002, 6_003]
    result = park_metrics_batched(path, sample.parks, batch_rows=3_000, jobs=2, progress=False)
    assert result.n_batches == 4
    assert_same(result, loaded, summary, table)
    assert result.rejects["message"].str.contains(r"\(source row 5, kept\)").sum() == 2
    assert (result.rejects["reason"] == "missing_coordinate").sum() >= 1


def test_worker_processes_strict_raises_the_first_problem(tmp_path, sample):
    frame = sample.enterprises.iloc[:3_000]
    body = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_pandas(body, preserve_index=False), path, row_group_size=1_000)
    with pytest.raises(DataValidationError, match="duplicate_enterprise_year"):
        park_metrics_batched(
            path, sample.parks, batch_rows=1_000, jobs=2, strict=True, progress=False
        )


def test_threads_default_by_size_and_cores_and_slices_by_input(sample, messy_csv, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr("os.getloadavg", lambda: (0.3, 0.3, 0.3))
    assert _runners.split_for(48_000, "parquet", 0) == 1  # small: one slice, one thread
    assert _runners.auto_threads(1) == 1
    big = _runners.SPLIT_ROWS
    assert _runners.split_for(big, "parquet", 0) == _runners.SPLIT == 2
    assert _runners.split_for(None, "csv", 16 << 20) == 2  # a CSV by its size
    assert _runners.auto_threads(2) == 2
    monkeypatch.setattr("os.getloadavg", lambda: (4.2, 4.0, 4.0))  # both cores busy
    assert _runners.auto_threads(2) == 2  # threads still get a larger share of the machine
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    assert _runners.auto_threads(2) == 1  # one core
    assert _runners.split_for(big, "parquet", 0) == 2  # the slices never follow the load
    with pytest.raises(ParkgeoError, match="jobs must be a whole number"):
        park_metrics_batched(messy_csv, sample.parks, jobs=0)
    with pytest.raises(ParkgeoError, match="threads must be a whole number"):
        park_metrics_batched(messy_csv, sample.parks, threads=0)


def test_threads_give_the_same_bytes_as_one_thread(sample, monkeypatch):
    """Slices are fixed by the input: one thread or two, the table is the same, bit for bit,
    and the ledger too."""
    monkeypatch.setattr("parkgeo._runners.SPLIT_ROWS", 10_000)
    path = sample_path("tianjin_enterprises.parquet")
    one = park_metrics_file(path, sample.parks, threads=1, progress=False)
    two = park_metrics_file(path, sample.parks, threads=2, progress=False)
    assert one.n_batches == two.n_batches == 2
    assert (one.threads, two.threads) == (1, 2)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    pd.testing.assert_frame_equal(one.rejects, two.rejects)
    monkeypatch.setattr("parkgeo._runners.SPLIT_ROWS", 10**9)
    whole = park_metrics_file(path, sample.parks, progress=False)
    assert whole.n_batches == 1
    pd.testing.assert_frame_equal(whole.table, one.table, rtol=1e-12)
    pd.testing.assert_frame_equal(whole.rejects, one.rejects)


def test_cli_jobs_gives_the_same_table(tmp_path, sample, capsys):
    from parkgeo.cli import main

    path = tmp_path / "rg.parquet"
    table = pq.read_table(sample_path("tianjin_enterprises.parquet"))
    pq.write_table(table, path, row_group_size=12_000)
    parks = str(sample_path("tianjin_parks.parquet"))
    outputs = []
    for extra in ([], ["--jobs", "2", "--batch-rows", "12000"]):
        out = tmp_path / f"out{len(outputs)}.csv"
        args = ["density", "--parks", parks, "--enterprises", str(path), "-o", str(out), "-q"]
        assert main([*args, *extra]) == 0
        outputs.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(outputs[0], outputs[1], check_exact=False, rtol=1e-11)
    firms = str(path)
    assert main(["density", "--parks", parks, "--enterprises", firms, "--jobs", "0", "-q"]) == 3
    assert main(["density", "--parks", parks, "--enterprises", firms, "--jobs", "2",
                 "--workers", "2", "-q"]) == 3  # fmt: skip
    err = capsys.readouterr().err
    assert "--jobs must be 1 or more" in err and "choose one" in err


def test_excel_in_parts_with_blank_rows_and_a_repeat_across_parts(tmp_path, sample):
    """Excel source rows skip blank lines; a repeated enterprise-year in a later part is
    ledgered naming the kept row, exactly as when the sheet is read whole."""
    import openpyxl

    from parkgeo.scale import park_metrics_file

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["enterprise_id", "lon", "lat", "year", "tax"])
    sheet.append(["A", 117.2, 39.1, 2015, 1])
    sheet.append(["B", 117.3, 39.1, 2015, 2])
    sheet.append(["C", 117.2, 39.2, 2015, 3])
    sheet.append([None, None, None, None, None])  # a blank line: not a data row (row 3)
    sheet.append(["A", 117.2, 39.1, 2015, 4])  # row 4 repeats row 0, in the second part
    path = tmp_path / "firms.xlsx"
    book.save(path)
    whole = park_metrics_file(path, sample.parks)
    parts = park_metrics_file(path, sample.parks, backend="batched", batch_rows=2)
    assert parts.n_batches == 2 and whole.n_batches == 1
    pd.testing.assert_frame_equal(parts.rejects, whole.rejects)
    assert whole.rejects["source_row"].tolist() == [4]
    assert whole.rejects["reason"].tolist() == ["duplicate_enterprise_year"]
    assert "source row 0" in whole.rejects["message"].iloc[0]
    pd.testing.assert_frame_equal(parts.table, whole.table, rtol=1e-12)


def test_sliced_parquet_batches_give_the_whole_file_outcome(tmp_path, sample, monkeypatch):
    """Batches of whole row groups, each cut in two slices for two threads: repeats across
    slices and batches are found, and the ledger and table are the whole-file ones."""
    frame = sample.enterprises.iloc[:9_000]
    body = pd.concat([frame, frame.iloc[[10, 4_500]], frame.iloc[[8_999]]], ignore_index=True)
    path = tmp_path / "rg.parquet"
    pq.write_table(pa.Table.from_pandas(body, preserve_index=False), path, row_group_size=2_500)
    whole = park_metrics_file(path, sample.parks, progress=False)
    monkeypatch.setattr("parkgeo._runners.SPLIT_ROWS", 0)
    sliced = park_metrics_batched(path, sample.parks, batch_rows=5_000, threads=2, progress=False)
    assert sliced.n_batches == 4  # 2 batches of 2 row groups (5,000 and 4,003 rows), 2 slices each
    pd.testing.assert_frame_equal(sliced.rejects, whole.rejects)
    assert sorted(sliced.rejects["source_row"]) == [9_000, 9_001, 9_002]
    pd.testing.assert_frame_equal(sliced.table, whole.table, rtol=1e-12)
