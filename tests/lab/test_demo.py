import json
import re

import pytest

from regulab.cli import main
from regulab.lab._demo import SEED_VARIANTS, run_demo


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(seeds=2, epochs=4, cnn_epochs=1, output=out, verbose=0)


def test_demo_runs_every_technique_stacked_and_writes_its_reports(quick):
    out, (seed, digits) = quick
    assert list(seed.variants) == ["baseline", *SEED_VARIANTS]
    assert list(digits.variants) == ["baseline", "augmentation", "batch norm"]
    # the lesson's dense variants share three architectures: three stacked groups, not eight
    assert [g["mode"] for g in seed.groups] == ["stacked"] * 3
    assert max(seed.variants["L1 0.001 proximal"]["zero_fraction"]) > 0.0
    assert seed.variants["baseline"]["zero_fraction"] == [0.0, 0.0]
    assert all(len(v["test"]) == 2 for v in seed.variants.values())
    for path in (out / "index.html", out / "digits" / "index.html"):
        assert "<table" in path.read_text()
    assert json.loads((out / "study.json").read_text())["metric"] == "accuracy"
    # two seeds: the result says its intervals are too wide to rank the variants
    assert any("too wide to rank" in note for note in seed.notes)


def test_demo_table_and_sentence(quick):
    from rich.console import Console

    _, (seed, _) = quick
    console = Console(width=140)
    with console.capture() as cap:
        console.print(seed.table())
    text = cap.get()
    assert re.search(r"baseline\s+\d+\.\d ± \d+\.\d", text)
    assert "vs baseline" in text
    sentence = seed.summary_sentence()
    assert sentence.startswith("'") or sentence.startswith("No variant")


def test_cli_rejects_one_seed(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--seeds", "1"])
    assert "--seeds must be at least 2" in capsys.readouterr().err
