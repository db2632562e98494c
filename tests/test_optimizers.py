"""Optimizers against torch.optim and NumPy transcriptions of Keras 3's update formulas."""
import copy
import inspect
import math
import re

import numpy as np
import pytest
import torch

from regulab import optimizers

SHAPES = [(3, 4), (5,)]
STEPS = 5


def _init_params():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _grad_sequence():
    rng = np.random.default_rng(1)
    return [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]


def _run(opt, scalar_tensors, params0=None, grads_seq=None):
    params = [torch.tensor(p) for p in (_init_params() if params0 is None else params0)]
    state = opt.init_state(params, scalar_tensors=scalar_tensors)
    for gs in (_grad_sequence() if grads_seq is None else grads_seq):
        params, state = opt.update(params, [torch.tensor(g) for g in gs], state)
    return [p.numpy() for p in params], state


def _run_torch(cls, **kwargs):
    params = [torch.tensor(p, requires_grad=True) for p in _init_params()]
    opt = cls(params, **kwargs)
    for gs in _grad_sequence():
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


# -- NumPy transcriptions of keras/src/optimizers/*.py `update_step`, in float64 ------------------

def _np_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    params = [p.astype(np.float64) for p in _init_params()]
    vel = [np.zeros_like(p) for p in params]
    for gs in _grad_sequence():
        for i, g in enumerate(gs):
            params[i] -= lr * weight_decay * params[i]
            if momentum:
                vel[i] = momentum * vel[i] - lr * g
                params[i] += momentum * vel[i] - lr * g if nesterov else vel[i]
            else:
                params[i] -= lr * g
    return params


def _np_adam(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
    params = [p.astype(np.float64) for p in _init_params()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, gs in enumerate(_grad_sequence(), start=1):
        alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for i, g in enumerate(gs):
            params[i] -= lr * weight_decay * params[i]
            m[i] += (g - m[i]) * (1 - beta_1)
            v[i] += (g * g - v[i]) * (1 - beta_2)
            params[i] -= alpha * m[i] / (np.sqrt(v[i]) + epsilon)
    return params, v


def _np_rmsprop(lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    params = [p.astype(np.float64) for p in _init_params()]
    vel = [np.zeros_like(p) for p in params]
    avg = [np.zeros_like(p) for p in params]
    mom = [np.zeros_like(p) for p in params]
    for gs in _grad_sequence():
        for i, g in enumerate(gs):
            vel[i] = rho * vel[i] + (1 - rho) * g * g
            if centered:
                avg[i] = rho * avg[i] + (1 - rho) * g
                denominator = vel[i] - avg[i] ** 2 + epsilon
            else:
                denominator = vel[i] + epsilon
            increment = lr * g / np.sqrt(denominator)
            if momentum > 0:
                mom[i] = momentum * mom[i] + increment
                params[i] -= mom[i]
            else:
                params[i] -= increment
    return params


def _np_adagrad(lr, initial_accumulator_value=0.1, epsilon=1e-7):
    params = [p.astype(np.float64) for p in _init_params()]
    acc = [np.full_like(p, initial_accumulator_value) for p in params]
    for gs in _grad_sequence():
        for i, g in enumerate(gs):
            acc[i] += g * g
            params[i] -= lr * g / np.sqrt(acc[i] + epsilon)
    return params, acc


def _assert_params_close(got, expected, rtol=1e-5, atol=1e-6):
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


scalar_kinds = pytest.mark.parametrize("scalar_tensors", [False, True], ids=["python", "tensor"])


# -- against torch.optim -----------------------------------------------------------------------

@scalar_kinds
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_torch(scalar_tensors, momentum, nesterov):
    got, _ = _run(optimizers.SGD(0.1, momentum=momentum, nesterov=nesterov), scalar_tensors)
    ref = _run_torch(torch.optim.SGD, lr=0.1, momentum=momentum, nesterov=nesterov)
    _assert_params_close(got, ref)


# With epsilon=0 the placement of epsilon no longer matters and torch's formulas are Keras's.
@scalar_kinds
@pytest.mark.parametrize("make, cls, kwargs", [
    (lambda: optimizers.Adam(0.01, epsilon=0.0), torch.optim.Adam, {"lr": 0.01, "eps": 0.0}),
    (lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=0.0), torch.optim.AdamW,
     {"lr": 0.01, "eps": 0.0, "weight_decay": 0.1}),
    (lambda: optimizers.RMSprop(0.01, epsilon=0.0), torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 0.0}),
    (lambda: optimizers.RMSprop(0.01, epsilon=0.0, centered=True, momentum=0.5), torch.optim.RMSprop,
     {"lr": 0.01, "alpha": 0.9, "eps": 0.0, "centered": True, "momentum": 0.5}),
    (lambda: optimizers.Adagrad(0.1, epsilon=0.0), torch.optim.Adagrad,
     {"lr": 0.1, "eps": 0.0, "initial_accumulator_value": 0.1}),
], ids=["adam", "adamw", "rmsprop", "rmsprop-centered-momentum", "adagrad"])
def test_epsilon_free_updates_match_torch(scalar_tensors, make, cls, kwargs):
    got, _ = _run(make(), scalar_tensors)
    _assert_params_close(got, _run_torch(cls, **kwargs))


# -- against Keras's formulas, with an epsilon large enough that its placement shows -----------

@scalar_kinds
@pytest.mark.parametrize("epsilon", [1e-7, 0.5])
def test_adam_matches_keras_formula(scalar_tensors, epsilon):
    got, state = _run(optimizers.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=epsilon), scalar_tensors)
    ref, _ = _np_adam(0.01, 0.8, 0.99, epsilon)
    _assert_params_close(got, ref)
    assert float(state["t"]) == STEPS


@scalar_kinds
def test_adamw_decays_before_the_adam_update(scalar_tensors):
    got, _ = _run(optimizers.AdamW(0.05, weight_decay=0.5, epsilon=0.5), scalar_tensors)
    ref, _ = _np_adam(0.05, epsilon=0.5, weight_decay=0.5)
    _assert_params_close(got, ref)


@scalar_kinds
def test_sgd_weight_decay_is_decoupled(scalar_tensors):
    got, _ = _run(optimizers.SGD(0.1, momentum=0.9, weight_decay=0.3), scalar_tensors)
    _assert_params_close(got, _np_sgd(0.1, momentum=0.9, weight_decay=0.3))


@scalar_kinds
@pytest.mark.parametrize("momentum, centered", [(0.0, False), (0.0, True), (0.7, False), (0.7, True)])
def test_rmsprop_matches_keras_formula(scalar_tensors, momentum, centered):
    opt = optimizers.RMSprop(0.01, rho=0.8, momentum=momentum, epsilon=0.5, centered=centered)
    got, _ = _run(opt, scalar_tensors)
    _assert_params_close(got, _np_rmsprop(0.01, 0.8, momentum, 0.5, centered))


@scalar_kinds
@pytest.mark.parametrize("epsilon", [1e-7, 0.5])
def test_adagrad_matches_keras_formula(scalar_tensors, epsilon):
    got, state = _run(optimizers.Adagrad(0.1, epsilon=epsilon), scalar_tensors)
    ref, acc = _np_adagrad(0.1, 0.1, epsilon)
    _assert_params_close(got, ref)
    for a, e in zip(state["accumulator"], acc):
        np.testing.assert_allclose(a.numpy(), e, rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda: optimizers.Adam(0.01, epsilon=0.5),
    lambda: optimizers.AdamW(0.01),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adagrad(0.1),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_python_and_tensor_scalars_give_the_same_numbers(make):
    eager, eager_state = _run(make(), scalar_tensors=False)
    compiled, compiled_state = _run(make(), scalar_tensors=True)
    _assert_params_close(eager, compiled, rtol=1e-6, atol=5e-7)  # float32 vs float64 scalars
    assert isinstance(eager_state["t"], int) and isinstance(compiled_state["lr"], torch.Tensor)
    assert compiled_state["lr"].dim() == 0 and float(compiled_state["t"]) == eager_state["t"] == STEPS


@scalar_kinds
@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1),
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda: optimizers.Adam(0.01),
    lambda: optimizers.AdamW(0.01),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adagrad(0.1),
], ids=["sgd", "sgd-nesterov-decay", "adam", "adamw", "rmsprop", "adagrad"])
def test_apply_leaves_its_inputs_unchanged(scalar_tensors, make):
    opt = make()
    params = [torch.tensor(p) for p in _init_params()]
    grads = [torch.tensor(g) for g in _grad_sequence()[0]]
    state = opt.init_state(params, scalar_tensors=scalar_tensors)
    params, state = opt.update(params, grads, state)  # non-zero slots for the step under test
    before = copy.deepcopy((params, grads, state))
    new_params, new_state = opt.update(params, grads, state)
    after = (params, grads, state)
    for b, a in zip([*before[0], *before[1]], [*after[0], *after[1]]):
        assert torch.equal(b, a)
    assert before[2].keys() == after[2].keys()
    for key in before[2]:
        b, a = before[2][key], after[2][key]
        if isinstance(b, (list, tuple)):
            assert all(torch.equal(x, y) for x, y in zip(b, a))
        else:
            assert float(b) == float(a)
    assert not all(torch.equal(n, p) for n, p in zip(new_params, params))
    assert float(new_state["t"]) == 2


@scalar_kinds
def test_adam_step_size_is_alpha_over_sqrt_v_plus_eps(scalar_tensors):
    opt = optimizers.Adam(0.01, epsilon=0.1)
    _, state = _run(opt, scalar_tensors)
    _, v = _np_adam(0.01, epsilon=0.1)
    alpha = 0.01 * math.sqrt(1 - 0.999 ** STEPS) / (1 - 0.9 ** STEPS)
    for i in range(len(SHAPES)):
        got = torch.as_tensor(opt.step_size(state, i)).numpy()
        np.testing.assert_allclose(got, alpha / (np.sqrt(v[i]) + 0.1), rtol=1e-5)


def test_adagrad_and_rmsprop_step_sizes_use_epsilon_inside_the_root():
    adagrad = optimizers.Adagrad(0.1, epsilon=0.5)
    _, state = _run(adagrad, False)
    _, acc = _np_adagrad(0.1, 0.1, 0.5)
    np.testing.assert_allclose(adagrad.step_size(state, 1).numpy(), 0.1 / np.sqrt(acc[1] + 0.5), rtol=1e-5)

    rms = optimizers.RMSprop(0.01, epsilon=0.5)
    _, state = _run(rms, False)
    vel = sum((0.1 * 0.9 ** (STEPS - 1 - k)) * g[0].astype(np.float64) ** 2
              for k, g in enumerate(_grad_sequence()))
    np.testing.assert_allclose(rms.step_size(state, 0).numpy(), 0.01 / np.sqrt(vel + 0.5), rtol=1e-5)


def test_sgd_step_size_is_the_learning_rate():
    opt = optimizers.SGD(0.3)
    _, state = _run(opt, False)
    assert opt.step_size(state, 0) == 0.3


# -- learning rate ------------------------------------------------------------------------------

def test_learning_rate_set_before_build_is_used():
    opt = optimizers.SGD()
    opt.learning_rate = 0.5
    got, _ = _run(opt, False, grads_seq=_grad_sequence()[:1])
    _assert_params_close(got, [p - 0.5 * g for p, g in zip(_init_params(), _grad_sequence()[0])])


def test_learning_rate_set_on_a_tensor_learning_rate_stays_a_tensor():
    # a compiled fit leaves the learning rate as a 0-d tensor; setting it must not turn it into
    # a Python number (the compiled step would change)
    opt = optimizers.SGD(0.01)
    opt._learning_rate = torch.tensor(0.01)
    opt.learning_rate = 0.5
    assert isinstance(opt._learning_rate, torch.Tensor) and opt.learning_rate == 0.5


def _variables():
    from regulab.layers import Variable

    return [Variable(f"w{i}", torch.tensor(p), True) for i, p in enumerate(_init_params())]


def test_keras_style_apply_updates_variables_and_counts_iterations():
    # optimizer.apply(grads, variables), as a custom train_step calls it, equals the pure update
    opt, ref = optimizers.Adam(0.01), optimizers.Adam(0.01)
    variables = _variables()
    assert opt.iterations == 0
    for gs in _grad_sequence():
        opt.apply([torch.tensor(g) for g in gs], variables)
    expected, _ = _run(ref, False)
    _assert_params_close([v.numpy() for v in variables], expected)
    assert opt.iterations == STEPS
    assert set(opt.slots[variables[0]]) == {"m", "v"}


def test_apply_skips_variables_without_gradient():
    opt = optimizers.SGD(0.5)
    variables = _variables()
    before = variables[1].numpy()
    opt.apply([torch.ones(SHAPES[0]), None], variables)
    np.testing.assert_array_equal(variables[1].numpy(), before)
    np.testing.assert_allclose(variables[0].numpy(), _init_params()[0] - 0.5)


def test_apply_checks_the_number_of_gradients():
    with pytest.raises(ValueError, match=re.escape(f"optimizer.apply received 1 gradients for {len(SHAPES)} variables.")):
        optimizers.SGD().apply([torch.ones(1)], _variables())


def test_zero_learning_rate_is_accepted_and_changes_nothing():
    opt = optimizers.SGD(learning_rate=0.0)
    variables = _variables()
    opt.apply([torch.ones(s) for s in SHAPES], variables)
    _assert_params_close([v.numpy() for v in variables], _init_params())


@pytest.mark.parametrize("cls, lr", [(optimizers.SGD, 0.01), (optimizers.Adam, 0.001), (optimizers.AdamW, 0.001),
                                     (optimizers.RMSprop, 0.001), (optimizers.Adagrad, 0.001)])
def test_default_learning_rates_match_keras(cls, lr):
    assert cls().learning_rate == lr


def test_other_defaults_match_keras():
    assert optimizers.Adam().get_config() == {"learning_rate": 0.001, "weight_decay": None, "beta_1": 0.9,
                                              "beta_2": 0.999, "epsilon": 1e-7}
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.RMSprop().get_config() == {"learning_rate": 0.001, "weight_decay": None, "rho": 0.9,
                                                 "momentum": 0.0, "epsilon": 1e-7, "centered": False}
    assert optimizers.Adagrad().get_config() == {"learning_rate": 0.001, "weight_decay": None,
                                                 "initial_accumulator_value": 0.1, "epsilon": 1e-7}
    assert optimizers.SGD().get_config() == {"learning_rate": 0.01, "weight_decay": None, "momentum": 0.0,
                                             "nesterov": False}


# -- names, configs, errors ----------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [("adam", optimizers.Adam), ("ADAM", optimizers.Adam),
                                       ("sgd", optimizers.SGD), ("adamw", optimizers.AdamW),
                                       ("rmsprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_returns_an_instance_unchanged():
    opt = optimizers.SGD(0.2)
    assert optimizers.get(opt) is opt


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown optimizer 'adm'. Did you mean 'adam'? Known optimizers: adagrad, adam, adamw, rmsprop, sgd.")):
        optimizers.get("adm")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=re.escape("An optimizer must be a name or an Optimizer instance. Received: 3")):
        optimizers.get(3)


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.SGD(learning_rate=-0.1),
     "Invalid value for argument `learning_rate` of SGD: expected a float in [0, inf). Received: learning_rate=-0.1"),
    (lambda: optimizers.Adam(learning_rate=-1),
     "Invalid value for argument `learning_rate` of Adam: expected a float in [0, inf). Received: learning_rate=-1"),
    (lambda: optimizers.Adam(learning_rate=float("inf")),
     "Invalid value for argument `learning_rate` of Adam: expected a float in [0, inf). Received: learning_rate=inf"),
    (lambda: optimizers.SGD(learning_rate="fast"),
     "Invalid value for argument `learning_rate` of SGD: expected a float in [0, inf). Received: learning_rate='fast'"),
    (lambda: optimizers.SGD(momentum=1.5),
     "Invalid value for argument `momentum` of SGD: expected a float in [0, 1]. Received: momentum=1.5"),
    (lambda: optimizers.RMSprop(momentum=-0.1),
     "Invalid value for argument `momentum` of RMSprop: expected a float in [0, 1]. Received: momentum=-0.1"),
    (lambda: optimizers.Adam(beta_1=1.0),
     "Invalid value for argument `beta_1` of Adam: expected a float in [0, 1). Received: beta_1=1.0"),
    (lambda: optimizers.AdamW(beta_2=1.2),
     "Invalid value for argument `beta_2` of AdamW: expected a float in [0, 1). Received: beta_2=1.2"),
    (lambda: optimizers.RMSprop(rho=1),
     "Invalid value for argument `rho` of RMSprop: expected a float in [0, 1). Received: rho=1"),
    (lambda: optimizers.Adam(epsilon=-1e-7),
     "Invalid value for argument `epsilon` of Adam: expected a float in [0, inf). Received: epsilon=-1e-07"),
    (lambda: optimizers.AdamW(weight_decay=-0.1),
     "Invalid value for argument `weight_decay` of AdamW: expected a float in [0, inf). Received: weight_decay=-0.1"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1),
     "Invalid value for argument `initial_accumulator_value` of Adagrad: expected a float in [0, inf). "
     "Received: initial_accumulator_value=-1"),
], ids=["sgd-lr", "adam-lr-negative", "adam-lr-inf", "lr-string", "sgd-momentum", "rmsprop-momentum", "beta_1", "beta_2",
        "rho", "epsilon", "weight_decay", "accumulator"])
def test_bad_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_learning_rate_setter_rejects_negative_values():
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `learning_rate` of SGD: expected a float in [0, inf). "
            "Received: learning_rate=-1.0")):
        opt.learning_rate = -1.0
    assert opt.learning_rate == 0.01


@pytest.mark.parametrize("opt", [
    optimizers.SGD(0.2, momentum=0.5, nesterov=True), optimizers.SGD(0.2, weight_decay=0.1),
    optimizers.Adam(0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6), optimizers.AdamW(0.01, weight_decay=0.1),
    optimizers.RMSprop(0.01, rho=0.8, momentum=0.1, epsilon=1e-6, centered=True),
    optimizers.Adagrad(0.05, initial_accumulator_value=0.2, epsilon=1e-6),
], ids=repr)
def test_config_round_trip_and_matches_constructor(opt):
    config = opt.get_config()
    assert set(config) <= set(inspect.signature(type(opt)).parameters)
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is type(opt) and restored.get_config() == config


def test_deserialize_unknown_class():
    with pytest.raises(ValueError, match=re.escape("Unknown optimizer class 'Nadam' in saved config.")):
        optimizers.deserialize({"class_name": "Nadam", "config": {}})


def test_adamw_without_decay_round_trips():
    restored = optimizers.deserialize(optimizers.serialize(optimizers.AdamW(weight_decay=None)))
    assert restored.weight_decay is None


def test_describe_and_fresh_copy_take_a_users_own_class():
    class Halved(optimizers.SGD):
        def _update(self, params, grads, state, lr, t):
            return [p - 0.5 * lr * g for p, g in zip(params, grads)], {}

    opt = Halved(0.3, momentum=0.5)
    assert optimizers.describe(optimizers.Adam())["class_name"] == "Adam"
    described = optimizers.describe(opt)
    assert described["class_name"].endswith("test_describe_and_fresh_copy_take_a_users_own_class.<locals>.Halved")
    assert described["config"] == {"learning_rate": 0.3, "weight_decay": None, "momentum": 0.5, "nesterov": False}
    copy = optimizers.fresh_copy(opt)
    assert type(copy) is Halved and copy is not opt and copy.get_config() == opt.get_config()

    class Fixed(optimizers.SGD):
        def __init__(self):
            super().__init__(0.1)

    with pytest.raises(TypeError, match=r"Cannot make a fresh copy of the optimizer Fixed\(learning_rate=0.1, .*"
                                        r"Define get_config\(\) to return the arguments of Fixed\(\.\.\.\)\."):
        optimizers.fresh_copy(Fixed())
