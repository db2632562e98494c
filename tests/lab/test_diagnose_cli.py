import argparse
import json
import subprocess
import sys

import numpy as np
import pytest

from regulab.callbacks import CSVLogger
from regulab.lab._diagnose_cli import add_parser, run

# `regulab diagnose` as the command line builds it: a parser with the subcommand, then run()
DRIVER = ("import argparse, sys\n"
          "from regulab.lab._diagnose_cli import add_parser, run\n"
          "parser = argparse.ArgumentParser(prog='regulab')\n"
          "add_parser(parser.add_subparsers(dest='command', required=True))\n"
          "sys.exit(run(parser.parse_args(sys.argv[1:])))\n")


def _overfitting_csv(path, shift=0.0):
    e = np.arange(40.0)
    train = 0.69 * np.exp(-e / 6)
    val = 0.45 + shift + 0.25 * np.exp(-e / 3) + 0.004 * np.maximum(e - 8, 0) ** 1.2
    log = CSVLogger(str(path))
    log.on_train_begin()
    for i in range(40):
        log.on_epoch_end(i, {"loss": float(train[i]), "accuracy": float(min(1.0, 0.5 + 0.02 * i)),
                             "val_loss": float(val[i]), "val_accuracy": 0.8})
    log.on_train_end()
    return str(path)


def _cli(*args):
    return subprocess.run([sys.executable, "-c", DRIVER, "diagnose", *args], capture_output=True, text=True,
                          timeout=60)


def test_cli_prints_the_verdict_first(tmp_path):
    path = _overfitting_csv(tmp_path / "run.csv")
    result = _cli(path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "verdict: overfitting"
    assert "evidence:" in lines and "recommendations:" in lines
    assert any(line.startswith("  1. early stopping") for line in lines)


def test_cli_missing_file_exits_2_naming_the_path(tmp_path):
    path = tmp_path / "absent.csv"
    result = _cli(str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"regulab diagnose: No history file at '{path}': expected a CSV file "
                                     "written by CSVLogger.")
    assert "Traceback" not in result.stderr and result.stdout == ""


def _parse(*argv):
    parser = argparse.ArgumentParser(prog="regulab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["diagnose", *argv])


def test_run_in_process(tmp_path, capsys):
    path = _overfitting_csv(tmp_path / "run.csv")
    assert run(_parse(path, "--monitor", "val_accuracy")) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("verdict: ")
    assert "monitored: accuracy / val_accuracy" in out
    assert run(_parse(path, "--json")) == 0
    assert json.loads(capsys.readouterr().out)["evidence"]["metric"] == "loss"


def test_run_json_over_several_files(tmp_path, capsys):
    paths = [_overfitting_csv(tmp_path / f"seed{i}.csv", shift=0.01 * i) for i in range(3)]
    assert run(_parse(*paths, "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "overfitting" and data["agreement"] == 1.0
    assert data["per_history"] == ["overfitting"] * 3 and data["evidence"]["histories"] == 3


def test_run_unknown_monitor_exits_2(tmp_path, capsys):
    path = _overfitting_csv(tmp_path / "run.csv")
    assert run(_parse(path, "--monitor", "val_acc")) == 2
    assert capsys.readouterr().err.strip() == (
        "regulab diagnose: Invalid value for argument `monitor` of diagnose: expected one of the logged metrics "
        "('loss', 'accuracy', 'val_loss', 'val_accuracy'). Received: monitor='val_acc'. Did you mean "
        "'val_accuracy'?")


def test_run_in_process_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,loss\n0,0.5\n1,oops\n")
    assert run(_parse(str(bad))) == 2
    assert capsys.readouterr().err.strip() == (f"regulab diagnose: '{bad}', line 3: column 'loss' holds 'oops', "
                                               "which is not a number or NA.")


def test_parser_requires_a_file():
    with pytest.raises(SystemExit):
        _parse()
