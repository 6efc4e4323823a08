from django.urls import path
from rows.views import ReadingCreateView

urlpatterns = [path("readings/", ReadingCreateView.as_view())]
