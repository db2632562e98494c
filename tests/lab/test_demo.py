import re

from regulab.cli import main
from regulab.lab._demo import TECHNIQUES, demo_table, run_demo


def test_demo_runs_every_technique_and_reports(capsys):
    rows = run_demo(seeds=2, epochs=3)
    assert [r.technique for r in rows] == list(TECHNIQUES)
    by_name = {r.technique: r for r in rows}
    assert all(len(r.test_accuracy) == 2 for r in rows)
    assert max(by_name["L1 0.001 proximal"].zero_fraction) > 0.0
    assert by_name["plain"].zero_fraction == [0.0, 0.0]
    from rich.console import Console
    console = Console(width=100)
    with console.capture() as cap:
        console.print(demo_table(rows, 2))
    text = cap.get()
    assert re.search(r"plain\s+\d+\.\d ± \d+\.\d", text)


def test_cli_rejects_one_seed(capsys):
    import pytest
    with pytest.raises(SystemExit):
        main(["demo", "--seeds", "1"])
    assert "--seeds must be at least 2" in capsys.readouterr().err
