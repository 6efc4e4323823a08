"""URLs of API v1 (mounted at /api/v1/)."""

from rest_framework.routers import DefaultRouter

from .instruments import InstrumentViewSet
from .views import FlagViewSet, IntakeViewSet, PatientViewSet
from .webhooks import RestratificationJobViewSet, WebhookDeliveryViewSet, WebhookSubscriptionViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("patients", PatientViewSet, basename="patient")
router.register("intakes", IntakeViewSet, basename="intake")
router.register("flags", FlagViewSet, basename="flag")
router.register("instruments", InstrumentViewSet, basename="instrument")
# Webhooks (README, Delivery): deliveries before the subscription routes, so "deliveries" is no id.
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
router.register("restratifications", RestratificationJobViewSet, basename="restratification")

urlpatterns = router.urls
