import dagster as dg

landing_batches = dg.DynamicPartitionsDefinition(name="landing_batches")
"""One partition per landing file; the new-batch sensor adds them."""
