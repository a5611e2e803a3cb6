"""Background tasks of the radar. Tasks take ids, never model instances, and call services."""

from __future__ import annotations

from django_tasks import task


@task()
def classify_feed() -> dict[str, object]:
    """Classify the captured items the radar has not read yet (signal-started and periodic)."""
    from narvaro.radar.services import classify_feed as classify

    return {"read": classify()}


@task()
def model_train(force: bool = False) -> dict[str, object]:
    """Retrain the classifier when labels were added since the last training (or `force`)."""
    from narvaro.radar.services import model_train as train

    version = train(force=force)
    if version is None:
        return {"trained": False}
    return {
        "trained": True,
        "version": version.pk,
        "status": version.status,
        "active": version.active,
        "model_f1": version.model_f1,
        "rules_f1": version.rules_f1,
    }


@task()
def radar_evaluate() -> dict[str, object]:
    """Look for improbable rises in volume or critique and raise (or continue) alerts."""
    from narvaro.radar.services import radar_evaluate as evaluate

    alerts = evaluate()
    return {"alerts": [alert.pk for alert in alerts]}
