"""The training API of a model: ``compile``, ``fit``, ``evaluate``, ``predict``, the ``*_on_batch``
methods, and the pieces of Keras 3's custom ``train_step`` (``compute_loss``, ``zero_grad``,
``metrics``). Everything about how steps run lives in ``regulab.training``.
"""
from __future__ import annotations

import weakref

import numpy as np
import torch

from regulab import metrics as _metrics
from regulab import mixed_precision as _mixed_precision
from regulab import optimizers as _optimizers
from regulab._validation import check_int
from regulab.layers._context import gradient_scope
from regulab.training import _data, _inference, _loop
from regulab.training._logs import check_step_logs, logs_as_result
from regulab.training._outputs import output_heads
from regulab.training._state import Structure, merge, split
from regulab.training._step import StepSpec, make_eval_step, make_train_step, penalty_value


class Trainer:
    """Mixed into ``Model``: everything between the user's data and the training engine."""

    def __init__(self):
        self.optimizer: _optimizers.Optimizer | None = None
        self.loss = None
        self.loss_weights = None
        self._metric_args = None
        self.jit_compile = "auto"
        self.steps_per_execution = 1
        self.precision = "float32"
        self._compiled_steps: dict = {}
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_tracker = None
        self._last_penalties: list = []

    # -- compiling
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, device=None,
                jit_compile="auto", steps_per_execution: int = 1, precision: str | None = None) -> None:
        """Choose the optimizer, losses and metrics (names or objects), the device and the engine.

        Args:
            optimizer: name (``'adam'``, ``'sgd'``, ...) or an ``optimizers.Optimizer``.
            loss: name (``'binary_crossentropy'``, ``'mse'``, ...) or a ``losses.Loss``; for a
                model with several outputs, a list (one per output, ``None`` for an output not
                trained) or a dict by output name. May be None only for a model whose own
                ``train_step`` computes its losses.
            loss_weights: a list or dict by output name: the weight of each output's loss in
                the total (default 1 each).
            metrics: names or ``metrics.Metric`` objects; ``'accuracy'`` picks binary,
                categorical or sparse accuracy from the loss, as Keras does. For several outputs,
                a list of lists or a dict by output name (a flat list applies to every output).
            device: ``'cpu'``, ``'cuda'``, a torch.device, or None for ``regulab.set_device``'s.
            jit_compile: ``True`` compiles the training step with ``torch.compile`` (on a GPU
                captured once as a CUDA graph and replayed), and the test and predict steps as Keras
                does (``predict(mc_samples=...)`` stays eager); ``False`` runs them eagerly;
                ``"auto"`` (default) times the first steps of each fit and compiles the training
                and validation steps only when the fit is long enough to repay the compile time, so
                it is never much slower than eager. While a compiled fit runs, the weights are
                updated in place (as PyTorch's optimizers do); ``get_weights`` returns copies.
            steps_per_execution: batches run per call of the (compiled) step; per-batch callbacks
                are called once per call, as in Keras.
            precision: ``"float32"`` or ``"mixed_bfloat16"`` (alias ``"bf16"``): layers compute in
                bfloat16, weights, optimizer, loss and metrics stay float32. Default: the policy of
                ``regulab.mixed_precision.set_global_policy``.
        """
        if jit_compile not in ("auto", True, False):
            raise ValueError("Invalid value for argument `jit_compile` of compile: expected 'auto', True or "
                             f"False. Received: jit_compile={jit_compile!r}")
        self.jit_compile = jit_compile
        self.precision = _mixed_precision.resolve(
            _mixed_precision.global_policy() if precision is None else precision, where="compile")
        self._compiled_steps = {}
        self.steps_per_execution = check_int("steps_per_execution", steps_per_execution, low=1, where="compile")
        optimizer = _optimizers.get(optimizer)
        owner = optimizer.owner() if optimizer.owner is not None else None
        if owner is not None and owner is not self and optimizer.slots:
            raise ValueError(f"The optimizer {optimizer!r} already trains model '{owner.name}' and holds its "
                             f"moments; give each model its own optimizer (e.g. optimizer='adam' or a new "
                             f"instance).")
        optimizer.owner = weakref.ref(self)
        # resolve now so a bad name, output or weight fails at compile, not at fit
        output_heads(self, loss, loss_weights, metrics, check_only=True)
        self.optimizer = optimizer
        self.loss = loss
        self.loss_weights = loss_weights
        self._metric_args = metrics
        self._loss_tracker = None
        self.to(device)
        _mixed_precision.check_device(self.precision, self.device)
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile(optimizer, loss, metrics)` on model '{self.name}' "
                             f"before `{what}`.")

    @property
    def has_custom_train_step(self) -> bool:
        return type(self).train_step is not Trainer.train_step

    @property
    def has_custom_test_step(self) -> bool:
        return type(self).test_step is not Trainer.test_step

    def _step_spec(self) -> StepSpec:
        """The static description of this model's standard step (structure, losses, metrics)."""
        if self.loss is None:
            raise ValueError(f"Model '{self.name}' was compiled without a loss, so fit has nothing to "
                             f"minimize: pass compile(loss=...), or override `train_step`.")
        heads = output_heads(self, self.loss, self.loss_weights, self._metric_args)
        spec = StepSpec.build(self._run, Structure(self), heads, self.optimizer,
                              single=len(self.output_names) == 1, n_outputs=len(self.output_names))
        spec.has_activity = any(getattr(layer, "activity_regularizer", None) is not None
                                for layer in self._flatten_layers())
        spec.stacks = self.stacks()
        return spec

    # -- data
    def _targets(self, spec: StepSpec, y):
        """Targets checked against each trained output: a tensor, or a tuple in head order."""
        shapes = self.output_shapes
        if spec.single:
            return _data.prepare_targets(y, spec.heads[0].loss.target_kind, shapes[0], self.device)
        ys = _data.align_structure(y, self.output_names, "y", "outputs", required=[h.name for h in spec.heads])
        return tuple(_data.prepare_targets(ys[h.index], h.loss.target_kind, shapes[h.index], self.device,
                                           name=f"y[{h.name!r}]") for h in spec.heads)

    def _arrays(self, x, y, sample_weight=None, spec: StepSpec | None = None):
        """Checked device tensors ``(x, y, sample_weight or None, class labels or None)``."""
        xt = self._inputs(x, "x")
        spec = spec or self._step_spec()
        if y is None:
            raise ValueError("Argument `y` is required when `x` is an array; pass the targets.")
        lead = xt[0] if isinstance(xt, tuple) else xt
        sw = None if sample_weight is None else _data.as_array(sample_weight, "sample_weight")
        yt = self._targets(spec, y)
        first_y = yt[0] if isinstance(yt, tuple) else yt
        # every input and every target must have one row per sample
        arrays = {}
        for name, t in zip(self.input_names, xt if isinstance(xt, tuple) else (xt,)):
            arrays["x" if not isinstance(xt, tuple) else f"x[{name!r}]"] = t
        heads = [h.name for h in spec.heads]
        for name, t in zip(heads, yt if isinstance(yt, tuple) else (yt,)):
            arrays["y" if not isinstance(yt, tuple) else f"y[{name!r}]"] = t
        _data.check_lengths(**arrays, sample_weight=sw)
        labels = _data.class_labels(first_y, spec.heads[0].loss.target_kind)
        w = _data.check_sample_weight(lead.shape[0], sample_weight, self.device)
        return xt, yt, w, labels

    # -- training
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight=None, sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None,
            seed: int | None = None, mixup: float | None = None, cutmix: float | None = None):
        """Train the model; returns a ``callbacks.History``.

        Keras's arguments and meaning, with these differences: ``validation_split`` holds out a
        random, seeded sample (stratified by class for classification losses) instead of the last
        samples, and says which split it made; ``seed`` makes the run repeatable bit for bit on CPU
        (shuffling, dropout masks, the split). ``x`` may be an iterator such as
        ``datagen.flow(x, y)``, with ``steps_per_epoch`` batches per epoch (default ``len(x)``).
        For several inputs or outputs, ``x`` and ``y`` are lists or dicts by name.

        ``mixup=alpha`` (Zhang et al., 2018) or ``cutmix=alpha`` (Yun et al., 2019) mix every
        training batch with a shuffled copy of itself, labels included, for every cross-entropy
        (integer labels are mixed through the loss); validation data is never mixed. Training
        metrics then compare predictions with each sample's dominant label.

        A model that overrides ``train_step`` runs it once per batch, eagerly (Keras 3's PyTorch
        spelling), with callbacks, progress bar and History.
        """
        from regulab.training._fit import fit_model

        return fit_model(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                         callbacks=callbacks, validation_split=validation_split,
                         validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                         sample_weight=sample_weight, initial_epoch=initial_epoch,
                         steps_per_epoch=steps_per_epoch, seed=seed, mixup=mixup, cutmix=cutmix)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict: bool = False):
        """Loss (penalties included, as Keras) and metrics on ``(x, y)`` in inference mode.

        Returns the loss alone when there are no metrics, else ``[loss, *metrics]``, or a dict with
        ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        bs = _loop._EVAL_BATCH if batch_size is None else check_int("batch_size", batch_size, low=1)
        if self.has_custom_test_step:
            from regulab.training._custom import evaluate_custom

            logs = evaluate_custom(self, x, y, sample_weight, bs)
        else:
            spec = self._step_spec()
            with _data.data_source("evaluate"):
                xt, yt, w, _ = self._arrays(x, y, sample_weight, spec)
            step = _inference.eval_step(self, spec, compiled=self.jit_compile is True)
            logs = _loop.evaluate_tensors(spec, xt, yt, w, batch_size=bs, step=step)
        if _loop.resolve_verbose(verbose):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        return logs_as_result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", mc_samples: int | None = None,
                seed: int | None = None):
        """Outputs for ``x`` in inference mode, as a NumPy array (a list for several outputs).

        Args:
            mc_samples: Monte-Carlo dropout (Gal & Ghahramani, 2016): run ``mc_samples`` passes
                with dropout and noise layers active but BatchNorm in inference mode (the common
                ``training=True`` hack also switches BatchNorm to batch statistics, which is wrong);
                returns an array of shape ``(mc_samples, n, ...)``: take ``.mean(0)`` and ``.std(0)``.
            seed: makes the Monte-Carlo passes repeatable.
        """
        with _data.data_source("predict"):
            xt = self._inputs(x, "x")
        bs = _loop._EVAL_BATCH if batch_size is None else check_int("batch_size", batch_size, low=1)
        structure = Structure(self)
        values = {p: v.value for v, p in structure.paths.items()}
        compiled = self.jit_compile is True
        if mc_samples is None:
            step = _inference.predict_step(self, structure, stochastic=False, compiled=compiled)
            return self.structure_outputs(_loop.to_numpy(_loop.predict_tensor(step, values, xt, bs)))
        k = check_int("mc_samples", mc_samples, low=1)
        base = int(torch.randint(0, 2**31 - 1, ())) if seed is None else int(seed)
        from regulab import _random
        step = _inference.predict_step(self, structure, stochastic=True, compiled=compiled)
        outs = [_loop.predict_tensor(step, values, xt, bs, key=_random.fold_in(base, s)) for s in range(k)]
        if isinstance(outs[0], list):
            return self.structure_outputs([_loop.to_numpy(torch.stack([o[i] for o in outs]))
                                           for i in range(len(outs[0]))])
        return _loop.to_numpy(torch.stack(outs))

    # -- one batch at a time
    def train_step(self, data) -> dict:
        """One training step on the batch ``data`` = ``(x, y)`` or ``(x, y, sample_weight)``;
        returns the batch's logs. Override it (Keras 3's PyTorch spelling) to train in your own
        way; this default runs the model's pure step once, eagerly."""
        x, y, w = _unpack(data)
        spec, step = self._eager_steps("train")
        yt = self._targets(spec, y)
        xt = self._inputs(x, "x")
        state = split(spec.structure, self.optimizer)
        from regulab.layers._context import fresh_key

        state, stats = step(state, (xt, yt, _as_weight(w, self.device)), fresh_key())
        merge(spec.structure, state, self.optimizer)
        n = (xt[0] if isinstance(xt, tuple) else xt).shape[0]
        return _loop.epoch_logs(spec, stats.tolist(), n)

    def test_step(self, data) -> dict:
        """Loss and metrics of one batch in inference mode (override it with ``train_step``)."""
        x, y, w = _unpack(data)
        spec, step = self._eager_steps("test")
        xt, yt = self._inputs(x, "x"), self._targets(spec, y)
        params = {p: v.value for p, v in spec.structure.trainable}
        buffers = {p: v.value for p, v in spec.structure.buffers}
        stats = step(params, buffers, xt, yt, _as_weight(w, self.device))
        n = (xt[0] if isinstance(xt, tuple) else xt).shape[0]
        return _loop.epoch_logs(spec, stats.tolist(), n, penalty=penalty_value(spec, params, buffers))

    def _eager_steps(self, kind: str):
        spec = self._step_spec()
        key = ("eager", kind, spec.structure.layout_key)
        cached = self._compiled_steps.get(key)
        if cached is None:
            cached = self._compiled_steps[key] = (spec, make_train_step(spec) if kind == "train" else make_eval_step(spec))
        return cached

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on one batch (optimizer state and step count carry over between
        calls); returns the batch's loss and metrics as ``evaluate`` does, measured before the
        update as Keras does."""
        self._require_compiled("train_on_batch")
        data = self._batch_data(x, y, sample_weight, class_weight)
        with gradient_scope():
            logs = check_step_logs(self, self.train_step(data), "train_step")
        return logs_as_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics of one batch in inference mode."""
        self._require_compiled("test_on_batch")
        logs = check_step_logs(self, self.test_step(self._batch_data(x, y, sample_weight, None)), "test_step")
        return logs_as_result(logs, return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """Outputs for one batch in inference mode."""
        with torch.no_grad():
            out = self(x, training=False)
        if isinstance(out, dict):
            return {k: _loop.to_numpy(v) for k, v in out.items()}
        return _loop.to_numpy(out)

    def _batch_data(self, x, y, sample_weight, class_weight):
        if self.has_custom_train_step:
            return _data.custom_batch(self, x, y, sample_weight)
        spec = self._step_spec()
        xt, yt, w, labels = self._arrays(x, y, sample_weight, spec)
        w = _data.apply_class_weight(w, labels, class_weight, self.device)
        return (xt, yt, w)

    # -- the pieces of a custom train_step
    def zero_grad(self) -> None:
        """Clear the gradients of every trainable weight (``v.value.grad``); from then on eager
        calls of the model track gradients of them, as a hand-written loop needs."""
        for v in self.trainable_weights:
            v.wants_grad = True
            v.value.grad = None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The compiled loss of ``y_pred`` against ``y`` plus the regularization penalties, as a
        differentiable scalar (Keras's ``compute_loss``)."""
        if y_pred is None:
            if x is None:
                raise ValueError("compute_loss needs `y_pred` (or `x` to compute it).")
            y_pred = self(x, training=training)
        total = None
        if self.loss is not None and y is not None:
            heads = output_heads(self, self.loss, self.loss_weights, None)
            preds = [y_pred] if isinstance(y_pred, torch.Tensor) else list(y_pred)
            ys = [y] if len(self.output_names) == 1 else _data.align_structure(y, self.output_names, "y", "outputs")
            w = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32,
                                                                   device=preds[0].device)
            for h in heads:
                target = _data.align_target(ys[h.index if len(ys) > 1 else 0], preds[h.index], h.loss.target_kind)
                term = h.loss(target, preds[h.index], sample_weight=w) * h.weight
                total = term if total is None else total + term
        for v in self.trainable_weights:
            if v.regularizer is not None:
                term = v.regularizer(v.value)
                total = term if total is None else total + term
        for term in self._last_penalties:
            total = term if total is None else total + term
        if total is None:
            device = y_pred.device if isinstance(y_pred, torch.Tensor) else self.device
            total = torch.zeros((), device=device)
        return total

    @property
    def metrics(self) -> list:
        """The stateful metrics ``fit`` resets at the start of each epoch: a ``loss`` tracker and
        the compiled metrics (override it to list a custom ``train_step``'s trackers)."""
        if not self.compiled:
            return []
        if self._loss_tracker is None:
            self._loss_tracker = _metrics.Mean(name="loss")
            self._metric_objects = None
        if self._metric_objects is None and (self.loss is None or self.built):
            # the compiled metrics need the output's shape ('accuracy' picks its kind from it)
            heads = output_heads(self, self.loss, self.loss_weights, self._metric_args) if self.loss else []
            self._metric_objects = [m for h in heads for m in h.metrics]
        return [self._loss_tracker, *(self._metric_objects or [])]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def penalty(self) -> float:
        """Current total regularization penalty of the weights (what the reported loss adds to the
        data loss, besides activity penalties)."""
        with torch.no_grad():
            return float(sum((v.regularizer(v.value) for v in self.weights if v.regularizer is not None),
                             torch.zeros(())))


def _unpack(data):
    if isinstance(data, (tuple, list)) and len(data) in (2, 3) and not isinstance(data, list):
        return (data[0], data[1], data[2] if len(data) == 3 else None)
    if isinstance(data, tuple) and len(data) == 1:
        return data[0], None, None
    return data, None, None


def _as_weight(w, device):
    if w is None or isinstance(w, torch.Tensor):
        return w
    return torch.as_tensor(np.asarray(w), dtype=torch.float32, device=device)
