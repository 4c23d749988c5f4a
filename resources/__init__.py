"""Dagster resources: every path, secret, endpoint and policy the assets use comes in through here."""

from resources.alerting import Alerting
from resources.artifacts import ArtifactStore, BentoStore
from resources.base_models import BaseModelRegistry
from resources.consent import ConsentRegistry
from resources.deid_policy import DeidPolicyResource
from resources.identity import PatientIdentity
from resources.landing import LandingZone
from resources.retraining import RetrainingPolicy
from resources.serving_monitor import ServingMonitor
from resources.warehouse import Warehouse

__all__ = [
    "Alerting",
    "ArtifactStore",
    "BaseModelRegistry",
    "BentoStore",
    "ConsentRegistry",
    "DeidPolicyResource",
    "LandingZone",
    "PatientIdentity",
    "RetrainingPolicy",
    "ServingMonitor",
    "Warehouse",
]
