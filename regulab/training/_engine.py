"""Which step runs the batches: eager, or compiled K steps per call, and when compiling pays.

``jit_compile=True`` compiles the pure training step with ``torch.compile`` (on a GPU captured once
as a CUDA graph and replayed, ``_captured.py``); ``False`` runs it eagerly; ``"auto"`` starts
eagerly, times the first steps, and compiles only when the fit's remaining steps would repay the
compile time, so a short fit is never slower than eager. ``steps_per_execution=K`` runs K batches per call (Keras's meaning:
per-batch callbacks are called once per call).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from pathlib import Path

import torch

from regulab import _random
from regulab._atomic import atomic_write
from regulab._cache import cache_dir
from regulab.training._compiled import index_batch, mix_draws
from regulab.training._epoch_logs import epoch_logs, evaluate_tensors
from regulab.training._state import TrainState, merge, split
from regulab.training._step import StepSpec, make_train_step

#: assumed speed-up of compiled over eager steps, by device and steps per call, a little below what
#: benchmarks/fit_overhead.py measures on the seed model: 2.8x (K=1) and 6.6x (K=8) on 2 CPU cores,
#: 27x (K=1) and 32-40x (K=10) captured on an H100
_ASSUMED_SPEEDUP = {("cpu", False): 2.5, ("cpu", True): 5.0, ("cuda", False): 20.0, ("cuda", True): 25.0}
#: compile seconds assumed for a model never compiled here (cold: 12-20 s on 2 CPU cores), and for
#: one compiled before (Inductor's on-disk cache makes it 1-2 s)
_COLD_COMPILE_S = {"cpu": 20.0, "cuda": 30.0}
_WARM_COMPILE_S = 3.0
_PROBE_STEPS = 20
#: with a seed, "auto" decides from the fit's length alone (never from timing or the compile cache,
#: which differ between two runs of one script): the steps after which a cold compile pays for
#: itself even on the smallest model (eager steps of ~0.15 ms on CPU, ~0.3 ms on a GPU)
_SEEDED_COMPILE_STEPS = {"cpu": 200_000, "cuda": 100_000}
_warned_no_compiler = False


def compiler_available(device: torch.device) -> bool:
    """Inductor needs a C++ compiler for CPU code (and Triton, bundled with CUDA torch, on GPUs)."""
    if device.type == "cuda":
        return True
    return any(shutil.which(c) for c in ("g++", "c++", "clang++"))


def _warn_no_compiler() -> None:
    global _warned_no_compiler
    if not _warned_no_compiler:
        _warned_no_compiler = True
        warnings.warn("jit_compile: no C++ compiler (g++, c++ or clang++) was found, so training runs "
                      "eagerly. Install one (e.g. `apt-get install g++`) to compile the training step.",
                      RuntimeWarning, stacklevel=4)


def _cache_file() -> Path:
    return cache_dir() / "compiled_steps.json"


def _without_names(config):
    """A configuration minus layer and model names, which are numbered per process and change nothing."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


def _without_learning_rate(config: dict) -> dict:
    """The step reads the learning rate from the training state (a tensor): changing it between
    fits must not compile again."""
    inner = {k: v for k, v in config.get("config", {}).items() if k != "learning_rate"}
    return {**config, "config": inner}


def structural_loss(loss) -> dict:
    """A loss's serialized configuration without the values a step reads from its state (label smoothing)."""
    from regulab import losses

    config = losses.serialize(loss)
    inner = {k: v for k, v in config.get("config", {}).items() if k not in type(loss).hyper_parameters}
    return {**config, "config": inner}


def _architecture(model, describe) -> list:
    """Every layer's configuration with its output shape (a model that cannot be saved still has one),
    without the hyper-parameters the step reads from its state."""
    return [[type(layer).__name__, describe(layer) if layer is not model else None, repr(layer.output_shape)]
            for layer in model._flatten_layers()]


def spec_signature(model, spec: StepSpec, k: int, batch_size: int, device: torch.device) -> str:
    """What a compiled step depends on: architecture, losses, metrics, optimizer, batch shape."""
    from regulab import optimizers
    from regulab.models._specs import structural_config

    payload = json.dumps({"model": _without_names(_architecture(model, structural_config)),
                          "losses": [[h.weight, structural_loss(h.loss)] for h in spec.heads],
                          "metrics": [type(m).__name__ for m in spec.metrics],
                          "optimizer": _without_learning_rate(optimizers.describe(spec.optimizer)), "k": k,
                          "mix": None if spec.batch_mix is None else spec.batch_mix.kind,
                          "batch": batch_size, "precision": model.precision, "trainable": len(spec.structure.trainable),
                          "device": str(device), "torch": torch.__version__}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _inductor_cache_dir() -> str | None:
    try:
        from torch._inductor.runtime.cache_dir_utils import cache_dir
        return cache_dir()
    except Exception:  # noqa: BLE001 - a private helper that may move: then assume a cold compile
        return None


def compiled_before(signature: str) -> bool:
    """Whether this machine compiled this step before and Inductor's on-disk cache still holds it
    (it lives in /tmp by default: a reboot empties it while our record survives)."""
    try:
        known = json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return False
    cache = _inductor_cache_dir()
    return signature in known and cache is not None and os.path.isdir(cache)


def remember_compiled(signature: str, seconds: float) -> None:
    path = _cache_file()
    try:
        known = json.loads(path.read_text()) if path.exists() else {}
        known[signature] = round(seconds, 2)
        atomic_write(path, json.dumps(known).encode())
    except (OSError, ValueError):
        pass  # the record only sharpens "auto"'s estimate; losing it costs nothing else


def should_compile(remaining_steps: int, eager_step_s: float, compile_s: float, speedup: float = 2.5) -> bool:
    """Compile when the estimated compiled time (compile + faster steps) beats staying eager."""
    eager_total = remaining_steps * eager_step_s
    return compile_s + eager_total / speedup < 0.8 * eager_total


def _python_scalars(optimizer) -> None:
    """Eager steps take the learning rate and step count as Python numbers: each tensor scalar op
    would cost a kernel launch (a compiled fit leaves them as tensors)."""
    if isinstance(optimizer._iterations, torch.Tensor):
        optimizer._iterations = int(optimizer._iterations)
    if isinstance(optimizer._learning_rate, torch.Tensor):
        optimizer._learning_rate = float(optimizer._learning_rate)


class Engine:
    """Runs groups of batches for ``run_epochs``: reads the model's state by path before each
    group (so callbacks, ``set_weights`` and learning-rate changes take effect) and writes the
    new state back after it."""

    def __init__(self, model, spec: StepSpec, *, jit_compile, steps_per_execution: int, seed: int,
                 total_steps: int, batch_size: int | None, seeded: bool = False):
        self.model, self.spec = model, spec
        self._held: TrainState | None = None
        self.k = steps_per_execution
        self.key32 = seed & 0xFFFFFFFF
        self.device = model.device
        self.eager_step = make_train_step(spec)
        self.compiled = None
        self.mode = "eager"
        self.batch_size = batch_size
        self.total_steps = total_steps
        self.steps_done = 0
        self._probed = 0  # eager steps timed by "auto" in this fit
        self._probe_start: float | None = None
        self._step_t: torch.Tensor | None = None  # steps_done on the device, for compiled calls
        self._seed_t = torch.tensor(self.key32, dtype=torch.int64, device=self.device)
        self.signature = None
        self.compile_seconds = None
        self.decision = "eager"
        _python_scalars(spec.optimizer)
        if jit_compile is True or jit_compile == "auto":
            reason = None
            if batch_size is None:
                reason = "compiling needs fixed-size batches from arrays"
            elif not compiler_available(self.device):
                _warn_no_compiler()
                reason = "no C++ compiler"
            elif jit_compile == "auto" and any(layer.runs_faster_eagerly for layer in model._flatten_layers()):
                reason = "its recurrent layers run faster on PyTorch's fused kernels, which only eager steps use"
            if reason is not None:
                self.decision = f"eager ({reason})"
                if jit_compile is True:
                    warnings.warn(f"jit_compile=True: model '{model.name}' trains eagerly because {reason}.",
                                  RuntimeWarning, stacklevel=5)
            elif jit_compile is True:
                self._compile()
            elif seeded:
                self._seeded_choice()
            else:
                self.mode = "probe"

    def _seeded_choice(self) -> None:
        """"auto" in a seeded fit: compile exactly when the fit is long enough (``_SEEDED_COMPILE_STEPS``),
        so two runs of one script pick the same engine and end with the same weights."""
        threshold = _SEEDED_COMPILE_STEPS.get(self.device.type, min(_SEEDED_COMPILE_STEPS.values()))
        if self.total_steps >= threshold:
            self._compile()
            self.decision = f"compiled (auto with a seed: {self.total_steps} steps, at least {threshold})"
        else:
            self.decision = (f"eager (auto with a seed: {self.total_steps} steps, fewer than the {threshold} "
                             f"a compile needs to pay for itself on any model)")

    # -- state in and out of the model's variables. The engine holds the state between groups of
    # batches and writes it into the variables only when someone may look (``sync``: before
    # callbacks, validation and the end of the fit); the next group reads the variables afresh,
    # so whatever a callback changed (weights, the learning rate) takes effect.
    def _state(self) -> TrainState:
        if self._held is None:
            self._held = split(self.spec.structure, self.spec.optimizer, scalar_tensors=self.mode == "compiled",
                               mix=self.spec.batch_mix)
        return self._held

    def _store(self, state: TrainState) -> None:
        self._held = state

    def sync(self) -> None:
        """Write the held state into the model's variables and its optimizer."""
        if self._held is not None:
            merge(self.spec.structure, self._held, self.spec.optimizer)
            self._held = None

    # -- compiling
    def _compile(self) -> None:
        from regulab.training._captured import StaticStep
        from regulab.training._compiled import StateLayout, compile_step, make_inplace_multi_step

        self.sync()  # the compiled step takes tensor scalars: read the state again
        self.mode = "compiled"
        template = self._state()
        # not held: a callback may run before the first compiled call (on_epoch_begin)
        self._held = None
        self.signature = spec_signature(self.model, self.spec, self.k, self.batch_size, self.device)
        # one compiled step per model and configuration, reused by later fits (compile() clears
        # it): a new function would be traced and compiled again
        cache = self.model._compiled_steps
        key = (self.signature, self.spec.structure.layout_key)
        if key not in cache:
            layout = StateLayout(template)
            fn = compile_step(make_inplace_multi_step(self.spec, self.k, layout))
            cache[key] = StaticStep(fn, layout, capture=self.device.type == "cuda")
        else:
            self.compile_seconds = 0.0
        self.compiled = cache[key]
        self.decision = "compiled"

    def _run_compiled(self, xs, ys, ws):
        state = self._state()
        if self._step_t is None:
            self._step_t = torch.tensor(self.steps_done, dtype=torch.int64, device=self.device)
        first = self.compile_seconds is None
        start = time.perf_counter() if first else 0.0
        # the step counter is advanced on the device: copying the count in per call would synchronise
        mix = mix_draws(self.spec, state, self._seed_t, self._step_t, self.k, xs)
        state, self._step_t, stats = self.compiled(state, self._step_t, xs, ys, ws, self._seed_t, mix)
        if first:
            self.compile_seconds = time.perf_counter() - start
            remember_compiled(self.signature, self.compile_seconds)
        self._store(state)
        return stats

    def _run_eager(self, x, y, w):
        state = self._state()
        key = _random.fold_in(self.key32, self.steps_done)
        state, stats = self.eager_step(state, (x, y, w), key)
        self._store(state)
        return stats

    def _maybe_switch(self) -> None:
        """In "auto" mode: after timing the first eager steps, compile if it will pay."""
        self._probed += 1
        if self._probed == 1:
            self._probe_start = time.perf_counter()  # the first step pays one-off costs: skip it
            return
        if self._probed < _PROBE_STEPS:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        per_step = (time.perf_counter() - self._probe_start) / (self._probed - 1)
        speedup = _ASSUMED_SPEEDUP.get((self.device.type, self.k > 1), 2.5)
        remaining = self.total_steps - self.steps_done
        cost = _WARM_COMPILE_S
        # whether the step was compiled before only matters if even a warm compile would pay
        # (asking Inductor where its cache lives imports it: seconds, for a fit that stays eager)
        if should_compile(remaining, per_step, cost, speedup):
            sig = spec_signature(self.model, self.spec, self.k, self.batch_size, self.device)
            if not compiled_before(sig):
                cost = _COLD_COMPILE_S.get(self.device.type, 30.0)
        if should_compile(remaining, per_step, cost, speedup):
            self._compile()
        else:
            self.mode = "eager"
            self.decision = (f"eager (auto: {self.total_steps} steps at {per_step * 1e3:.2f} ms would not "
                             f"repay ~{cost:.0f} s of compiling)")

    # -- what the loop calls (``_loop.train_members``; ``StackedEngine`` answers the same calls)
    def select(self, active) -> None:
        """The members training this epoch: always this engine's one model."""

    def zeros(self) -> torch.Tensor:
        return torch.zeros(self.spec.n_stats, device=self.device)

    @staticmethod
    def count(xs, stacked: bool) -> tuple[int, int]:
        """(batches, samples) in a group."""
        lead = xs[0] if isinstance(xs, tuple) else xs
        return (lead.shape[0], lead.shape[0] * lead.shape[1]) if stacked else (1, lead.shape[0])

    @staticmethod
    def row(acc: torch.Tensor, i: int) -> torch.Tensor:
        return acc

    def stop_mid_epoch(self, stopped) -> bool:
        """A callback stopped the fit during an epoch: end the epoch now."""
        return True

    def epoch_logs(self, acc: torch.Tensor, seen: int) -> list[dict]:
        return [epoch_logs(self.spec, acc.tolist(), seen)]

    def validate(self, validation) -> list[dict]:
        from regulab.training import _inference

        # compiled with the training step (Keras's jit_compile covers the test step too)
        step = _inference.eval_step(self.model, self.spec, compiled=self.mode == "compiled")
        return [evaluate_tensors(self.spec, *validation, prefix="val_", step=step)]

    def run_group(self, xs, ys, ws, stacked: bool) -> torch.Tensor:
        """Run ``xs`` (K stacked full batches when ``stacked``, else one batch); return the summed
        statistics."""
        if stacked and self.mode == "compiled":
            stats = self._run_compiled(xs, ys, ws)
            self.steps_done += _leading(xs)
            return stats
        if not stacked:
            if self.mode == "eager":  # the plain eager path, without the probe's bookkeeping
                stats = self._run_eager(xs, ys, ws)
                self.steps_done += 1
                if self._step_t is not None:
                    self._step_t = self._step_t + 1
                return stats
            return self._eager_one(xs, ys, ws)
        total = None
        for i in range(_leading(xs)):
            stats = self._eager_one(index_batch(xs, i), index_batch(ys, i), index_batch(ws, i))
            total = stats if total is None else total + stats
        return total

    def _eager_one(self, x, y, w) -> torch.Tensor:
        stats = self._run_eager(x, y, w)
        self.steps_done += 1
        if self._step_t is not None:
            self._step_t = self._step_t + 1
        if self.mode == "probe":
            self._maybe_switch()
        return stats


def _leading(tree) -> int:
    return (tree[0] if isinstance(tree, (tuple, list)) else tree).shape[0]
