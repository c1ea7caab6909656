"""Every kind of bad input in ``tests/_bad_inputs.py`` gives the outcome documented in
``docs/bad-inputs.md``: through the library, and through ``parkgeo density`` (never a
traceback; exit 3 and one line naming the problem for errors; exit 0 and a ledger row for
ledgered rows, exit 3 for those under ``--strict``)."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from _bad_inputs import CASE_IDS, CASES, Case

import parkgeo
from parkgeo.cli import main
from parkgeo.io import read_enterprises, read_parks

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-inputs.md"


def _params() -> list[object]:
    return [pytest.param(case, id=case.kind) for case in CASES]


def _words_in(text: str, case: Case) -> None:
    for word in case.words:
        assert word.lower() in text.lower(), f"{case.kind}: {word!r} not in {text!r}"


def test_catalogue_has_at_least_30_kinds():
    assert len(CASES) >= 30
    assert len(set(CASE_IDS)) == len(CASE_IDS)
    assert {c.outcome for c in CASES} == {"repaired", "ledgered", "error"}


def test_the_document_lists_every_kind_with_its_outcome():
    text = DOC.read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(CASE_IDS)
    for case in CASES:
        cells = rows[case.kind]
        assert case.outcome in cells[2], (case.kind, cells)
        assert case.detail.split(",")[0].split(" ")[0] in " ".join(cells), (case.kind, cells)
        assert str(case.exit_code) in cells[-1], (case.kind, cells)


@pytest.mark.parametrize("case", _params())
def test_library_outcome(case: Case, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    inputs = case.write(tmp_path)
    caplog.set_level(logging.INFO, logger="parkgeo")
    path = inputs.enterprises if case.target == "enterprises" else inputs.parks
    reader = read_enterprises if case.target == "enterprises" else read_parks
    started = time.perf_counter()
    if case.outcome == "error":
        error_class = getattr(parkgeo, case.detail)
        with pytest.raises(error_class) as info:
            reader(path, **inputs.read)
        message = str(info.value)
        assert path.name in message, message
        _words_in(message, case)
        return
    result = reader(path, **inputs.read)
    elapsed = time.perf_counter() - started
    if case.kind == "million_vertex_park":
        print(f"read_parks of a 1,000,000-vertex park: {elapsed:.2f} s")
    if case.outcome == "ledgered":
        assert result.n_read == len(result.data) + len(result.rejects)
        assert len(result.rejects) == 1, result.rejects
        row = result.rejects.iloc[0]
        assert row["reason"] == case.detail
        _words_in(row["message"] + " " + row["value"], case)
        # the good rows all survive
        assert result.data["enterprise_id"].tolist() == ["E1", "E2", "E3"]
    else:
        if case.target == "enterprises":
            assert result.n_read == len(result.data) and len(result.rejects) == 0
        _words_in(caplog.text, case)
    if case.check is not None:
        case.check(result)


def _density(inputs, out: Path, *extra: str) -> list[str]:
    return [
        "density",
        "-q",
        "--parks",
        str(inputs.parks),
        "--enterprises",
        str(inputs.enterprises),
        "-o",
        str(out),
        "--baseline-year",  # the catalogue's rows are of 2015: no "no baseline" warning
        "2015",
        *inputs.cli,
        *extra,
    ]


@pytest.mark.parametrize("case", _params())
def test_command_line_outcome(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog
):
    inputs = case.write(tmp_path)
    out = tmp_path / "density.csv"
    rejects = tmp_path / "rejects.csv"
    started = time.perf_counter()
    code = main(_density(inputs, out, "--rejects", str(rejects)))
    elapsed = time.perf_counter() - started
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == case.exit_code, err
    if case.kind == "million_vertex_park":
        print(f"parkgeo density with a 1,000,000-vertex park: {elapsed:.2f} s")
    if case.outcome == "error":
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, err
        assert lines[0].startswith("parkgeo density: error: "), err
        bad_file = inputs.enterprises if case.target == "enterprises" else inputs.parks
        assert str(bad_file) in lines[0]
        _words_in(lines[0], case)
        assert not out.exists()
        return
    assert err == ""
    table = pd.read_csv(out)
    assert set(table["park_id"]) >= {"ALL", "ALL_PARKS"}
    ledger = pd.read_csv(rejects, keep_default_na=False)
    if case.outcome == "ledgered":
        assert ledger["reason"].tolist() == [case.detail]
        all_rows = table[(table["park_id"] == "ALL") & (table["year"] == 2015)]
        assert all_rows["n_enterprises"].tolist() == [3]
        # --strict turns the ledger into exit 3 with the problem named
        code = main(_density(inputs, tmp_path / "strict.csv", "--strict"))
        err = capsys.readouterr().err
        assert code == 3 and "Traceback" not in err
        assert err.startswith("parkgeo density: error: ")
        assert case.detail in err and str(inputs.enterprises) in err
    else:
        assert len(ledger) == 0


def test_no_overlap_warns_loudly(tmp_path: Path, caplog, capsys):
    case = CASES[CASE_IDS.index("parks_and_enterprises_do_not_overlap")]
    inputs = case.write(tmp_path)
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        assert main(_density(inputs, tmp_path / "d.csv")) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(re.search(r"0 of 2 enterprises", w) for w in warnings), warnings
    joined = " ".join(warnings)
    assert "coord" in joined.lower()  # the likely causes are named


def test_gcj02_outside_china_is_reported(tmp_path: Path, caplog):
    case = CASES[CASE_IDS.index("gcj02_points_outside_china")]
    inputs = case.write(tmp_path)
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        read_enterprises(inputs.enterprises, **inputs.read)
    assert "outside China" in caplog.text and "1 " in caplog.text


def test_conversions_are_logged(tmp_path: Path, caplog):
    case = CASES[CASE_IDS.index("units_in_cells")]
    inputs = case.write(tmp_path)
    with caplog.at_level(logging.INFO, logger="parkgeo"):
        read_enterprises(inputs.enterprises)
    assert "tax" in caplog.text and "123万元" in caplog.text


ERRORS = [case for case in CASES if case.outcome == "error"]


@pytest.mark.parametrize("case", ERRORS, ids=[c.kind for c in ERRORS])
def test_join_command_gives_the_same_one_line_errors(case: Case, tmp_path: Path, capsys):
    inputs = case.write(tmp_path)
    out = tmp_path / "joined.csv"
    argv = ["join", "-q", "--parks", str(inputs.parks), "--enterprises", str(inputs.enterprises)]
    code = main([*argv, "-o", str(out), *inputs.cli])
    err = capsys.readouterr().err
    assert code == 3, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("parkgeo join: error: "), err
    _words_in(lines[0], case)
    assert not out.exists()


def test_no_overlap_warning_reaches_stderr_even_with_quiet(tmp_path: Path):
    """In a real process (no pytest log capture): the warning is on standard error."""
    import subprocess
    import sys

    case = CASES[CASE_IDS.index("parks_and_enterprises_do_not_overlap")]
    inputs = case.write(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "parkgeo.cli", *_density(inputs, tmp_path / "d.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "0 of 2 enterprises are in any park" in done.stderr
    assert "Traceback" not in done.stderr


# -- every backend gives the whole-file outcome -----------------------------------------------

# memory: the whole file as one part; batched: parts of 2 rows here (so every repeat, ledger
# row and conversion crosses parts); process: the same parts in 2 worker processes; dask: the
# same parts as tasks on a Dask cluster.
BACKEND_OPTIONS = {
    "memory": {"backend": "memory"},
    "batched": {"backend": "batched", "batch_rows": 2},
    "process": {"backend": "batched", "batch_rows": 2, "jobs": 2},
    "dask": {"backend": "dask", "partition_rows": 2},
    # every part cut in slices that two threads share, as for inputs of 200,000 rows or more
    "threads": {"backend": "memory", "threads": 2, "split_all": True},
    "batched threads": {"backend": "batched", "batch_rows": 3, "threads": 2, "split_all": True},
    # one part whose steps share a second core (ids checked in a second thread, the parks'
    # point-in-polygon pass in two runs), as for a table of 200,000 rows or more
    "memory shared": {"backend": "memory", "share_all": True},
}


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    client = distributed.Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0"
    )
    yield client
    client.close()


def _outcome(
    case: Case, inputs, options: dict, caplog: pytest.LogCaptureFixture
) -> dict[str, object]:
    """Everything a user sees from ``park_metrics_file``: the error, or the table, ledger,
    attrs, encoding and counts; and every log record of the parkgeo logger."""
    from parkgeo.scale import park_metrics_file

    read = dict(inputs.read)
    if case.target == "parks":
        parks_read, enterprise_read = read, {}
    else:
        parks_read, enterprise_read = {}, read
    if "years" in enterprise_read:
        enterprise_read["accept_years"] = enterprise_read.pop("years")
    caplog.clear()
    out: dict[str, object] = {}
    options = dict(options)
    split_all = options.pop("split_all", False)
    share_all = options.pop("share_all", False)
    try:
        parks = read_parks(inputs.parks, **parks_read)
        caplog.clear()  # the parks are read once, the same way, for every backend
        with pytest.MonkeyPatch.context() as patch:
            if split_all:
                patch.setattr("parkgeo._runners.SPLIT_ROWS", 0)
            if share_all:
                patch.setattr("parkgeo._cores.PARALLEL_ROWS", 0)
                patch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
            result = park_metrics_file(
                inputs.enterprises, parks, progress=False, **enterprise_read, **options
            )
    except parkgeo.ParkgeoError as exc:
        out["error"] = (type(exc).__name__, str(exc))
    else:
        out.update(
            table=result.table,
            rejects=result.rejects,
            rejects_attrs=dict(result.rejects.attrs),
            summary=result.summary,
            attrs=result.attrs,
            encoding=result.encoding,
            n_read=result.n_read,
        )
    out["records"] = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("parkgeo")
    ]
    return out


@pytest.mark.parametrize("case", _params())
def test_every_backend_gives_the_whole_file_outcome(
    case: Case, tmp_path: Path, caplog: pytest.LogCaptureFixture, dask_client
):
    if case.kind == "million_vertex_park":
        pytest.skip("the parks file is read once, before any backend; timed above")
    inputs = case.write(tmp_path)
    caplog.set_level(logging.INFO, logger="parkgeo")
    outcomes = {}
    for name, options in BACKEND_OPTIONS.items():
        extra = {"scheduler": dask_client} if name == "dask" else {}
        outcomes[name] = _outcome(case, inputs, {**options, **extra}, caplog)
    whole = outcomes.pop("memory")
    if case.target == "enterprises" and case.outcome != "error":
        # the result is the whole-file reader's: its attrs, encoding and ledger
        loaded = read_enterprises(inputs.enterprises, **inputs.read)
        assert whole["attrs"] == loaded.data.attrs
        assert whole["encoding"] == loaded.encoding
        pd.testing.assert_frame_equal(whole["rejects"], loaded.rejects)
    for name, got in outcomes.items():
        assert set(got) == set(whole), (name, got.get("error"))
        assert got["records"] == whole["records"], name
        if "error" in whole:
            assert got["error"] == whole["error"], name
            continue
        for key in ("attrs", "encoding", "n_read", "rejects_attrs"):
            assert got[key] == whole[key], (name, key)
        pd.testing.assert_frame_equal(got["rejects"], whole["rejects"], obj=name)
        pd.testing.assert_frame_equal(got["summary"], whole["summary"], obj=name)
        pd.testing.assert_frame_equal(got["table"], whole["table"], rtol=1e-12, obj=name)


# -- enterprise readers (issue 11): outcomes outside the table ---------------------------------


def _firms(tmp_path: Path, text: str, name: str = "firms.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_needed_measure_without_a_column_is_loud(tmp_path: Path, caplog, capsys):
    from _bad_inputs import GOOD_ROWS, good_parks

    firms = _firms(
        tmp_path, "enterprise_id,name,industry,lon,lat,year,税负小计,energy_tce\n" + GOOD_ROWS
    )
    parks = good_parks(tmp_path)
    argv = ["density", "-q", "--parks", str(parks), "--enterprises", str(firms)]
    with caplog.at_level(logging.INFO, logger="parkgeo"):
        assert main([*argv, "-o", str(tmp_path / "d.csv"), "--baseline-year", "2015"]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("no column for tax" in w and "'税负小计' (closest: tax)" in w for w in warnings)
    assert "headers not used: '税负小计' (closest: tax)" in caplog.text
    capsys.readouterr()
    code = main([*argv, "-o", str(tmp_path / "s.csv"), "--strict"])
    err = capsys.readouterr().err
    assert code == 3 and err.startswith("parkgeo density: error: ")
    assert "no column for tax" in err and str(firms) in err
    loaded = read_enterprises(firms)
    assert loaded.data.attrs["columns_unused"] == {"税负小计": "tax"}
    assert "tax" in loaded.data.attrs["columns_not_found"]


def test_data_without_the_baseline_year_is_said(tmp_path: Path, caplog):
    from _bad_inputs import GOOD_ROWS, HEADER, good_parks

    firms = _firms(tmp_path, HEADER + GOOD_ROWS)
    argv = ["density", "-q", "--parks", str(good_parks(tmp_path)), "--enterprises", str(firms)]
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        assert main([*argv, "-o", str(tmp_path / "d.csv")]) == 0
    text = caplog.text
    assert "no rows for the baseline year 2013 (years present: 2015)" in text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        assert main([*argv, "-o", str(tmp_path / "e.csv"), "--baseline-year", "2015"]) == 0
    assert "baseline year" not in caplog.text


@pytest.mark.parametrize("how", ["-", "/dev/stdin"])
def test_enterprises_from_standard_input(tmp_path: Path, how: str):
    import subprocess
    import sys

    from _bad_inputs import GOOD_ROWS, HEADER, good_parks

    out = tmp_path / "d.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parkgeo",
            "density",
            "-q",
            "--parks",
            str(good_parks(tmp_path)),
            "--enterprises",
            how,
            "--baseline-year",
            "2015",
            "-o",
            str(out),
        ],
        input=(HEADER + GOOD_ROWS).encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out).set_index(["park_id", "year"])
    assert table.loc[("ALL", 2015), "n_enterprises"] == 3
    assert table.loc[("ALL", 2015), "tax"] == 60


def test_columns_that_is_a_directory_is_a_data_error(tmp_path: Path, capsys):
    from _bad_inputs import good_enterprises, good_parks

    folder = tmp_path / "columns.toml"
    folder.mkdir()
    argv = ["density", "-q", "--parks", str(good_parks(tmp_path))]
    argv += ["--enterprises", str(good_enterprises(tmp_path)), "--columns", str(folder)]
    code = main([*argv, "-o", str(tmp_path / "d.csv")])
    err = capsys.readouterr().err
    assert code == 3 and str(folder) in err and "directory" in err


def test_a_bomb_is_refused_by_every_backend_before_rows_flow(tmp_path: Path):
    """The gzip bomb is refused at planning: a 2-row batched run does not grind through it."""
    from _bad_inputs_readers import write_gzip_bomb

    from parkgeo.scale import park_metrics_file

    inputs = write_gzip_bomb(tmp_path)
    parks = read_parks(inputs.parks)
    started = time.perf_counter()
    with pytest.raises(parkgeo.InputFormatError, match="too large when decompressed"):
        park_metrics_file(inputs.enterprises, parks, backend="batched", batch_rows=2)
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("backend", ["memory", "batched"])
def test_sums_carry_no_float_noise(tmp_path: Path, backend: str):
    """0.1 + 0.2 is 0.30000000000000004 in floats: sums are rounded to the data's decimals."""
    from _bad_inputs import HEADER, good_parks

    from parkgeo.scale import park_metrics_file

    rows = "".join(
        f"E{i},x,C2710,117.05,39.05,2015,{tax},{energy}\n"
        for i, (tax, energy) in enumerate([(0.1, 1), (0.2, 2), (0.7, 3)])
    )
    firms = _firms(tmp_path, HEADER + rows)
    parks = read_parks(good_parks(tmp_path))
    result = park_metrics_file(
        firms, parks, backend=backend, batch_rows=1, baseline_year=2015, progress=False
    )
    table = result.table.set_index("park_id")
    assert table.loc["P1", "tax"] == 1.0 and table.loc["ALL", "energy_tce"] == 6.0
    assert result.attrs["precision"] == {"tax": 1, "energy_tce": 0}
    assert 0.1 + 0.2 != 0.3  # the noise the rounding removes


def test_empty_standard_input_is_named_as_such(tmp_path: Path):
    import subprocess
    import sys

    from _bad_inputs import good_parks

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parkgeo",
            "density",
            "-q",
            "--parks",
            str(good_parks(tmp_path)),
            "--enterprises",
            "-",
            "-o",
            str(tmp_path / "d.csv"),
        ],
        input=b"",
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 3
    assert done.stderr.decode().strip() == "parkgeo density: error: <stdin>: the file is empty"
