"""``regulab study CONFIG.toml``: run the study a TOML file describes, print its table and write its report.

A mistake in the file (an unknown key, a missing data file, a wrong layer argument) is reported as
``regulab study: error: <message>`` with exit status 2, before anything trains.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: what --quick runs: enough to check that a file works end to end, not to rank its variants
QUICK_SEEDS, QUICK_EPOCHS = 2, 3


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``study`` subcommand to the ``regulab`` command's subparsers."""
    parser = subparsers.add_parser(
        "study", help="train the variants a TOML file describes, with intervals and a report",
        description="Train every variant of a model that CONFIG.toml describes over several seeds, print the "
                    "table of held-out metrics with 95% intervals, and write the HTML report. See "
                    "examples/study.toml.")
    parser.add_argument("config", metavar="CONFIG", help="the study file (TOML)")
    parser.add_argument("--seeds", type=int, help="seeds per variant (default: the file's)")
    parser.add_argument("--epochs", type=int, help="the most epochs per variant (default: the file's)")
    parser.add_argument("--output", help="the report's directory (default: the file's `output`)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SEEDS} seeds and at most {QUICK_EPOCHS} epochs: check that the file runs")
    parser.set_defaults(run=run)
    return parser


def _fail(message: str) -> int:
    print(f"regulab study: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Load ``args.config``, apply the command-line overrides, run the study; returns the exit status."""
    return run_config(args.config, seeds=args.seeds, epochs=args.epochs, output=args.output, quick=args.quick)


def run_config(config_path, *, variants: dict | None = None, seeds: int | None = None, epochs: int | None = None,
               output=None, quick: bool = False) -> int:
    """Run the study ``config_path`` describes, with ``variants`` in place of the file's if given
    (``regulab diagnose --study`` passes a diagnosis's recommendations)."""
    # imported here so that building the ``regulab`` parser stays cheap for the other commands
    from regulab.lab._config import load_study_config
    from regulab.lab._settings import check_variants

    try:
        config = load_study_config(config_path)
        if variants is not None:
            variants = check_variants(variants)
    except (ValueError, OSError) as e:
        return _fail(str(e))
    args = argparse.Namespace(seeds=seeds, epochs=epochs, output=output, quick=quick)
    seeds, epochs, variants = config.seeds, config.epochs, variants or config.variants
    if args.quick:
        seeds, epochs = QUICK_SEEDS, min(epochs, QUICK_EPOCHS)
        variants = {name: {**s, "epochs": min(s["epochs"], QUICK_EPOCHS)} if "epochs" in s else dict(s)
                    for name, s in variants.items()}
    for flag, value in (("--seeds", args.seeds), ("--epochs", args.epochs)):
        if value is not None and value < 1:
            return _fail(f"{flag} must be at least 1. Received: {flag} {value}")
    seeds = args.seeds if args.seeds is not None else seeds
    epochs = args.epochs if args.epochs is not None else epochs
    output = Path(args.output) if args.output is not None else config.output

    from regulab.lab import study
    from regulab.lab._result import console as wide_console

    console = wide_console()
    console.print(f"[bold]{config.title}[/bold]: {config.data.description}")
    try:
        result = study(config.build_model, config.data, variants, seeds=seeds, epochs=epochs,
                       batch_size=config.batch_size, output_dir=output, title=config.title)
    except ValueError as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        print(f"interrupted: the finished groups are saved in {output}; run the same command again to go on.",
              file=sys.stderr)
        return 130
    console.print(result.table())
    report = output / "index.html"
    result.report(report)
    print(f"report: {report}")
    return 0
