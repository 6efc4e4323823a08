"""URLs of API v1 (mounted at /api/v1/)."""

from rest_framework.routers import DefaultRouter

from .views import FlagViewSet, IntakeViewSet, PatientViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("patients", PatientViewSet, basename="patient")
router.register("intakes", IntakeViewSet, basename="intake")
router.register("flags", FlagViewSet, basename="flag")

urlpatterns = router.urls
