"""The Model base class: compile, fit, evaluate, predict, weights and saving.

Subclasses (``Sequential``) define how layers connect: ``_forward(x, ctx, logits)``, ``build`` and the
input/output shapes. Everything about training lives in ``regulab.training``.
"""
from __future__ import annotations

import weakref
from typing import Sequence

import numpy as np
import torch

from regulab import losses as _losses
from regulab import mixed_precision as _mixed_precision
from regulab import metrics as _metrics
from regulab import optimizers as _optimizers
from regulab._device import resolve_device
from regulab._validation import check_int
from regulab.layers import Layer, Variable
from regulab.layers._base import assign_arrays
from regulab.training import _data, _inference, _loop
from regulab.training._step import StepSpec, penalty_value


def _move(value, device):
    if isinstance(value, (list, tuple)):
        return [t.to(device) for t in value]
    return value.to(device) if isinstance(value, torch.Tensor) else value


class Model:
    """Base class of regulab models (see :class:`regulab.models.Sequential`)."""

    def __init__(self, name: str | None = None):
        self.name = name or "model"
        self.optimizer: _optimizers.Optimizer | None = None
        self.loss: _losses.Loss | None = None
        self._metric_args: list = []
        self.jit_compile = "auto"
        self.steps_per_execution = 1
        self.precision = "float32"
        self._compiled_steps: dict = {}
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.device = resolve_device(None)

    # -- structure, defined by subclasses
    @property
    def layers(self) -> list[Layer]:
        raise NotImplementedError  # abstract

    def _forward(self, x: torch.Tensor, ctx, logits: bool = False) -> torch.Tensor:
        raise NotImplementedError  # abstract

    def _run(self, x: torch.Tensor, ctx, logits: bool = False) -> torch.Tensor:
        """``_forward`` at the model's precision; outputs are always float32."""
        if self.precision == "mixed_bfloat16":
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                out = self._forward(x, ctx, logits)
            return out.float()
        return self._forward(x, ctx, logits)

    def build(self, input_shape) -> None:
        raise NotImplementedError  # abstract

    @property
    def built(self) -> bool:
        raise NotImplementedError  # abstract

    def _output_activation(self):
        raise NotImplementedError  # abstract

    # -- weights
    @property
    def weights(self) -> list[Variable]:
        return [v for layer in self.layers for v in layer.weights]

    @property
    def trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if not v.trainable]

    def count_params(self) -> int:
        self._require_built("count_params")
        return sum(v.value.numel() for v in self.weights)

    def get_weights(self) -> list[np.ndarray]:
        """All weights as NumPy arrays, layer by layer (Keras's order)."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: Sequence) -> None:
        """Set all weights from arrays in ``get_weights``'s order (shapes are checked first)."""
        assign_arrays(self.weights, weights, f"Model '{self.name}'")

    @property
    def losses(self) -> list[torch.Tensor]:
        """The current regularization penalty of each regularized weight, as Keras's ``model.losses``."""
        return [v.regularizer(v.value) for v in self.weights if v.regularizer is not None]

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(f"Model '{self.name}' is not built yet, so `{what}` is unknown: give the first "
                             f"layer `input_shape`/`input_dim`, start with `Input(shape)`, or call "
                             f"`build(input_shape)` or `fit` first.")

    # -- compiling
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, device=None, jit_compile="auto",
                steps_per_execution: int = 1, precision: str | None = None) -> None:
        """Choose the optimizer, loss and metrics (names or objects), the device and the engine.

        Args:
            optimizer: name (``'adam'``, ``'sgd'``, ...) or an ``optimizers.Optimizer``.
            loss: name (``'binary_crossentropy'``, ``'mse'``, ...) or a ``losses.Loss``.
            metrics: list of names or ``metrics.Metric`` objects; ``'accuracy'`` picks binary,
                categorical or sparse accuracy from the loss, as Keras does.
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
        if loss is None:
            raise ValueError("Invalid value for argument `loss` of compile: expected a loss name or object, "
                             "e.g. 'binary_crossentropy'. Received: loss=None")
        optimizer = _optimizers.get(optimizer)
        owner = optimizer.owner() if optimizer.owner is not None else None
        if owner is not None and owner is not self and optimizer.state is not None:
            raise ValueError(f"The optimizer {optimizer!r} already trains model '{owner.name}' and holds its "
                             f"moments; give each model its own optimizer (e.g. optimizer='adam' or a new "
                             f"instance).")
        optimizer.owner = weakref.ref(self)
        self.optimizer = optimizer
        self.loss = _losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, _metrics.Metric)):
            metrics = [metrics]
        for m in metrics:  # resolve now so a bad name fails at compile, not at fit
            _metrics.resolve(m, self.loss.target_kind, 1)
        self._metric_args = list(metrics)
        self.to(device)
        _mixed_precision.check_device(self.precision, self.device)
        self.compiled = True

    def to(self, device=None) -> "Model":
        """Move the weights (and optimizer state) to ``device``."""
        self.device = resolve_device(device)
        for var in self.weights:
            var.value = var.value.to(self.device)
        if self.optimizer is not None and self.optimizer.state is not None:
            self.optimizer.state = {k: _move(v, self.device) for k, v in self.optimizer.state.items()}
        return self

    def _step_spec(self) -> StepSpec:
        units = self.output_shape[-1] if self.output_shape else 1
        metrics = [_metrics.resolve(m, self.loss.target_kind, units) for m in self._metric_args]
        names = [m.name for m in metrics]
        for i, name in enumerate(names):  # Keras numbers repeated names: auc, auc_1
            if names.index(name) != i:
                metrics[i].name = f"{name}_{names[:i].count(name)}"
        spec = StepSpec.build(self._run, self.loss, metrics, self.optimizer, self.weights,
                              self._output_activation())
        spec.has_activity = any(getattr(layer, "activity_regularizer", None) is not None for layer in self.layers)
        return spec

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call `compile(optimizer, loss, metrics)` on model '{self.name}' "
                               f"before `{what}`.")

    # -- data
    def _inputs(self, x, what: str) -> torch.Tensor:
        xt = _data.to_tensor(x, "x", self.device)
        if not self.built:
            self.build(tuple(xt.shape[1:]))
            self.to(self.device)
        self._check_input_shape(tuple(xt.shape[1:]))
        return xt

    def _check_input_shape(self, shape: tuple) -> None:
        self.layers[0]._check_input_shape(shape)

    def _arrays(self, x, y, sample_weight=None):
        """Checked device tensors ``(x, y, sample_weight or None, class labels or None)``."""
        xt = self._inputs(x, "fit")
        if y is None:
            raise ValueError("Argument `y` is required when `x` is an array; pass the targets.")
        _data.check_lengths(x=xt, y=_data.as_array(y, "y"),
                            sample_weight=None if sample_weight is None else _data.as_array(sample_weight, "sample_weight"))
        yt = _data.prepare_targets(y, self.loss.target_kind, tuple(self.output_shape), self.device)
        labels = _data.class_labels(yt, self.loss.target_kind)
        w = _data.check_sample_weight(xt.shape[0], sample_weight, self.device)
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

        ``mixup=alpha`` (Zhang et al., 2018) or ``cutmix=alpha`` (Yun et al., 2019) mix every
        training batch with a shuffled copy of itself, labels included, for every cross-entropy
        (integer labels are mixed through the loss); validation data is never mixed. Training
        metrics then compare predictions with each sample's dominant label.
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
        xt, yt, w, _ = self._arrays(x, y, sample_weight)
        bs = _loop._EVAL_BATCH if batch_size is None else check_int("batch_size", batch_size, low=1)
        spec = self._step_spec()
        step = _inference.eval_step(self, spec, compiled=self.jit_compile is True)
        logs = _loop.evaluate_tensors(spec, xt, yt, w, batch_size=bs, step=step)
        if _loop.resolve_verbose(verbose):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        # the list form is Keras's [loss, *metrics]; data_loss is in the dict form only
        values = [logs["loss"]] + [logs[m.name] for m in spec.metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", mc_samples: int | None = None,
                seed: int | None = None) -> np.ndarray:
        """Outputs for ``x`` in inference mode, as a NumPy array.

        Args:
            mc_samples: Monte-Carlo dropout (Gal & Ghahramani, 2016): run ``mc_samples`` passes
                with dropout and noise layers active but BatchNorm in inference mode (the common
                ``training=True`` hack also switches BatchNorm to batch statistics, which is wrong);
                returns an array of shape ``(mc_samples, n, ...)``: take ``.mean(0)`` and ``.std(0)``.
            seed: makes the Monte-Carlo passes repeatable.
        """
        xt = self._inputs(x, "predict")
        bs = _loop._EVAL_BATCH if batch_size is None else check_int("batch_size", batch_size, low=1)
        values = [v.value for v in self._indexed_variables()]
        compiled = self.jit_compile is True
        if mc_samples is None:
            step = _inference.predict_step(self, stochastic=False, compiled=compiled)
            return _loop.to_numpy(_loop.predict_tensor(step, values, xt, bs))
        k = check_int("mc_samples", mc_samples, low=1)
        base = int(torch.randint(0, 2**31 - 1, ())) if seed is None else int(seed)
        from regulab import _random
        step = _inference.predict_step(self, stochastic=True, compiled=compiled)
        outs = [_loop.predict_tensor(step, values, xt, bs, key=_random.fold_in(base, s)) for s in range(k)]
        return _loop.to_numpy(torch.stack(outs))

    def __call__(self, x, training: bool = False) -> torch.Tensor:
        """Forward pass on a batch; returns a tensor (``training=True`` uses batch statistics and
        dropout, without updating moving averages)."""
        from regulab.layers import CallContext

        xt = self._inputs(x, "__call__")
        ctx = CallContext([v.value for v in self._indexed_variables()], training=training)
        return self._run(xt, ctx, False)

    def _indexed_variables(self) -> list[Variable]:
        """Variables in the order the step passes them (trainable first), indices assigned."""
        variables = [v for v in self.weights if v.trainable] + [v for v in self.weights if not v.trainable]
        for i, v in enumerate(variables):
            v.index = i
        return variables

    # -- reporting and saving
    def summary(self, print_fn=None) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        from regulab.models._summary import print_summary

        print_summary(self, print_fn)

    def save(self, filepath) -> None:
        """Save architecture, compile settings and weights to one file (a zip of JSON and
        safetensors; loading it never unpickles or executes anything)."""
        from regulab.models._saving import save_model

        save_model(self, filepath)

    def save_weights(self, filepath) -> None:
        """Save the weights alone as a safetensors file."""
        from regulab.models._saving import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        from regulab.models._saving import load_weights

        load_weights(self, filepath)

    def penalty(self) -> float:
        """Current total regularization penalty (what the reported loss adds to the data loss)."""
        spec = self._step_spec()
        return float(penalty_value(spec, [v.value for v in spec.trainable], [v.value for v in spec.buffers]))
