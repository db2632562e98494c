"""5.4.3: an EarlyStopping on the validation loss, passed to a validated fit, that stopped it and
restored the best epoch's weights."""
from regulab.callbacks import EarlyStopping

SETTINGS = "EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)"


def _passed(run, stopper) -> bool:
    if run.fits is not None:
        return any(any(c is stopper for c in call.callbacks) for call in run.fits_of(run.model))
    return stopper.model is run.model  # in a notebook: fit gave the callback its model


def check(run):
    stoppers = run.values_of_type(EarlyStopping)
    # the one fit received, even when built inline in the call: that is the one that acted
    used = [c for call in run.fits_of(run.model) for c in call.callbacks if isinstance(c, EarlyStopping)]
    used += [s for s in stoppers.values() if run.fits is None and s.model is run.model]
    if not stoppers and not used:
        yield f"no EarlyStopping is built; the task asks for early_stopping = {SETTINGS}"
        return
    if used:
        stopper = used[-1]
        name = next((n for n, s in stoppers.items() if s is stopper), "the EarlyStopping")
    else:
        name, stopper = next(iter(stoppers.items()))
    if run.fits is not None and not run.fits_of(run.model):
        yield "model.fit is never called; train with model.fit(X_train, y_train, validation_split=0.2, " \
              f"epochs=100, callbacks=[{name}])"
        return
    if not _passed(run, stopper):
        yield f"{name} is built but not passed to model.fit; add callbacks=[{name}]"
        return
    if stopper.monitor != "val_loss":
        yield f"{name} monitors {stopper.monitor!r}; the task asks for monitor='val_loss'"
    if not stopper.restore_best_weights:
        yield (f"{name} has restore_best_weights=False, so the model keeps its last epoch's weights, not its "
               "best; set restore_best_weights=True")
    if run.fits is None:  # a notebook: the callback and the model's History remember the fit
        ran = len(getattr(run.model.history, "history", {}).get("loss", []))
        if stopper.stopped_epoch == 0:
            yield (f"{name} never stopped the fit ({ran} epochs ran); train with epochs=100 so that it can stop "
                   "once val_loss stops falling")
        return
    if run.fits is not None:
        call = run.fits_of(run.model)[-1]
        if not call.arguments.get("validation_split") and call.arguments.get("validation_data") is None:
            yield "the fit has no validation data, so val_loss does not exist; pass validation_split=0.2"
            return
        ran = len(call.history.history.get("loss", []))
        asked = call.arguments.get("epochs", 1)
        if ran >= asked and asked < 50:
            yield (f"the fit asks for only {asked} epochs, too few for early stopping to act; ask for epochs=100 "
                   "and let it stop when val_loss stops falling")
        elif ran >= asked:
            yield (f"the fit ran all {ran} epochs: early stopping never stopped it; with patience={stopper.patience} "
                   "and 100 epochs it should stop once val_loss stops falling")
