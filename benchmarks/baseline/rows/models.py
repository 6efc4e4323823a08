"""One table: a reading with a name, a small integer and a note."""

from django.db import models


class Reading(models.Model):
    name = models.CharField(max_length=100)
    value = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
