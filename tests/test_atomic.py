"""Every file parkgeo writes appears whole or not at all.

* Every place in the package that writes a file goes through :func:`parkgeo.io.atomic_write`
  or :func:`parkgeo.io.atomic_path` (checked on the source code).
* An exception in the middle of a write leaves the previous file untouched and no temporary
  file behind, for every output format and for the maps.
* A process killed (SIGKILL) while writing leaves the previous file whole (or the new one
  whole): the temporary file it could not remove is hidden and recognisable,
  ``.<name>.<random>.tmp<suffix>`` beside the target (see docs/bad-inputs.md).
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

import parkgeo.io as pio
from parkgeo.io import atomic_path, atomic_write, write_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "parkgeo"
TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[A-Za-z0-9_]+\.tmp(\.[A-Za-z0-9]+)?$")

# Calls that write files, by method name; and the functions allowed to make them because
# they write into atomic_write's handle or atomic_path's temporary path (or a memory buffer).
WRITING_METHODS = {
    "to_file",
    "to_parquet",
    "to_csv",
    "to_excel",
    "to_feather",
    "write_text",
    "write_bytes",
    "save",
    "savefig",
    "write_dataframe",
    "write_table",
    "dump",
}
ALLOWED = {
    ("io.py", "_write_parquet"),  # writes into atomic_write's file handle
    ("io.py", "_write_gpkg"),  # writes atomic_path's temporary path
    ("_writers.py", "format_csv"),  # into a StringIO
    ("io.py", "write_table"),  # parkgeo.io.write_table itself
    ("io.py", "atomic_write"),  # opens the temporary file
    ("_outputs.py", "stream_to"),  # a special file (/dev/stdout, FIFO): streamed, never replaced
    ("_xlsx.py", "write_sheets"),  # opens zip members inside the caller's atomic_write handle
}


class Injected(Exception):
    """Raised by the tests in the middle of a write."""


def _writes_in(path: Path) -> list[tuple[str, str, int]]:
    """(function, call, line) of every file-writing call in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str, int]] = []

    class Visitor(ast.NodeVisitor):
        def __init__(self) -> None:
            self.stack: list[str] = []

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            self.stack.append(node.name)
            self.generic_visit(node)
            self.stack.pop()

        visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

        def visit_Call(self, node: ast.Call) -> None:
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            where = self.stack[0] if self.stack else "<module>"
            if name in WRITING_METHODS:
                found.append((where, name, node.lineno))
            if name == "open" and _write_mode(node):
                found.append((where, "open", node.lineno))
            self.generic_visit(node)

    Visitor().visit(tree)
    return found


def _write_mode(node: ast.Call) -> bool:
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "os"
    ):
        # os.open(path, flags): a write needs one of these flags
        flags = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        return bool(flags & {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"})
    modes = [a for a in node.args[1:2]] + [k.value for k in node.keywords if k.arg == "mode"]
    for mode in modes:
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
            if set(mode.value) & set("wax+"):
                return True
        elif not isinstance(mode, ast.Constant):
            return True  # a mode chosen at run time: check it by hand
    return False


def test_every_file_write_in_the_package_is_atomic():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for function, call, line in _writes_in(path):
            if (path.name, function) in ALLOWED:
                continue
            if call == "write_table" and path.name != "io.py":
                continue  # parkgeo.io.write_table is atomic
            offenders.append(f"{path.relative_to(ROOT)}:{line} {function}() calls {call}")
    assert offenders == [], "\n".join(offenders)


def test_the_scan_finds_a_plain_write(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f(df, p):\n    df.to_csv(p)\n    open(p, 'w')\n    open(p)\n", encoding="utf-8"
    )
    assert [(f, c) for f, c, _ in _writes_in(module)] == [("f", "to_csv"), ("f", "open")]


# --------------------------------------------------------------------------------------------
# an exception in the middle of a write
# --------------------------------------------------------------------------------------------


def _table() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": [f"P{i}" for i in range(50)], "tax": [float(i) for i in range(50)]},
        geometry=[box(117 + i * 0.01, 39, 117.005 + i * 0.01, 39.005) for i in range(50)],
        crs="EPSG:4326",
    )


def _leftovers(directory: Path, keep: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p != keep)


@pytest.fixture
def fail_after_writing(monkeypatch):
    """Make the flush to disk (fsync) raise: by then the temporary file holds the data."""

    def boom(fd: int) -> None:
        raise Injected("disk failed while writing")

    monkeypatch.setattr(os, "fsync", boom)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".geojson", ".gpkg"])
def test_failed_write_keeps_the_previous_file(tmp_path, suffix, fail_after_writing):
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous contents\n")
    with pytest.raises(Injected):
        write_table(_table(), target)
    assert target.read_bytes() == b"previous contents\n"
    assert _leftovers(tmp_path, target) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".gpkg"])
def test_failed_first_write_leaves_nothing(tmp_path, suffix, fail_after_writing):
    target = tmp_path / f"out{suffix}"
    with pytest.raises(Injected):
        write_table(_table(), target)
    assert list(tmp_path.iterdir()) == []


def test_writer_raising_after_part_of_the_file(tmp_path, monkeypatch):
    """The GeoParquet writer dies after writing its magic bytes and some data."""
    target = tmp_path / "out.parquet"
    write_table(_table(), target)
    previous = target.read_bytes()

    def half_then_raise(self, fh, **kwargs):
        fh.write(b"PAR1" + b"\0" * 4096)
        raise Injected("writer crashed")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", half_then_raise)
    with pytest.raises(Injected):
        write_table(_table().assign(tax=-1.0), target)
    assert target.read_bytes() == previous
    assert _leftovers(tmp_path, target) == []
    assert gpd.read_parquet(target)["tax"].tolist() == [float(i) for i in range(50)]


def test_map_failing_mid_write_keeps_the_previous_map(tmp_path, fail_after_writing):
    from parkgeo.maps import cluster_map, save_map

    hulls = gpd.GeoDataFrame(
        {"cluster_id": [0], "industry": ["C27"], "n_firms": [12]},
        geometry=[box(117.0, 39.0, 117.05, 39.05)],
        crs="EPSG:4326",
    )
    target = tmp_path / "map.html"
    target.write_text("<html>previous</html>", encoding="utf-8")
    with pytest.raises(Injected):
        save_map(cluster_map(hulls), target)
    assert target.read_text(encoding="utf-8") == "<html>previous</html>"
    assert _leftovers(tmp_path, target) == []


def test_atomic_write_and_atomic_path_clean_up_on_error(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(Injected), atomic_write(target, "w") as fh:
        fh.write("half of the new")
        raise Injected
    with pytest.raises(Injected), atomic_path(tmp_path / "t.gpkg") as temp:
        temp.write_bytes(b"partial")
        Path(str(temp) + "-journal").write_bytes(b"sqlite journal")
        raise Injected
    assert target.read_text() == "old"
    assert _leftovers(tmp_path, target) == []


def test_cli_failure_keeps_the_previous_output(tmp_path, monkeypatch, capsys):
    """`parkgeo density -o` over an existing file: a crash while writing keeps it."""
    from parkgeo.cli import main

    sys.path.insert(0, str(Path(__file__).parent))
    from _bad_inputs import good_enterprises, good_parks

    parks, firms = good_parks(tmp_path), good_enterprises(tmp_path)
    out = tmp_path / "density.csv"
    out.write_text("previous\n")

    def crash(fd: int) -> None:
        raise Injected("disk failed")

    monkeypatch.setattr(os, "fsync", crash)
    code = main(
        ["density", "-q", "--parks", str(parks), "--enterprises", str(firms), "-o", str(out)]
    )
    assert code == 1
    assert "unexpected error" in capsys.readouterr().err
    assert out.read_text() == "previous\n"
    assert not [p for p in tmp_path.iterdir() if TEMP_NAME.match(p.name)]


# --------------------------------------------------------------------------------------------
# a process killed while writing
# --------------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np, pandas as pd, geopandas as gpd
    from parkgeo.io import write_table

    # a slow disk: the data is in the temporary file, the flush takes long, so the parent's
    # SIGKILL always lands before the rename
    os.fsync = lambda fd: time.sleep(120)
    n = int(sys.argv[2])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "enterprise_id": [f"E{i:08d}" for i in range(n)],
        "name": ["某某科技有限公司"] * n,
        "tax": rng.random(n),
        "lon": 117 + rng.random(n), "lat": 39 + rng.random(n),
    })
    if sys.argv[1].endswith(".parquet"):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat),
                                 crs="EPSG:4326")
    print("ready", flush=True)
    write_table(frame, sys.argv[1])
    print("done", flush=True)
    """
)


@pytest.mark.parametrize(("suffix", "rows"), [(".csv", 300_000), (".parquet", 300_000)])
def test_killed_writer_leaves_the_previous_file_whole(tmp_path, suffix, rows):
    target = tmp_path / f"big{suffix}"
    previous = pd.DataFrame({"enterprise_id": ["OLD"], "tax": [1.0]})
    write_table(previous, target)
    before = target.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target), str(rows)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 120
        temps: list[Path] = []
        # wait until the temporary file holds the data: the child is mid-write
        while time.monotonic() < deadline and child.poll() is None:
            temps = [p for p in tmp_path.iterdir() if TEMP_NAME.match(p.name)]
            if temps and temps[0].stat().st_size > 1_000_000:
                break
            time.sleep(0.01)
        assert child.poll() is None, "the writer finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    # the target is the previous file, byte for byte: never a partial one
    assert target.read_bytes() == before
    # what is left is only the hidden, recognisable temporary file of the killed writer
    left = [p.name for p in tmp_path.iterdir() if p != target]
    assert left and all(TEMP_NAME.match(name) for name in left), left
    assert all(TEMP_NAME.match(name)["target"] == target.name for name in left)  # type: ignore[index]
    # and a later write succeeds beside it
    write_table(previous.assign(tax=2.0), target)
    assert pio.format_csv(previous.assign(tax=2.0)).startswith("enterprise_id,tax\n")
    assert target.stat().st_size > 0
