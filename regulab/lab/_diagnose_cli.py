"""``regulab diagnose history.csv``: the diagnosis of CSVLogger files from the command line.

It prints ``verdict: <verdict>`` as its first line, then the evidence and the recommendations;
``--json`` prints :meth:`Diagnosis.to_json` instead. Several files are read as seeds of one
configuration. A file that does not exist, or that cannot be diagnosed, is a one-line message on
stderr and exit status 2.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="regulab")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["diagnose", "run.csv", "--json"])
>>> args.history, args.json, args.monitor
(['run.csv'], True, None)
"""
from __future__ import annotations

import argparse
import json
import sys

from regulab.lab._diagnose import diagnose


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``diagnose`` subcommand to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    parser = subparsers.add_parser(
        "diagnose", help="say whether a model overfits, underfits or fits well, from its CSVLogger file",
        description="Diagnose learning curves written by regulab.callbacks.CSVLogger: overfitting, "
                    "underfitting, good fit, still improving or unstable, with the evidence and what to try. "
                    "Several files are read as seeds of one configuration.")
    parser.add_argument("history", nargs="+", help="CSVLogger file(s): columns epoch, loss, ..., val_loss, ...")
    parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    parser.add_argument("--monitor", default=None,
                        help="the metric to judge, e.g. val_accuracy (default: the loss)")
    parser.add_argument("--study", metavar="CONFIG.toml", default=None,
                        help="then train the recommended settings as a study of the model and data this "
                             "file describes (see `regulab study`)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the diagnosis of ``args.history``; return the exit status (0, or 2 on bad input)."""
    paths = list(args.history)
    try:
        result = diagnose(paths if len(paths) > 1 else paths[0], monitor=args.monitor)
    except (OSError, ValueError) as error:
        print(f"regulab diagnose: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), indent=2) if args.json else result)
    if getattr(args, "study", None):
        from regulab.lab._study_cli import run_config

        # the loop from diagnosis to measured fix: each recommendation trained over seeds
        return run_config(args.study, variants=result.variants())
    return 0
