"""run_failure_alert_sensor: every failed run of this code location becomes an on-call alert.

The alert names the job, the run id, the failed step keys and the error class names. Never the error
message: an exception raised while handling a note can quote the note's text.
"""

import dagster as dg

from resources import Alerting


def failure_fields(
    job_name: str, run_id: str, step_failures: list[dg.DagsterEvent], run_error_class: str | None
) -> dict:
    """Alert fields of a failed run (identifiers and class names only).

    :param job_name: the failed run's job.
    :param run_id: the failed run's id.
    :param step_failures: its STEP_FAILURE events.
    :param run_error_class: class name of the run-level error, used when no step failed.
    """
    step_keys = sorted({e.step_key for e in step_failures if e.step_key})
    classes = []
    for event in step_failures:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None and error.cause is not None and error.cls_name.startswith("Dagster"):
            # Dagster wraps user exceptions; the class on call is the innermost one.
            error = error.cause
        if error is not None:
            classes.append(error.cls_name)
    if run_error_class and not classes:
        classes.append(run_error_class)
    return {
        "job": job_name,
        "run_id": run_id,
        "step_keys": step_keys or ["(run-level failure)"],
        "error_class": sorted(set(classes)) or ["unknown"],
    }


def failure_summary(fields: dict) -> str:
    return (
        f"run of {fields['job']} failed: {fields['run_id']} "
        f"(steps {', '.join(fields['step_keys'])}; {', '.join(fields['error_class'])})"
    )


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Alerts on-call (webhook or alerts.log) on every failed run: job, run id, failed steps, error class.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, alerting: Alerting) -> None:
    run = context.dagster_run
    run_error = getattr(context.failure_event.event_specific_data, "error", None)
    fields = failure_fields(
        run.job_name,
        run.run_id,
        context.get_step_failure_events(),
        run_error.cls_name if run_error is not None else None,
    )
    delivery = alerting.send("run.failed", failure_summary(fields), fields)
    context.log.info(f"alert run.failed for {run.run_id} delivered by {delivery}")
