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
    if not stoppers:
        yield f"no EarlyStopping is built; the task asks for early_stopping = {SETTINGS}"
        return
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
    if run.fits is not None:
        call = run.fits_of(run.model)[-1]
        if not call.arguments.get("validation_split") and call.arguments.get("validation_data") is None:
            yield "the fit has no validation data, so val_loss does not exist; pass validation_split=0.2"
            return
        ran = len(call.history.history.get("loss", []))
        if ran >= call.arguments.get("epochs", 1):
            yield (f"the fit ran all {ran} epochs: early stopping never stopped it; with patience={stopper.patience} "
                   "and 100 epochs it should stop once val_loss stops falling")
