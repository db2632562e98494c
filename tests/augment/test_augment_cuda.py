"""The same augmentation on CUDA as on CPU (skipped where no GPU is present)."""
import numpy as np
import pytest
import torch

from regulab.augment import MODES, ImageAugmenter, Sampler, affine_transform, cutmix, mixup
from regulab.layers import RandomCrop, RandomRotation, RandomShift
from regulab.preprocessing.image import ImageDataGenerator

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

SEED_EXAMPLE = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                    shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", [0, 1])
def test_resampling_matches_cpu(mode, order):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((4, 9, 11, 3)))
    m = torch.from_numpy(np.concatenate([rng.normal(size=(4, 2, 2)),
                                         rng.normal(size=(4, 2, 1)) * 3], 2))
    cpu = affine_transform(x, m, mode=mode, cval=0.5, order=order)
    gpu = affine_transform(x.cuda(), m.cuda(), mode=mode, cval=0.5, order=order)
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-9, atol=1e-9)


def test_key_draws_are_the_same_on_both_devices():
    aug = ImageAugmenter(**SEED_EXAMPLE, channel_shift_range=5)
    cpu = aug.draw(64, 32, 32, Sampler(3, "cpu"))
    gpu = aug.draw(64, 32, 32, Sampler(3, "cuda"))
    for key, value in cpu.items():
        if isinstance(value, torch.Tensor):
            assert gpu[key].device.type == "cuda"
            torch.testing.assert_close(gpu[key].cpu(), value)


def test_flow_on_cuda_gives_the_cpu_batches():
    x = np.random.default_rng(0).random((40, 16, 16, 3)).astype("float32")
    y = np.arange(40)
    gen = ImageDataGenerator(**SEED_EXAMPLE)
    cpu, gpu = gen.flow(x, y, batch_size=16, seed=1), gen.flow(x, y, batch_size=16, seed=1)
    gpu.device = torch.device("cuda")
    for _ in range(4):
        (xc, yc), (xg, yg) = next(cpu), next(gpu)
        assert xg.device.type == "cuda" and yg.device.type == "cuda"
        torch.testing.assert_close(yg.cpu(), yc)
        torch.testing.assert_close(xg.cpu(), xc, rtol=1e-4, atol=1e-4)


def test_layers_and_mixing_on_cuda_match_cpu():
    x = torch.rand(8, 12, 12, 3)
    for layer in (RandomRotation(0.2), RandomCrop(8, 8)):
        layer.build_for((12, 12, 3))
        cpu = layer.call(x, layer.live_context(training=True, key=5))
        gpu = layer.call(x.cuda(), layer.live_context(training=True, key=5))
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-4)
    shift = RandomShift(0.2)
    shift.build_for((40,))
    s = torch.randn(8, 40)
    torch.testing.assert_close(shift.call(s.cuda(), shift.live_context(training=True, key=2)).cpu(),
                               shift.call(s, shift.live_context(training=True, key=2)))
    y = torch.nn.functional.one_hot(torch.arange(8) % 4, 4).float()
    for mix in (mixup, cutmix):
        xc, yc = mix(x, y, source=4)
        xg, yg = mix(x.cuda(), y.cuda(), source=4)
        torch.testing.assert_close(xg.cpu(), xc, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(yg.cpu(), yc, rtol=1e-5, atol=1e-5)
