"""Sensors: new landing batches → ingest; drift on de-identified batches → retraining."""

from sensors.drift import drift_sensor
from sensors.new_batch import new_batch_sensor

__all__ = ["drift_sensor", "new_batch_sensor"]
