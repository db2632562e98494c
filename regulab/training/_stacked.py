"""The engine's stacked mode: V variants of one model trained by one step over all of them.

The variants' training states (weights, optimizer slots, learning rates, regularizer factors,
dropout rates: everything ``split`` reads) are stacked on a new leading axis. Eagerly, when every
layer can run on stacked tensors (``Layer.stacks``), one unmapped pass trains all of them
(``_stacked_forward``, ``_stacked_step``); otherwise the forward pass is mapped over them with
``torch.func.vmap``. Compiled, the whole step is mapped. One call trains every variant on its own
batch (its own shuffle), with its own random key, hyper-parameters and optimizer state, so each
ends with the weights its own ``fit(seed=...)`` would give it (up to float rounding).

``StackedEngine`` answers the calls of the one epoch loop (``_loop.train_members``), which runs
each variant's callbacks, History, early stopping and epochs as ``fit`` runs one model's. Between
epochs the stack is written into the variants' models (so callbacks see and may change them);
unless a model then changed, the stack goes on from where it was rather than being read again. A
variant that has finished leaves the stack: eagerly it stops costing compute; compiled, it keeps
its slot (recompiling for a smaller stack would cost more than it saves) and its results are
dropped.
"""
from __future__ import annotations


import torch

from regulab import _random
from regulab.training._batches import take
from regulab.training._captured import StaticStep
from regulab.training._compiled import (StateLayout, compile_step, make_functional_step, make_inplace_multi_step,
                                        mix_draws)
from regulab.training._engine import _python_scalars
from regulab.training._epoch_logs import EVAL_BATCH, epoch_logs
from regulab.training._stacked_forward import evaluates_natively, variant_pass, weight_penalties
from regulab.training._stacked_step import make_batched_step, supports_batched_step
from regulab.training._state import OPTIMIZER, TrainState, flatten_state, merge, split, unflatten_state
from regulab.training._step import make_eval_step


_KEY_BLOCK = 256


def stack_states(states: list[TrainState], template: TrainState) -> TrainState:
    """One state whose every tensor has the variants on a new leading axis, keyed as ``template``
    (the lead variant's, whose step runs them: stacked by position, as the variants' paths may
    differ by their layers' names)."""
    flats = [flatten_state(s) for s in states]
    return unflatten_state(template, [torch.stack([f[i] for f in flats]) for i in range(len(flats[0]))])


class StackedEngine:
    """Runs the stacked step for ``_loop.train_members``. ``models[i]`` trains with
    ``seeds[i]``; ``batches`` is the ``StackedBatches`` the loop draws from."""

    def __init__(self, models, specs, batches, *, seeds, jit_compile: bool, steps_per_execution: int,
                 weighted: bool):
        self.models, self.specs, self.batches = list(models), list(specs), batches
        self.spec = specs[0]
        self.k = steps_per_execution
        self.device = models[0].device
        self.seeds = torch.tensor([s & 0xFFFFFFFF for s in seeds], dtype=torch.int64, device=self.device)
        self.mapped_step = torch.func.vmap(make_functional_step(self.spec),
                                           in_dims=(0, (0, 0, 0 if weighted else None), 0), out_dims=(0, 0))
        # eagerly, only the forward pass is mapped where the update is known to be elementwise
        if supports_batched_step(self.spec):
            self.step = make_batched_step(self.spec, weighted)
        else:
            self.step = lambda state, batch, keys, constants, iterations: self.mapped_step(state, batch, keys)
        self._constants: dict = {}  # see _read_constants
        self._live = None  # the stack as sync wrote it out (see _state)
        self._live_rows: list = []
        self._written_out: dict = {}
        self._copies = None
        self._iterations = None
        self.rows = list(range(len(models)))  # the variants in the stack, in order
        self.written = set(self.rows)  # the rows whose results go back to their models
        self.active_rows = list(self.rows)  # the rows of this epoch's members, in their order
        self._held: TrainState | None = None
        self._templates: dict[int, TrainState] = {}
        # steps taken, on the host and (for the compiled step, which counts them itself) on the device
        self._t = 0
        self.step_t = torch.zeros((), dtype=torch.int64, device=self.device)
        self._keys_block = None  # (first step, rows, (steps, V) keys): the eager steps' keys, a block at once
        self.compile_seconds = None
        self.compiled = None
        self.mode = "eager"
        self.decision = f"stacked eager ({len(models)} variants)"
        if jit_compile:
            self._compile(weighted)

    def _compile(self, weighted: bool) -> None:
        lead = self.models[0]
        # kept by the first model (its compile() clears it), so a study fitting the same models
        # again compiles once; which weights train is part of the step's layout
        key = ("variants", tuple(id(m) for m in self.models), self.k, self.batches.batch_size, weighted,
               tuple(s.structure.layout_key for s in self.specs))
        compiled = lead._compiled_steps.get(key)
        if compiled is None:
            layout = StateLayout(self._state())
            step_fn = self.mapped_step
            if self.spec.batch_mix is not None:  # each batch with its mixing weights, drawn outside
                step_fn = torch.func.vmap(make_functional_step(self.spec),
                                          in_dims=(0, (0, 0, 0 if weighted else None, 0), 0), out_dims=(0, 0))
            compiled = StaticStep(compile_step(make_inplace_multi_step(self.spec, self.k, layout, step_fn=step_fn)),
                                  layout, capture=self.device.type == "cuda")
            lead._compiled_steps[key] = compiled
        self.compiled = compiled
        self.mode = "compiled"
        self.decision = f"stacked compiled ({len(self.models)} variants, {self.k} steps per call)"

    # -- the stacked state, read from the models and written back
    def _state(self) -> TrainState:
        if self._held is None and self._unchanged_since_sync():
            self._held, self._live = self._live, None  # what sync wrote out is still the state
        if self._held is None:
            own = []
            for r in self.rows:
                state = split(self.specs[r].structure, self.models[r].optimizer, scalar_tensors=True,
                              mix=self.specs[r].batch_mix)
                self._templates.setdefault(r, state)
                own.append(state)
            if 0 not in self._templates:
                self._templates[0] = split(self.specs[0].structure, self.models[0].optimizer, scalar_tensors=True,
                                              mix=self.specs[0].batch_mix)
            self._held = stack_states(own, self._templates[0])
            self._read_constants()
        return self._held

    def _read_constants(self) -> None:
        """Note the hyper-parameters with one value in every variant of the stack (the learning
        rate a study does not vary, a rate or label smoothing no variant uses: 0), and the step
        count if every variant's optimizer is at the same one. The step takes them as numbers,
        as a single model's eager step does: layers and losses skip what is 0, and the optimizer
        fuses its scaled update."""
        held = self._held
        keys = list(held.hyper)
        table = torch.stack([held.hyper[k].reshape(-1).float() for k in keys]).tolist() if keys else []
        self._constants = {k: row[0] for k, row in zip(keys, table) if all(x == row[0] for x in row)}
        counts = held.opt[OPTIMIZER]["iterations"].reshape(-1).tolist() if OPTIMIZER in held.opt else []
        uniform = counts and all(c == counts[0] for c in counts)
        self._iterations = (int(counts[0]), self._t) if uniform else None

    def sync(self) -> None:
        """Write each variant still training into its model and optimizer."""
        if self._held is None:
            return
        # one copy of each stacked tensor, each variant taking its row of it as a view
        copies = [t.clone() for t in flatten_state(self._held)]
        rows = [t.unbind(0) for t in copies]
        written = {}
        for j, r in enumerate(self.rows):
            if r in self.written:
                merge(self.specs[r].structure, unflatten_state(self._templates[r], [t[j] for t in rows]),
                      self.models[r].optimizer)
                written[r] = self._fingerprint(r)
        # nothing trains the stack until the next _state: if the models still hold what was
        # written then, it goes on from where it is instead of being stacked again
        self._live, self._live_rows, self._written_out = self._held, list(self.rows), written
        self._copies = unflatten_state(self._templates[0], copies)  # what the models hold, stacked
        self._held = None

    def _fingerprint(self, r: int) -> tuple:
        """What variant ``r``'s model and optimizer hold: the tensors by identity (values are
        replaced, never changed in place, by ``set_weights``, ``assign``, callbacks and the
        optimizer), the hyper-parameters by value."""
        structure, opt = self.specs[r].structure, self.models[r].optimizer
        mix = self.specs[r].batch_mix
        values = [v.value for _, v in structure.trainable] + [v.value for _, v in structure.buffers]
        slots = [opt.slots.get(v) for v in structure.trainable_vars]
        slot_values = [None if d is None else list(d.values()) for d in slots]
        return (values, slot_values, opt._iterations, opt._learning_rate, structure.hyper_values(),
                None if mix is None else mix.alpha)

    def _unchanged_since_sync(self) -> bool:
        if self._live is None or self.rows != self._live_rows:
            return False
        for r in self.rows:
            then = self._written_out.get(r)
            if then is None:
                return False
            now = self._fingerprint(r)
            same = (all(a is b for a, b in zip(now[0], then[0]))
                    and all(a is not None and b is not None and len(a) == len(b) and all(x is y for x, y in zip(a, b))
                            for a, b in zip(now[1], then[1]))
                    and now[2] is then[2] and now[3] is then[3] and now[4] == then[4] and now[5] == then[5])
            if not same:
                return False
        return True

    # -- what the loop calls
    def select(self, active) -> None:
        """This epoch's members: eagerly the stack shrinks to them; compiled, the others' results are dropped."""
        index = {id(m): i for i, m in enumerate(self.models)}
        active_rows = [index[id(m.model)] for m in active]
        self.sync()
        self.written = set(active_rows)
        self.active_rows = active_rows
        if self.mode == "eager" and active_rows != self.rows:
            self.rows = sorted(active_rows)
        self.batches.rows = self.rows

    def zeros(self) -> torch.Tensor:
        return torch.zeros(len(self.rows), self.spec.n_stats, device=self.device)

    @staticmethod
    def count(xs, stacked: bool) -> tuple[int, int]:
        lead = xs[0] if isinstance(xs, tuple) else xs  # (K, V, B, ...) or (V, B, ...)
        return (lead.shape[0], lead.shape[0] * lead.shape[2]) if stacked else (1, lead.shape[1])

    def row(self, acc: torch.Tensor, i: int) -> torch.Tensor:
        return acc[self.rows.index(self.active_rows[i])]

    def stop_mid_epoch(self, stopped) -> bool:
        """Callbacks stopped some variants during an epoch: they keep the weights they stopped
        with (the loop has just written them); the rest finish the epoch."""
        index = {id(m): i for i, m in enumerate(self.models)}
        for m in stopped:
            self.written.discard(index[id(m.model)])
            m.done = True
        return not self.written

    def run_group(self, xs, ys, ws, stacked: bool) -> torch.Tensor:
        state = self._state()
        if stacked:
            mix = mix_draws(self.spec, state, self.seeds, self.step_t, self.k, xs, stacked=True)
            state, self.step_t, stats = self.compiled(state, self.step_t, xs, ys, ws, self.seeds, mix)
            self._held = state
            self._t += (xs[0] if isinstance(xs, tuple) else xs).shape[0]
            return stats  # valid until the next call: the loop adds it to its sum at once
        its = None if self._iterations is None else self._iterations[0] + self._t - self._iterations[1]
        self._held, stats = self.step(state, (xs, ys, ws), self._keys(self._t), self._constants, its)
        self._t += 1
        if self.compiled is not None:
            self.step_t = self.step_t + 1
        return stats

    def _keys(self, t: int) -> torch.Tensor:
        """Each stacked variant's random key for step ``t``, ``fold_in(seed, t)``: computed for a
        block of steps at once, as the hash is a dozen small operations."""
        block = self._keys_block
        if block is None or block[1] != self.rows or not 0 <= t - block[0] < block[2].shape[0]:
            seeds = self.seeds if len(self.rows) == len(self.models) else self.seeds[self.rows]
            steps = torch.arange(t, t + _KEY_BLOCK, dtype=torch.int64, device=self.device)
            block = self._keys_block = (t, list(self.rows), _random.fold_in(seeds, steps.unsqueeze(1)))
        return block[2][t - block[0]]

    def epoch_logs(self, acc: torch.Tensor, seen: int) -> list[dict]:
        totals = acc.tolist()
        return [epoch_logs(self.specs[r], totals[self.rows.index(r)], seen) for r in self.active_rows]

    def validate(self, validation) -> list[dict]:
        """Every active variant evaluated in one mapped pass per batch."""
        rows = self.active_rows
        # the models' weights stacked as sync wrote them, when they still are
        held = self._copies if rows == self._live_rows and self._unchanged_since_sync() else None
        return evaluate_stacked([self.specs[r] for r in rows], *validation, prefix="val_", stacked=held)

    @property
    def steps_done(self) -> int:
        """Steps taken by the stack (each variant's random key is a function of its seed and this)."""
        return self._t

    @steps_done.setter
    def steps_done(self, value: int) -> None:
        self._t = int(value)
        self.step_t = torch.tensor(int(value), dtype=torch.int64, device=self.device)

    def drop(self) -> None:
        """Forget the stack without writing it back (an interrupted call)."""
        self._held = self._live = None

    def finish(self) -> None:
        self.sync()
        for m in self.models:
            _python_scalars(m.optimizer)


def _native_eval_step(spec, v: int):
    """``step(params, buffers, x, y, w, hyper) -> (V, n_stats)`` like the mapped eval step, with
    every variant's weights applied to the same batch in one ``variant_pass``."""
    paths = spec.structure.trainable_paths

    def spread(t):
        if t is None:
            return None
        return tuple(spread(a) for a in t) if isinstance(t, tuple) else t.expand(v, *t.shape)

    def step(params, buffers, x, y, w, hyper):
        with torch.no_grad():
            return variant_pass(spec, [params[p] for p in paths], buffers, spread(x), spread(y), spread(w),
                                None, hyper or {}, training=False)[1]

    return step


def evaluate_stacked(specs, x, y, w, prefix: str = "", batch_size: int = EVAL_BATCH, stacked=None) -> list[dict]:
    """Loss and metrics of several variants' current weights on the same tensors, as one logs
    dict per variant (``_epoch_logs.evaluate_tensors`` for each, in one pass). ``stacked``: a
    state holding those weights stacked already (keyed as the lead's)."""
    lead = specs[0]
    structures = [s.structure for s in specs]
    if stacked is not None:
        params, buffers = stacked.params, stacked.buffers
    else:
        params = {p: torch.stack([s.trainable[i][1].value for s in structures])
                  for i, p in enumerate(lead.structure.trainable_paths)}
        buffers = {p: torch.stack([s.buffers[i][1].value for s in structures])
                   for i, p in enumerate(lead.structure.buffer_paths)}
    device = (x[0] if isinstance(x, tuple) else x).device
    # each variant's own hyper-parameters by the lead's paths (the state is stacked by position)
    rows = [list(s.structure.hyper_values().values()) for s in specs]
    factors = {key: torch.tensor([float(r[i]) for r in rows], device=device)
               for i, (key, _, _) in enumerate(lead.structure.hyper)}
    # the losses' (label smoothing)
    losses = {path: [float(getattr(s.heads[i].loss, attr)) for s in specs]
              for i, head in enumerate(lead.heads) for attr, path in head.hyper.items()}
    hyper = {path: torch.tensor(values, device=device) for path, values in losses.items()}
    acc = torch.zeros(len(specs), lead.n_stats, device=device)
    n = (x[0] if isinstance(x, tuple) else x).shape[0]
    if evaluates_natively(lead):
        step = _native_eval_step(lead, len(specs))
        # a value 0 in every variant as the number: the loss then skips it
        hyper = {k: 0.0 if not any(losses[k]) else v for k, v in hyper.items()}
    else:
        step = torch.func.vmap(make_eval_step(lead), in_dims=(0, 0, None, None, None, 0 if hyper else None))
    for i in range(0, n, batch_size):
        sl = slice(i, i + batch_size)
        acc += step(params, buffers, take(x, sl), take(y, sl), take(w, sl), hyper or None)
    totals = acc.tolist()
    with torch.no_grad():
        penalty = weight_penalties(lead, list(params.values()), buffers, factors)
    penalties = [0.0] * len(specs) if penalty is None else penalty.tolist()
    logs = []
    for v, s in enumerate(specs):
        logs.append(epoch_logs(s, totals[v], n, prefix=prefix, penalty=penalties[v]))
    return logs
