"""6.2.1: a trained regulab model copied into the equivalent torch.nn.Sequential, checked by comparing
the two networks' outputs on the held-out digits."""
import numpy as np
import torch

TOLERANCE = 1e-4


def check(run):
    model, torch_model = run.model, run.namespace["torch_model"]
    if not isinstance(torch_model, torch.nn.Module):
        yield (f"`torch_model` is a {type(torch_model).__name__}, not a torch.nn.Module; build it with "
               "torch.nn.Sequential(...)")
        return
    x = np.asarray(run.data["X_test"], dtype=np.float32)
    expected = np.asarray(model.predict(x, verbose=0))
    try:
        with torch.no_grad():
            got = torch_model(torch.tensor(x)).detach().cpu().numpy()
    except Exception as error:  # noqa: BLE001 - the learner's module does not take the images
        yield (f"torch_model cannot take the images of shape {x.shape[1:]} ({type(error).__name__}: {error}); "
               "start it with torch.nn.Flatten()")
        return
    if got.shape != expected.shape:
        yield (f"torch_model outputs shape {got.shape[1:]}, model outputs {expected.shape[1:]}; end it with "
               "Linear(32, 10) and Softmax(dim=1)")
        return
    difference = float(np.abs(got - expected).max())
    if difference <= TOLERANCE:
        return
    linears = [m for m in torch_model.modules() if isinstance(m, torch.nn.Linear)]
    dense = [v for v in model.weights if v.short_name == "kernel"]
    copied = all(torch.allclose(l.weight.detach(), d.value.detach().T) for l, d in zip(linears, dense)) \
        if len(linears) == len(dense) else False
    if not copied:
        yield (f"torch_model's outputs differ from model.predict's by up to {difference:.3g}: its Linear weights are "
               "not the trained Dense kernels; copy each kernel transposed "
               "(linear.weight.copy_(torch.tensor(kernel.T))), since a Dense kernel is (inputs, units) and a "
               "Linear weight (units, inputs)")
        return
    yield (f"torch_model's outputs differ from model.predict's by up to {difference:.3g} although the kernels match: "
           "copy the biases too (linear.bias.copy_(torch.tensor(bias))) and keep the ReLU between the Linear layers")
