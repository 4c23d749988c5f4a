"""Sensors: new landing batches → ingest; drift on de-identified batches → retraining; failed runs → alerts;
consent revocations → exclusion, flags, report and retraining; served traffic → alerts (and optionally
retraining)."""

from sensors.alerts import run_failure_alert_sensor
from sensors.consent import consent_revocation_sensor
from sensors.drift import drift_sensor
from sensors.new_batch import new_batch_sensor
from sensors.serving_monitor import serving_monitor_sensor

__all__ = [
    "consent_revocation_sensor",
    "drift_sensor",
    "new_batch_sensor",
    "run_failure_alert_sensor",
    "serving_monitor_sensor",
]
