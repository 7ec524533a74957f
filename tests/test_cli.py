"""``flask --app app registry load``: the production way to register health workers."""

from __future__ import annotations

from pathlib import Path

HEADER = "phone,name,facility,language,active\n"


def test_registry_load_registers_workers_from_csv(app, tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    path.write_text(HEADER + "0722111222,Mary Akinyi,FID-22-004417-8,sw,true\n"
                    "+254733444555,Peter Kimani,FID-47-108521-3,en,false\n")

    result = app.test_cli_runner().invoke(args=["registry", "load", str(path)])

    assert result.exit_code == 0, result.output
    assert "loaded 2 health workers" in result.output
    registry = app.extensions["gateway"].registry
    mary = registry.get("+254722111222")
    assert (mary.name, mary.facility, mary.language, mary.active) == (
        "Mary Akinyi", "FID-22-004417-8", "sw", True)
    assert registry.get("+254733444555").active is False


def test_registry_load_refuses_a_bad_file_whole(app, tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    path.write_text(HEADER + "0722111222,Mary Akinyi,FID-22-004417-8,sw,true\n"
                    "0722999888,Bad Facility,12345,en,true\n")

    result = app.test_cli_runner().invoke(args=["registry", "load", str(path)])

    assert result.exit_code != 0
    assert "line 3" in result.output and "facility" in result.output
    assert app.extensions["gateway"].registry.get("+254722111222") is None
