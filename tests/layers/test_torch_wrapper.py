"""TorchModuleWrapper: a torch.nn.Module as a layer, against the module itself."""
import re

import numpy as np
import pytest
import torch
from torch import nn

import regulab
from regulab.layers import Dense, Flatten, Input, TorchModuleWrapper
from regulab.models import Model, Sequential


def _backbone():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2),
                         nn.BatchNorm2d(4), nn.ReLU())


def _images(n=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 9, 9, generator=g)


def test_weights_and_buffers_become_variables():
    module = _backbone()
    layer = TorchModuleWrapper(module)
    layer(_images(2))
    n_params = sum(p.numel() for p in module.parameters())
    n_stats = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    assert layer.count_params() == n_params + n_stats
    assert sum(v.value.numel() for v in layer.trainable_weights) == n_params
    assert sorted(v.short_name for v in layer.non_trainable_weights) == [
        "1.running_mean", "1.running_var", "4.running_mean", "4.running_var"]


@pytest.mark.parametrize("training", [False, True])
def test_outputs_equal_the_module_in_training_and_inference(training):
    module = _backbone()
    reference = _backbone()  # same seed, same weights
    reference.train(training)
    x = _images()
    layer = TorchModuleWrapper(module)
    layer(x[:1])
    ctx = layer.live_context(training=training)
    out = layer.call(x, ctx)
    with torch.no_grad():
        torch.testing.assert_close(out, reference(x), rtol=1e-5, atol=1e-6)
    if training:  # running statistics are reported as updates, equal to the module's own
        assert set(ctx.updates) == {"1.running_mean", "1.running_var", "4.running_mean", "4.running_var"}
        torch.testing.assert_close(ctx.updates["1.running_mean"], reference[1].running_mean)
        torch.testing.assert_close(ctx.updates["4.running_var"], reference[4].running_var)
    # the wrapped module itself is left as it was
    torch.testing.assert_close(module[1].running_mean, torch.zeros(8))


def test_channels_last_input_for_an_nchw_module():
    module = _backbone().eval()
    x = _images()
    layer = TorchModuleWrapper(module, channels_last_input=True)
    out = layer(x.permute(0, 2, 3, 1))
    with torch.no_grad():
        torch.testing.assert_close(out, module(x).permute(0, 2, 3, 1), rtol=1e-5, atol=1e-6)
    assert layer.output_shape == (4, 4, 4)


def test_frozen_backbone_and_a_trained_head():
    # transfer learning: the frozen module's weights and running statistics stay bit-identical
    regulab.set_random_seed(0)
    backbone = TorchModuleWrapper(_backbone(), channels_last_input=True, name="backbone")
    x = Input((9, 9, 3))
    model = Model(x, Dense(1, activation="sigmoid")(Flatten()(backbone(x))))
    model.compile("adam", "binary_crossentropy")
    data = _images(32).permute(0, 2, 3, 1).numpy()
    labels = (data.mean((1, 2, 3)) > 0).astype("float32")
    model.fit(data, labels, epochs=1, verbose=0, seed=0)  # trains everything, statistics move
    backbone.trainable = False
    frozen = [v.numpy() for v in backbone.weights]
    head = model.layers[-1]
    head_before = head.get_weights()
    model.fit(data, labels, epochs=3, verbose=0, seed=1)
    for before, v in zip(frozen, backbone.weights):
        np.testing.assert_array_equal(before, v.numpy())
    assert any(not np.array_equal(a, b) for a, b in zip(head_before, head.get_weights()))
    # and its outputs are the eval-mode module's on the current weights
    out = model.predict(data[:4], verbose=0)
    assert out.shape == (4, 1)


def test_the_statistics_train_when_not_frozen():
    regulab.set_random_seed(0)
    backbone = TorchModuleWrapper(_backbone(), channels_last_input=True)
    model = Sequential([Input((9, 9, 3)), backbone, Flatten(), Dense(1)])
    model.compile("sgd", "mse")
    data = _images(16).permute(0, 2, 3, 1).numpy() + 3.0
    model.fit(data, np.zeros(16), epochs=1, verbose=0)
    mean = next(v for v in backbone.weights if v.short_name == "1.running_mean")
    assert float(mean.value.abs().sum()) > 0


def test_a_linear_module_trains_exactly_like_dense():
    torch.manual_seed(0)
    lin = nn.Linear(4, 2)
    wrapped = Sequential([Input((4,)), TorchModuleWrapper(lin)])
    dense = Sequential([Input((4,)), Dense(2)])
    dense.set_weights([lin.weight.detach().T.numpy(), lin.bias.detach().numpy()])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = x @ rng.standard_normal((4, 2)).astype("float32")
    for model in (wrapped, dense):
        model.compile(regulab.optimizers.Adam(0.05), "mse")
        model.fit(x, y, epochs=5, verbose=0, seed=0)
    weight, bias = wrapped.get_weights()
    kernel, dbias = dense.get_weights()
    np.testing.assert_allclose(weight.T, kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, dbias, rtol=1e-5, atol=1e-6)


def test_not_a_module_is_refused():
    with pytest.raises(TypeError, match=re.escape(
            "Invalid value for argument `module` of TorchModuleWrapper: expected a torch.nn.Module. "
            "Received: function:")):
        TorchModuleWrapper(lambda x: x)


def test_saving_a_model_with_a_torch_module_explains_the_way(tmp_path):
    model = Sequential([Input((4,)), TorchModuleWrapper(nn.Linear(4, 2), name="lin")])
    with pytest.raises(ValueError, match=re.escape("Cannot save TorchModuleWrapper 'lin' as a model file")):
        model.save(tmp_path / "m.regulab")
    model.save_weights(tmp_path / "w.safetensors")
    again = Sequential([Input((4,)), TorchModuleWrapper(nn.Linear(4, 2), name="lin")])
    again.load_weights(tmp_path / "w.safetensors")
    x = np.random.rand(3, 4).astype("float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_module_holds_the_trained_weights_when_read():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6))
    layer = TorchModuleWrapper(module)
    model = Sequential([Input((4,)), layer, Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.random.rand(64, 4).astype("float32") * 3 + 2, np.random.rand(64, 1), epochs=2, verbose=0)
    trained = layer.module
    assert trained is module
    weight = next(v for v in layer.weights if v.short_name == "0.weight")
    torch.testing.assert_close(trained[0].weight.detach(), weight.value)
    assert float(trained[1].running_mean.abs().sum()) > 0
    x = torch.rand(5, 4)
    with torch.no_grad():
        torch.testing.assert_close(trained.eval()(x), layer(x))
